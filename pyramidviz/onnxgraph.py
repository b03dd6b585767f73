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
from pyramidviz.receptive import FieldInfo, Layer, merge, receptive_field, step

__all__ = ["MAX_NODES", "ONNX_REFUSED", "ONNX_SUPPORTED", "OnnxError", "from_onnx"]

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
_AXIS_OPS = {"Concat", "Split", "Slice", *_REDUCE}
_PASS = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Softplus", "Softsign", "Mish", "Gelu", "Erf", "Clip", "BatchNormalization",
    "InstanceNormalization", "LRN", "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Mean", "Max",
    "Min", "Concat", "Identity", "Dropout", "Cast", "Neg", "Abs", "Exp", "Log", "Sqrt",
    "Reciprocal", "Split", "Where", "Softmax", "LogSoftmax", "QuantizeLinear",
    "DequantizeLinear", "Not", "Equal", "Greater", "Less", "Sign", "Floor", "Ceil", "Round",
}


ONNX_SUPPORTED = tuple(sorted({"Conv", "Pad", "Slice", *_POOLS, *_GLOBAL, *_HEAD, *_REDUCE,
                                *_PASS}))
"""Operators read on the image's path. Conv, the pools and Pad are layers; the global pools
and the head (Flatten, Reshape, Gemm, MatMul) make the field global; the others pass it
through or, where several inputs meet, merge it per axis. Concat, Split, Slice and Reduce*
along height or width are read only where every cell still sees one field (see
:class:`OnnxError`, code ``spatial``). Small constant shape arithmetic (Shape, Gather,
Add ... on constants) is folded wherever it appears."""

ONNX_REFUSED = ("If", "Loop", "Scan", "SequenceMap", "Resize", "Upsample", "ConvTranspose",
                "MaxUnpool", "DepthToSpace", "SpaceToDepth", "Transpose", "GridSample",
                "RoiAlign", "DeformConv", "Col2Im")
"""Operators often met on an image path that are refused by name: control flow (the graph
is not fixed), and ops that resample, move or rearrange pixels (an output cell's field is
then no window with one stride). Any operator not in :data:`ONNX_SUPPORTED` is refused."""


class OnnxError(CodedError):
    """An ONNX file that could not be read; ``code`` says why, ``detail`` what.

    Codes: ``not_onnx``, ``too_many``, ``control_flow``, ``unsupported``, ``dynamic``,
    ``bad_attribute``, ``no_input``, ``no_path``, ``order``, ``empty`` (a layer leaves no
    output cell), ``misaligned`` (branches that meet see differently centred fields),
    ``spatial`` (a Concat, Split or Slice across height or width that no one field
    describes).
    """

    CODES = ("not_onnx", "too_many", "control_flow", "unsupported", "dynamic",
             "bad_attribute", "no_input", "no_path", "order", "empty", "misaligned", "spatial")

    def __init__(self, code: str, message: str, *, detail: str = "") -> None:
        super().__init__(message, code=code, detail=detail)


@dataclass(frozen=True)
class _Chain:
    """A persistent list of layers, last first (branches share their common start)."""

    layer: Layer
    parent: _Chain | None

    def layers(self) -> list[Layer]:
        out, chain = [], self
        while chain is not None:
            out.append(chain.layer)
            chain = chain.parent
        return out[::-1]


