"""The conv/pool geometry of an ONNX file, read as data: parsed, never run.

:func:`from_onnx` parses the bytes with the ``onnx`` package's protobuf classes
(``ModelProto.ParseFromString``: no operator is executed, nothing is unpickled, no external
data file is opened, weights are not needed) and walks the graph from its image input to
its outputs. Conv, MaxPool, AveragePool, LpPool, Pad and the global pools become
:class:`~pyramidviz.receptive.Layer` objects (``strides``, ``dilations``, ``pads`` and
``auto_pad`` honoured; a Pad right before a window joins it, as in a TF-"SAME" conv, and the
few constant shape ops an exporter builds ``pads`` with are folded); element-wise and
normalisation ops pass the field through; where paths meet (Add, Concat, Mul ...) the path
with the largest field is kept (Araujo et al. 2019, "Arbitrary computation graphs": the
field of a unit is the union over paths, and in the usual aligned networks the widest path
contains the others).

Anything else ends in :class:`OnnxError` (a ``ValueError``) naming what could not be read:
bytes that are no ONNX model, control flow (If, Loop, Scan), an unsupported operator,
"SAME" padding or a global pool on an input whose height and width are not fixed numbers,
or more than :data:`MAX_NODES` nodes.

A graph-only file (weights saved as external data) fits any upload cap::

    import onnx, torch
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), "net.onnx", dynamo=False)
    onnx.save_model(onnx.load("net.onnx"), "graph.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)

References
----------
.. [1] A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional Neural
   Networks", Distill, 2019. doi:10.23915/distill.00021
.. [2] ONNX operator specification, https://onnx.ai/onnx/operators/ (Conv, MaxPool, Pad).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from pyramidviz.checks import CodedError
from pyramidviz.receptive import FieldInfo, Layer

__all__ = ["MAX_NODES", "OnnxError", "from_onnx"]

MAX_NODES = 5000
"""More nodes than this are refused before the walk (ResNet-152 has about 500)."""
_MAX_INT = 100_000
_MAX_CONST = 64
_CONTROL = {"If", "Loop", "Scan", "SequenceMap"}
_POOLS = {"MaxPool", "AveragePool", "LpPool"}
_GLOBAL = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}
_HEAD = {"Flatten", "Reshape", "Gemm", "MatMul"}
_REDUCE = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceL2"}
_NO_IMAGE = {"Shape", "Size", "Constant", "ConstantOfShape"}
_PASS = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Erf", "Clip", "BatchNormalization",
    "InstanceNormalization", "LRN", "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Mean", "Max",
    "Min", "Concat", "Identity", "Dropout", "Cast", "Neg", "Abs", "Exp", "Log", "Sqrt",
    "Reciprocal", "Split", "Where", "Softmax", "LogSoftmax", "QuantizeLinear",
    "DequantizeLinear", "Not", "Equal", "Greater", "Less", "Sign", "Floor", "Ceil", "Round",
}


class OnnxError(CodedError):
    """An ONNX file that could not be read; ``code`` says why, ``detail`` what.

    Codes: ``not_onnx``, ``too_many``, ``control_flow``, ``unsupported``, ``dynamic``,
    ``bad_attribute``, ``no_input``, ``no_path``, ``order``.
    """

    CODES = ("not_onnx", "too_many", "control_flow", "unsupported", "dynamic",
             "bad_attribute", "no_input", "no_path", "order")

    def __init__(self, code: str, message: str, *, detail: str = "") -> None:
        super().__init__(message, code=code, detail=detail)


@dataclass(frozen=True)
class _Path:
    """The widest path reaching a tensor: its field, last layer, parent and spatial size."""

    field: FieldInfo
    layer: Layer | None
    parent: _Path | None
    hw: tuple[int | None, int | None]
    pad: bool = False  # the last layer is a Pad node (merged into the window after it)

    def key(self) -> tuple:
        return (self.field.global_, self.field.size[0] * self.field.size[1])

    def then(self, layer: Layer, hw: tuple[int | None, int | None]) -> _Path:
        (fh, fw), (jh, jw), (ph, pw) = self.field.size, self.field.stride, self.field.padding
        (kh, kw), (sh, sw) = layer.effective_kernel, layer.stride
        field = FieldInfo(size=(fh + (kh - 1) * jh, fw + (kw - 1) * jw),
                          stride=(jh * sh, jw * sw),
                          padding=(ph + layer.padding[0] * jh, pw + layer.padding[1] * jw),
                          global_=self.field.global_ or layer.global_pool)
        return _Path(field, layer, self, hw)


def _parse(data: bytes):
    try:
        import onnx
    except ImportError as error:  # pragma: no cover - a requirement
        raise OnnxError("not_onnx", "the onnx package is not installed") from error
    if not isinstance(data, bytes | bytearray | memoryview):
        raise OnnxError("not_onnx", f"expected the file's bytes, got {type(data).__name__}")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(bytes(data))
    except Exception as error:  # DecodeError and friends: the bytes are not a model
        raise OnnxError("not_onnx", f"not an ONNX model: the bytes are no ONNX protobuf "
                        f"({error})"[:300],
                        detail="protobuf") from None
    graph = model.graph
    if not model.HasField("graph") or not graph.node or not graph.output:
        raise OnnxError("not_onnx", "not an ONNX model: no graph with nodes and outputs",
                        detail="graph")
    return graph


def _attrs(node) -> dict[str, object]:
    out: dict[str, object] = {}
    for attr in node.attribute:
        if attr.ints:
            out[attr.name] = list(attr.ints)
        elif attr.s:
            out[attr.name] = attr.s.decode("utf-8", "replace")
        elif attr.HasField("g") or attr.graphs:
            out[attr.name] = "<graph>"
        else:
            out[attr.name] = attr.i
    return out


def _ints(node, attrs: dict, name: str, default: list[int], *, low: int) -> list[int]:
    value = attrs.get(name, default)
    if (not isinstance(value, list) or len(value) != len(default)
            or not all(low <= v <= _MAX_INT for v in value)):
        raise OnnxError("bad_attribute", f"{node.op_type} node {node.name!r}: {name}={value!r} "
                        f"is not {len(default)} numbers in {low}..{_MAX_INT} (only 2-D "
                        "images are understood)", detail=f"{node.op_type}.{name}")
    return value


def _kernel(node, attrs: dict, weights: dict) -> list[int]:
    if "kernel_shape" in attrs:
        return _ints(node, attrs, "kernel_shape", [1, 1], low=1)
    dims = weights.get(node.input[1]) if len(node.input) > 1 else None
    if dims is None or len(dims) != 4:
        raise OnnxError("bad_attribute", f"{node.op_type} node {node.name!r}: no kernel_shape "
                        "and no 4-D weight to read it from", detail=f"{node.op_type}.kernel")
    return [int(dims[2]), int(dims[3])]


def _window_layer(node, attrs: dict, weights: dict, hw, name: str):
    """The Layer of a Conv or pooling node, and its output size (None where unknown)."""
    kernel = _kernel(node, attrs, weights)
    stride = _ints(node, attrs, "strides", [1, 1], low=1)
    dilation = _ints(node, attrs, "dilations", [1, 1], low=1)
    pads = _ints(node, attrs, "pads", [0, 0, 0, 0], low=0)
    auto = str(attrs.get("auto_pad", "NOTSET"))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if None in hw:
            raise OnnxError("dynamic", f"{node.op_type} node {node.name!r} pads {auto}, which "
                            "depends on the input size, and the input's height and width are "
                            "not fixed numbers", detail=node.op_type)
        totals = [max((math.ceil(i / s) - 1) * s + k - i, 0)
                  for i, s, k in zip(hw, stride, spans, strict=True)]
        before = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in totals]
        pads = before + [t - b for t, b in zip(totals, before, strict=True)]
    elif auto == "VALID":
        pads = [0, 0, 0, 0]
    elif auto != "NOTSET":
        raise OnnxError("bad_attribute", f"{node.op_type} node {node.name!r}: auto_pad={auto!r}",
                        detail=f"{node.op_type}.auto_pad")
    ceil = bool(attrs.get("ceil_mode", 0)) and node.op_type in _POOLS
    out = tuple(None if i is None else
                ((i + pads[a] + pads[a + 2] - k + (s - 1 if ceil else 0)) // s + 1)
                for a, (i, k, s) in enumerate(zip(hw, spans, stride, strict=True)))
    return Layer(tuple(kernel), tuple(stride), (pads[0], pads[1]), tuple(dilation),
                 name=name), out


def _const_array(tensor):
    """A small int tensor's values as an int64 array, never read from an external file."""
    import numpy as np

    dims = [int(d) for d in tensor.dims]
    if tensor.data_location == 1 or math.prod(dims) > _MAX_CONST:  # 1: EXTERNAL
        return None
    if tensor.raw_data:
        dtype = {7: np.int64, 6: np.int32, 1: np.float32}.get(tensor.data_type)
        if dtype is None or len(tensor.raw_data) != np.dtype(dtype).itemsize * math.prod(dims):
            return None
        values = np.frombuffer(tensor.raw_data, dtype=dtype)
    else:
        values = np.array(list(tensor.int64_data or tensor.int32_data or tensor.float_data))
    if values.size != math.prod(dims):
        return None
    if values.dtype.kind == "f" and not np.all(np.abs(values) < 2.0**62):  # NaN, inf too
        return None
    return values.astype(np.int64).reshape(dims)


