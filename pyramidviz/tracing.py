"""A PyTorch module's graph read as the :class:`~pyramidviz.receptive.Layer` chain of its field.

:func:`layers_of` exports the module to ONNX in memory at one input shape (torch's
TorchScript exporter, ``torch.onnx.export(..., dynamo=False)``: offline, weights left out)
and hands the bytes to :func:`pyramidviz.onnxgraph.from_onnx`, so a torch module and an
uploaded ONNX file go through one graph traversal and one recurrence
(:func:`pyramidviz.receptive.step`, :func:`pyramidviz.receptive.merge`). Reading the graph
instead of the order of calls keeps branches apart: the strided 1 x 1 projection on a
ResNet skip path is a branch beside the main path, not one more layer after it. Exporting
at a fixed shape turns paddings computed from ``x.shape`` (TF "SAME" convolutions such as
:class:`pyramidviz.backbones.Conv2dSame`, which ``torch.fx`` cannot trace) into constant
Pad nodes with their real, asymmetric padding.

This module imports torch and :mod:`pyramidviz.receptive` (never the other way round), so
importing ``receptive`` alone does not load torch.

References
----------
.. [1] A. Araujo, W. Norris, J. Sim, "Computing Receptive Fields of Convolutional
   Neural Networks", Distill, 2019. doi:10.23915/distill.00021
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from pyramidviz.onnxgraph import OnnxError, from_onnx
from pyramidviz.receptive import Layer

__all__ = ["layers_of", "module_name"]


def _scope(qualified: str) -> str:
    """The exporter's scope name of a module: its qualified name from the last atom that
    is not a number (``layer1.0`` stays, ``seq.1.0`` is the scope of ``a.seq.1.0``)."""
    atoms = qualified.split(".")
    for i in range(len(atoms) - 1, -1, -1):
        if not atoms[i].isnumeric():
            return ".".join(atoms[i:])
    return qualified


def module_name(node_name: str, qualified: Sequence[str]) -> str:
    """The qualified name of the module that ran a TorchScript-exported ONNX node.

    The exporter names a node after the scopes of the modules whose ``forward`` it ran in
    and its op (``/layer1/layer1.0/conv1/Conv``); each scope is a module's qualified name
    from its last atom that is not a number. Each scope is looked up among ``qualified``
    (the module's ``named_modules()`` names) below the one before it, so a module called
    from a parent's other method (no scope for the parent) is still found. ``""`` is the
    top module; a name in another form is kept.

    Examples
    --------
    >>> names = ["", "layer1", "layer1.0", "layer1.0.conv1", "m", "m.seq", "m.seq.1"]
    >>> module_name("/layer1/layer1.0/conv1/Conv", names), module_name("/Conv", names)
    ('layer1.0.conv1', '')
    >>> module_name("/seq.1/Pad [height]", names), module_name("c", names)
    ('m.seq.1 [height]', 'c')
    """
    base, bracket, axis = node_name.partition(" [")
    if not base.startswith("/"):
        return node_name
    name = ""
    for scope in base.split("/")[1:-1]:
        below = [q for q in qualified if _scope(q) == scope and (
            not name or q.startswith(name + "."))]
        name = min(below, key=len) if below else f"{name}.{scope}" if name else scope
    return name + (f" [{axis}" if bracket else "")


def _placement(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the module's first parameter or buffer (CPU float32)."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode for the export; every submodule's mode restored after."""
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        yield
    finally:
        for m, training in modes:
            m.training = training


def _export(module: nn.Module, x: torch.Tensor) -> bytes:
    buffer = io.BytesIO()
    with _eval_mode(module), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(module, (x,), buffer, dynamo=False, export_params=False,
                              input_names=["image"], do_constant_folding=True)
        except torch.onnx.errors.OnnxExporterError as error:
            reason = str(error).split("[Caused by")[0].split("Please feel free")[0].strip()
            raise ValueError(f"torch cannot export the module to ONNX at input shape "
                             f"{tuple(x.shape)}: {reason}"[:400]) from None
    return buffer.getvalue()


def layers_of(module: nn.Module, input_shape: Sequence[int]) -> list[Layer]:
    """The layer chain whose receptive field is the module's output's, read from its graph.

    The module is exported to ONNX in memory at ``input_shape`` (TorchScript tracing: it
    runs once on zeros, in eval mode, without gradients; each submodule's mode is
    restored; weights are not copied) and read by :func:`pyramidviz.onnxgraph.from_onnx`.

    Exact, as the reference implementation (google-research/receptive_field) is, for any
    graph of convolutions, pools (max, average, Lp, global, adaptive to 1 x 1 or to sizes
    that divide), padding (``nn.ZeroPad2d`` and the like, ``F.pad``; reflection counted
    like zeros), element-wise and normalisation ops, channel Concat and Split, Slice with
    a step from row 0, and Reduce over one or both spatial axes: where branches meet the
    field is the union of theirs, per axis (:func:`pyramidviz.receptive.merge`). So a
    strided 1 x 1 shortcut (torchvision ResNet's ``downsample``) is a branch, not one more
    layer. Paddings are the ones of this input shape (TF "SAME" depends on it). Where the
    largest branch differs per axis, the list carries each branch's layers on its axis
    alone (names ending ``[height]`` / ``[width]``); ``receptive_field(layers)[-1]`` is
    then still the output's field, the rows before are per-axis partial fields.

    Refused with a ``ValueError`` that says why (:class:`~pyramidviz.onnxgraph.OnnxError`
    for what the ONNX reader refuses, with its ``code``): branches that meet misaligned
    (different effective strides or centres), a Concat, Split or Slice that shifts or joins
    maps along height or width, a window larger than its padded input (no output cell),
    operators the reader does not understand (upsampling and transposed convolutions,
    ``Resize``, ``Transpose``, control flow: see ``networks.ONNX_SUPPORTED``), and modules
    torch cannot export (e.g. adaptive pooling to a size that does not divide the input).

    Parameters
    ----------
    module : nn.Module
        Called as ``module(x)`` with ``x`` of ``input_shape``; several outputs: the one
        with the largest field.
    input_shape : (N, C, H, W)

    Returns
    -------
    list of Layer
        ``Layer.name`` is the qualified name of the module that ran the op (a Pad joins
        the window after it, as a TF-"SAME" conv's padding does). Empty for a module of
        element-wise ops only (each output cell sees its own pixel).

    Raises
    ------
    ValueError
        If ``input_shape`` is not four positive ints, or as above. Errors of the forward
        pass propagate.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2))
    >>> [(l.name, l.kernel, l.stride) for l in layers_of(net, (1, 3, 16, 16))]
    [('0', (3, 3), (1, 1)), ('1', (2, 2), (2, 2))]

    References
    ----------
    Araujo et al., Distill 2019, "Arbitrary computation graphs".
    """
    if len(input_shape) != 4 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (N, C, H, W) of positive ints, got {input_shape!r}")
    device, dtype = _placement(module)
    x = torch.zeros(tuple(int(v) for v in input_shape), device=device, dtype=dtype)
    try:
        layers = from_onnx(_export(module, x))
    except OnnxError as error:
        if error.code == "no_path" and error.detail == "no_layer":
            return []  # element-wise only: every output cell sees its own pixel
        raise
    names = [name for name, _ in module.named_modules()]
    return [dataclasses.replace(layer, name=module_name(layer.name, names)) for layer in layers]