@dataclass(frozen=True)
class _Path:
    """What reaches a tensor: its field, the layer chain behind it on each axis, its size.

    ``chains[a]`` is the chain whose arithmetic gives ``field`` along axis ``a`` (the same
    chain on both axes unless branches with the largest field on different axes met).
    ``before`` is set on a Pad node's output: the path before the Pad, which a window right
    after it joins (a TF-"SAME" conv is Pad then Conv).
    """

    field: FieldInfo
    chains: tuple[_Chain | None, _Chain | None]
    hw: tuple[int | None, int | None]
    before: _Path | None = None

    def then(self, layer: Layer, hw: tuple[int | None, int | None]) -> _Path:
        (h, w) = self.chains
        chains = ((_Chain(layer, h),) * 2 if h is w else (_Chain(layer, h), _Chain(layer, w)))
        return _Path(step(self.field, layer), chains, hw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Blocked:
    """A tensor no receptive field describes: using it raises ``error``."""

    error: OnnxError


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
    if any(o is not None and o < 1 for o in out):
        raise OnnxError("empty", f"{node.op_type} node {name!r}: its {spans[0]} x {spans[1]} "
                        f"window does not fit the {hw[0]} x {hw[1]} map it reads (padded by "
                        f"{pads}): no output cell is left", detail=name)
    covers = node.op_type in _POOLS and out == (1, 1) and all(
        k - p >= i for k, p, i in zip(spans, pads[:2], hw, strict=True))
    return Layer(tuple(kernel), tuple(stride), (pads[0], pads[1]), tuple(dilation),
                 name=name, global_pool=covers), out


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
    if values.dtype.kind == "f":
        if not np.all(np.abs(values) < 2.0**62):  # NaN, inf too
            return None
        if not np.all(values == np.round(values)):
            return values.astype(np.float64).reshape(dims)  # a float scalar (shape arithmetic)
    return values.astype(np.int64).reshape(dims)


def _axes(node, attrs: dict, constants: dict, position: int) -> list[int] | None:
    if "axes" in attrs:
        return list(attrs["axes"])  # type: ignore[arg-type]
    if len(node.input) > position and node.input[position] in constants:
        return [int(a) for a in constants[node.input[position]].ravel()]
    return None


def _divide(a, b):
    """ONNX Div: true division for floats, truncation toward zero for integers."""
    import numpy as np

    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return np.true_divide(a, b)
    return np.trunc(np.true_divide(a, b)).astype(np.int64)


def _numpy(name: str):
    def apply(*args):
        import numpy as np

        return getattr(np, name)(*args)
    return apply


_ARITHMETIC = {"Add": _numpy("add"), "Sub": _numpy("subtract"), "Mul": _numpy("multiply"),
               "Div": _divide, "Max": _numpy("maximum"), "Min": _numpy("minimum")}
_ROUNDING = {"Ceil": _numpy("ceil"), "Floor": _numpy("floor"), "Neg": _numpy("negative"),
             "Abs": _numpy("abs")}


def _shape(node, attrs: dict, path, constants: dict) -> None:
    """``Shape`` of an image tensor: its height and width are known numbers (batch and
    channels are not tracked), so a ``Gather`` of them folds to a constant."""
    import numpy as np

    dims = [None, None, *path.hw]
    start, end = int(attrs.get("start", 0)), attrs.get("end")
    dims = dims[start:end if isinstance(end, int) and end else None]
    if node.output:
        constants[("shape", node.output[0])] = dims
        if None not in dims:
            constants[node.output[0]] = np.array(dims, np.int64)


def _gather_shape(node, constants: dict) -> None:
    """A ``Gather`` of known entries of a partly known shape."""
    import numpy as np

    dims, index = constants.get(("shape", node.input[0])), constants.get(node.input[1])
    if dims is None or index is None or index.ndim > 1:
        return
    picked = [dims[int(i)] for i in np.atleast_1d(index)]
    if None not in picked:
        constants[node.output[0]] = np.array(picked if index.ndim else picked[0], np.int64)


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
    elif op == "Cast":
        value = args[0].astype(np.float64 if attrs.get("to") in (1, 10, 11) else np.int64)
    elif op == "Identity":
        value = args[0]
    elif op == "Shape":
        value = np.array(args[0].shape, np.int64)
    elif op == "Gather" and args[0].ndim == 1:
        value = np.take(args[0], args[1], axis=0)
    elif op in _ARITHMETIC and len(args) == 2:
        value = _ARITHMETIC[op](*args)
    elif op in _ROUNDING:
        value = _ROUNDING[op](args[0])
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


def _spatial(axes) -> list[int]:
    """The spatial axes (0: height, 1: width) among ONNX axes of a 4-D (N, C, H, W) tensor."""
    return sorted({a % 4 - 2 for a in axes if a % 4 in (2, 3)})


def _known(node, name: str, hw, axes: list[int]) -> list[int]:
    sizes = [hw[a] for a in axes]
    if None in sizes:
        raise OnnxError("dynamic", f"{node.op_type} node {name!r} works along the height or "
                        "width, whose size the file does not fix", detail=node.op_type)
    return sizes  # type: ignore[return-value]


def _spatial_error(node, name: str, what: str) -> OnnxError:
    return OnnxError("spatial", f"{node.op_type} node {name!r} {what}: its cells do not all "
                     "see one field with one stride (a shifted or joined map is not read)",
                     detail=node.op_type)


def _reduce(node, attrs: dict, constants: dict, path: _Path, name: str):
    """ReduceMean & co.: channels pass; both spatial axes (or all) are a global pool; one
    spatial axis is a window over that whole axis."""
    axes = _axes(node, attrs, constants, 1)
    spatial = [0, 1] if axes is None else _spatial(axes)
    if not spatial:
        return path
    if spatial == [0, 1]:
        return path if path.field.global_ else path.then(_global_layer(path.hw, name), (1, 1))
    if not attrs.get("keepdims", 1):
        return _Blocked(_spatial_error(node, name, "drops the height or the width"))
    (axis,), hw = spatial, list(path.hw)
    (size,) = _known(node, name, path.hw, spatial)
    kernel = [1, 1]
    kernel[axis], hw[axis] = size, 1
    return path.then(Layer(tuple(kernel), tuple(kernel), 0, name=name), tuple(hw))


def _slice(node, attrs: dict, constants: dict, path: _Path, name: str):
    """A Slice with step ``t`` from row 0 is a 1 x 1 layer of stride ``t``; a Slice that
    starts further in shifts every cell (refused)."""
    if len(node.input) > 1:  # opset 10+: starts, ends, axes, steps are inputs
        parts = [constants.get(i) if i else None for i in list(node.input[1:5])]
        if any(x is None for i, x in zip(node.input[1:5], parts, strict=False) if i):
            raise OnnxError("dynamic", f"Slice node {name!r}: its bounds are not constant",
                            detail="Slice")
        starts, ends, axes, steps = [*(None if x is None else x.ravel().tolist()
                                       for x in parts), None, None, None][:4]
    else:
        starts, ends, axes, steps = attrs.get("starts"), attrs.get("ends"), attrs.get(
            "axes"), None
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(axes) if steps is None else steps
    hw, stride = list(path.hw), [1, 1]
    for onnx_axis, start, end, jump in zip(axes, starts, ends, steps, strict=True):
        if onnx_axis % 4 not in (2, 3):
            continue
        axis = onnx_axis % 4 - 2
        (size,) = _known(node, name, path.hw, [axis])
        if jump < 1:
            return _Blocked(_spatial_error(node, name, "reverses the height or width"))
        start, end = (min(max(v + size if v < 0 else v, 0), size) for v in (start, end))
        count = max(0, -(-(end - start) // jump))
        if count == 0:
            raise OnnxError("empty", f"Slice node {name!r} keeps no row or column",
                            detail=name)
        if start:
            return _Blocked(_spatial_error(node, name, f"starts at {start}, not 0"))
        hw[axis], stride[axis] = count, jump
    if stride == [1, 1]:
        return dataclasses.replace(path, hw=tuple(hw), before=None)
    return path.then(Layer(1, tuple(stride), name=name), tuple(hw))


def _split(node, attrs: dict, constants: dict, path: _Path, name: str) -> list:
    """Split along channels passes; along height or width only the first part starts at
    row 0 and keeps its field, the others are shifted (refused where used)."""
    axis = int(attrs.get("axis", 0)) % 4
    if axis not in (2, 3):
        return [path] * len(node.output)
    (size,) = _known(node, name, path.hw, [axis - 2])
    parts = attrs.get("split")
    if parts is None and len(node.input) > 1 and node.input[1] in constants:
        parts = constants[node.input[1]].ravel().tolist()
    if parts is None:
        n = len(node.output)
        parts = [min(-(-size // n), size - i * -(-size // n)) for i in range(n)]
    first = list(path.hw)
    first[axis - 2] = parts[0]
    error = _spatial_error(node, name, "splits the height or width")
    return [dataclasses.replace(path, hw=tuple(first), before=None)] + [_Blocked(error)] * (
        len(node.output) - 1)


def _meet(node, name: str, inputs: list[_Path]) -> _Path:
    """The path where branches meet: per axis the chain of the branch with the largest
    field (:func:`~pyramidviz.receptive.merge`)."""
    unique = list({id(p): p for p in inputs}.values())
    if len(unique) == 1:
        return unique[0]
    try:
        field = merge([p.field for p in unique], name=name)
    except ValueError as error:
        raise OnnxError("misaligned", str(error), detail=name) from None

    def winner(axis: int) -> _Path:
        return next(p for p in unique if p.field.global_ == field.global_ and (
            p.field.size[axis], p.field.stride[axis], p.field.padding[axis]) == (
            field.size[axis], field.stride[axis], field.padding[axis]))

    hw = tuple(max((p.hw[a] for p in unique if p.hw[a] is not None), default=None)
               for a in (0, 1))
    return _Path(field, (winner(0).chains[0], winner(1).chains[1]), hw)  # type: ignore


def _image_input(graph, initialized: set) -> tuple[str, tuple[int | None, int | None]]:
    for value in graph.input:
        if value.name in initialized:
            continue
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            hw = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                       for d in dims[2:])
            return value.name, hw  # type: ignore[return-value]
    raise OnnxError("no_input", "the graph has no 4-D image input (N, C, H, W)")


def _declared(graph, source: str) -> dict[str, list[int]]:
    """Shapes of the graph inputs other than the image that declare fixed dimensions
    (weights exported as inputs, ``export_params=False``)."""
    shapes = {}
    for value in graph.input:
        dims = value.type.tensor_type.shape.dim
        if value.name != source and dims and all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = [int(d.dim_value) for d in dims]
    return shapes


def _window(node, attrs: dict, weights: dict, path: _Path, name: str) -> _Path:
    layer, hw = _window_layer(node, attrs, weights, path.hw, name)
    if path.before is not None:  # Pad then a window: one layer, as in torch
        before = path.chains[0].layer.padding  # type: ignore[union-attr]
        padding = (layer.padding[0] + before[0], layer.padding[1] + before[1])
        layer, path = dataclasses.replace(layer, padding=padding), path.before
    return path.then(layer, hw)


def _step(node, index: int, paths: dict, weights: dict, constants: dict) -> None:
    """Give the node's outputs the path through it (or none: not an image)."""
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
    try:
        if op == "Shape" and inputs and isinstance(inputs[0], _Path):
            _shape(node, attrs, inputs[0], constants)
        elif op == "Gather" and len(node.input) > 1:
            _gather_shape(node, constants)
    except (ValueError, TypeError, IndexError):
        pass
    if not inputs or op in _NO_IMAGE:
        return
    blocked = [p for p in inputs if isinstance(p, _Blocked)]
    if blocked:
        raise blocked[0].error
    try:
        outs = _outs(node, op, name, attrs, weights, constants, inputs)
    except OnnxError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError) as error:
        raise OnnxError("bad_attribute", f"{op} node {name!r}: its attributes or constant "
                        f"inputs cannot be read ({type(error).__name__})", detail=op) from None
    for output, out in zip(node.output, outs * len(node.output) if len(outs) == 1 else outs,
                           strict=False):
        paths[output] = out


def _outs(node, op: str, name: str, attrs: dict, weights: dict, constants: dict,
          inputs: list) -> list:
    if op in _AXIS_OPS and all(p.field.global_ for p in inputs):  # past a global pool or the
        return [_meet(node, name, inputs)]  # head the axes are no longer height and width
    if op == "Concat" and int(attrs.get("axis", 0)) % 4 in (2, 3):
        return [_Blocked(_spatial_error(node, name, "joins maps along the height or width"))]
    if op == "Split":
        return _split(node, attrs, constants, _meet(node, name, inputs), name)
    return [_out(node, op, name, attrs, weights, constants, _meet(node, name, inputs))]


def _out(node, op: str, name: str, attrs: dict, weights: dict, constants: dict, path: _Path):
    if op == "Conv" or op in _POOLS:
        return _window(node, attrs, weights, path, name)
    if op == "Pad":
        layer, hw = _pad_layer(node, attrs, constants, path.hw, name)
        return dataclasses.replace(path.then(layer, hw), before=path)
    if op in _REDUCE:
        return _reduce(node, attrs, constants, path, name)
    if op == "Slice":
        return _slice(node, attrs, constants, path, name)
    if op in _GLOBAL or op in _HEAD:
        return path if path.field.global_ else path.then(_global_layer(path.hw, name), (1, 1))
    if op in _PASS:
        return path
    raise OnnxError("unsupported", f"node {name!r}: the operator {op} is not understood "
                    "(convolutions, pooling, Pad and element-wise ops are)", detail=op)


def _only(layer: Layer, axis: int) -> Layer:
    """``layer`` along ``axis`` alone (identity on the other axis)."""
    def pick(pair, identity: int) -> tuple[int, int]:
        return (pair[0], identity) if axis == 0 else (identity, pair[1])

    return Layer(pick(layer.kernel, 1), pick(layer.stride, 1), pick(layer.padding, 0),
                 pick(layer.dilation, 1), name=f"{layer.name} [{('height', 'width')[axis]}]",
                 global_pool=layer.global_pool)


def _splice(path: _Path) -> list[Layer]:
    """One chain whose arithmetic gives ``path.field`` on both axes: the layers both axes'
    chains share, and between them each chain's own layers on its axis alone."""
    h, w = ([] if c is None else c.layers() for c in path.chains)
    if path.chains[0] is path.chains[1]:
        return h
    shared = {id(x) for x in h} & {id(x) for x in w}
    out, i, j = [], 0, 0
    while i < len(h) or j < len(w):
        if i < len(h) and id(h[i]) not in shared:
            out.append(_only(h[i], 0))
            i += 1
        elif j < len(w) and id(w[j]) not in shared:
            out.append(_only(w[j], 1))
            j += 1
        else:  # both at the same shared layer: shared layers come in one order
            out.append(h[i])
            i, j = i + 1, j + 1
    return out


def from_onnx(data: bytes) -> list[Layer]:
    """The conv/pool chain whose receptive field is the output's, input to output.

    Parameters
    ----------
    data : bytes
        The ``.onnx`` file. Weights may be missing (saved as external data, or declared as
        graph inputs with their shapes).

    Returns
    -------
    list of Layer
        Named after the ONNX nodes; ``receptive_field(layers)[-1]`` is the output's field.
        Where branches meet, each axis follows the branch with the largest field on it
        (:func:`~pyramidviz.receptive.merge`); when those differ, each branch's own layers
        appear on their axis alone, named ``"<node> [height]"`` or ``"<node> [width]"``.

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
    initialized = {t.name for t in graph.initializer}
    source, hw = _image_input(graph, initialized)
    weights = {**_declared(graph, source), **{t.name: list(t.dims) for t in graph.initializer}}
    start = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))
    paths: dict[str, _Path | _Blocked] = {source: _Path(start, (None, None), hw)}
    constants = {t.name: a for t in graph.initializer if (a := _const_array(t)) is not None}
    produced = {out: i for i, node in enumerate(graph.node) for out in node.output}
    for index, node in enumerate(graph.node):
        late = [i for i in node.input if produced.get(i, -1) >= index]
        if late:
            raise OnnxError("order", f"node {node.name or index!r} reads {late[0]!r} before it "
                            "is computed (the nodes are not in order)", detail=late[0])
        _step(node, index, paths, weights, constants)
    ends = [paths[o.name] for o in graph.output if o.name in paths]
    for end in ends:
        if isinstance(end, _Blocked):
            raise end.error
    if not ends:
        raise OnnxError("no_path", "no output of the graph depends on its image input")
    path = max(ends, key=lambda p: (p.field.global_, p.field.size[0] * p.field.size[1]))
    layers = _splice(path)  # type: ignore[arg-type]
    if not layers:
        raise OnnxError("no_path", "the graph has no convolution or pooling on its widest path",
                        detail="no_layer")
    assert receptive_field(layers)[-1] == path.field, "the spliced chain lost the field"
    return layers