def _axes(node, attrs: dict, constants: dict, position: int) -> list[int] | None:
    if "axes" in attrs:
        return list(attrs["axes"])  # type: ignore[arg-type]
    if len(node.input) > position and node.input[position] in constants:
        return [int(a) for a in constants[node.input[position]].ravel()]
    return None


def _fold(node, attrs: dict, constants: dict) -> None:
    """Evaluate the few shape ops an exporter uses to build Pad's ``pads`` (torch's F.pad:
    ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast): small int arrays only."""
    import numpy as np

    op, args = node.op_type, [constants.get(i) for i in node.input if i]
    value = None
    if op == "Constant":
        tensors = [a.t for a in node.attribute if a.name == "value"]
        value = _const_array(tensors[0]) if tensors else None
    elif not args or any(a is None for a in args):
        return
    elif op == "ConstantOfShape" and args[0].size <= 4 and math.prod(args[0]) <= _MAX_CONST:
        fill = [_const_array(a.t) for a in node.attribute if a.name == "value"]
        value = np.full(tuple(args[0]), fill[0].ravel()[0] if fill and fill[0] is not None
                        and fill[0].size else 0, np.int64)
    elif op == "Concat":
        value = np.concatenate(args, axis=int(attrs.get("axis", 0)))
    elif op == "Reshape" and args[1].size <= 4:
        shape = [d if d != 0 else args[0].shape[i] for i, d in enumerate(args[1].tolist())]
        value = args[0].reshape(shape)
    elif op == "Slice" and len(args) >= 3:
        axes = args[3].tolist() if len(args) > 3 else list(range(len(args[1])))
        steps = args[4].tolist() if len(args) > 4 else [1] * len(axes)
        index = [slice(None)] * args[0].ndim
        for a, b, e, st in zip(axes, args[1].tolist(), args[2].tolist(), steps, strict=True):
            index[a] = slice(b, e, st)
        value = args[0][tuple(index)]
    elif op == "Transpose":
        value = np.transpose(args[0], attrs.get("perm"))
    elif op in ("Cast", "Identity"):
        value = args[0]
    elif op in ("Unsqueeze", "Squeeze"):
        axes = _axes(node, attrs, constants, 1)
        value = (np.expand_dims(args[0], axes) if op == "Unsqueeze" else
                 np.squeeze(args[0], tuple(axes) if axes else None))
    if value is not None and value.size <= _MAX_CONST and node.output:
        constants[node.output[0]] = value


def _pad_layer(node, attrs: dict, constants: dict, hw, name: str):
    mode = str(attrs.get("mode", "constant"))
    pads = attrs.get("pads")
    if pads is None and len(node.input) > 1 and node.input[1] in constants:
        pads = [int(p) for p in constants[node.input[1]].ravel()]
    if not isinstance(pads, list) or len(pads) != 8:
        raise OnnxError("dynamic", f"Pad node {node.name!r}: its pads are not 8 constant "
                        f"numbers ({mode} padding of a 4-D image)", detail="Pad")
    top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
    if min(pads) < 0 or max(pads) > _MAX_INT or pads[0] or pads[1] or pads[4] or pads[5]:
        raise OnnxError("bad_attribute", f"Pad node {node.name!r}: pads={pads!r} (only "
                        "non-negative padding of height and width is understood)",
                        detail="Pad.pads")
    out = (None if hw[0] is None else hw[0] + top + bottom,
           None if hw[1] is None else hw[1] + left + right)
    return Layer(1, 1, (top, left), 1, name=name), out


def _global_layer(hw, name: str) -> Layer:
    if None in hw:
        return Layer(1, name=name, global_pool=True)
    return Layer(tuple(hw), tuple(hw), 0, 1, name=name, global_pool=True)


def _reduces_space(node, attrs: dict, constants: dict) -> bool:
    axes = _axes(node, attrs, constants, 1)
    return axes is None or any(a in (2, 3, -1, -2) for a in axes)


def _image_input(graph, weights: dict) -> tuple[str, tuple[int | None, int | None]]:
    for value in graph.input:
        if value.name in weights:
            continue
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            hw = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                       for d in dims[2:])
            return value.name, hw  # type: ignore[return-value]
    raise OnnxError("no_input", "the graph has no 4-D image input (N, C, H, W)")


def _step(node, index: int, paths: dict, weights: dict, constants: dict) -> None:
    """Give the node's outputs the widest path through it (or none: not an image)."""
    op, name = node.op_type, node.name or f"{node.op_type}_{index}"
    if node.domain not in ("", "ai.onnx"):
        raise OnnxError("unsupported", f"node {name!r} is the custom operator "
                        f"{node.domain}.{op}", detail=op)
    if op in _CONTROL:
        raise OnnxError("control_flow", f"node {name!r} is control flow ({op}): only "
                        "fixed graphs are understood", detail=op)
    attrs = _attrs(node)
    try:
        _fold(node, attrs, constants)
    except (ValueError, TypeError, IndexError):  # a constant sub-graph we cannot fold
        pass
    inputs = [paths[i] for i in node.input if i in paths]
    if not inputs or op in _NO_IMAGE:
        return
    best = max(inputs, key=_Path.key)
    if op == "Conv" or op in _POOLS:
        layer, hw = _window_layer(node, attrs, weights, best.hw, name)
        if best.pad and best.parent is not None:  # Pad then Conv: one layer, as in torch
            before = best.layer.padding  # type: ignore[union-attr]
            padding = (layer.padding[0] + before[0], layer.padding[1] + before[1])
            layer, best = dataclasses.replace(layer, padding=padding), best.parent
        out = best.then(layer, hw)
    elif op == "Pad":
        layer, hw = _pad_layer(node, attrs, constants, best.hw, name)
        out = dataclasses.replace(best.then(layer, hw), pad=True)
    elif op in _GLOBAL or op in _HEAD or (op in _REDUCE and _reduces_space(node, attrs,
                                                                           constants)):
        out = best if best.field.global_ else best.then(_global_layer(best.hw, name), (1, 1))
    elif op in _PASS or op in _REDUCE:
        out = best
    else:
        raise OnnxError("unsupported", f"node {name!r}: the operator {op} is not understood "
                        "(convolutions, pooling, Pad and element-wise ops are)", detail=op)
    for output in node.output:
        paths[output] = out


def from_onnx(data: bytes) -> list[Layer]:
    """The conv/pool chain of an ONNX model's widest path, input to output.

    Parameters
    ----------
    data : bytes
        The ``.onnx`` file. Weights may be missing (saved as external data).

    Returns
    -------
    list of Layer
        Named after the ONNX nodes; ``receptive_field(layers)[-1]`` is the output's field.

    Raises
    ------
    OnnxError
        A ``ValueError`` whose message names what could not be read.

    Examples
    --------
    >>> from_onnx(b"")
    Traceback (most recent call last):
    ...
    pyramidviz.onnxgraph.OnnxError: not an ONNX model: no graph with nodes and outputs
    """
    graph = _parse(data)
    if len(graph.node) > MAX_NODES:
        raise OnnxError("too_many", f"the graph has {len(graph.node)} nodes; at most "
                        f"{MAX_NODES} are read", detail=str(len(graph.node)))
    weights = {t.name: list(t.dims) for t in graph.initializer}
    source, hw = _image_input(graph, weights)
    start = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))
    paths: dict[str, _Path] = {source: _Path(start, None, None, hw)}
    constants = {t.name: a for t in graph.initializer if (a := _const_array(t)) is not None}
    produced = {out: i for i, node in enumerate(graph.node) for out in node.output}
    for index, node in enumerate(graph.node):
        late = [i for i in node.input if produced.get(i, -1) >= index]
        if late:
            raise OnnxError("order", f"node {node.name or index!r} reads {late[0]!r} before it "
                            "is computed (the nodes are not in order)", detail=late[0])
        _step(node, index, paths, weights, constants)
    ends = [paths[o.name] for o in graph.output if o.name in paths]
    if not ends:
        raise OnnxError("no_path", "no output of the graph depends on its image input")
    path, layers = max(ends, key=_Path.key), []
    while path is not None and path.layer is not None:
        layers.append(path.layer)
        path = path.parent
    if not layers:
        raise OnnxError("no_path", "the graph has no convolution or pooling on its widest path")
    return layers[::-1]
