"""Tracing a PyTorch module into the :class:`~pyramidviz.receptive.Layer` chain it runs.

:func:`layers_of` runs a module once on zeros with forward hooks on its convolution,
pooling and padding modules and turns each recorded call into a ``Layer`` for the
arithmetic in :mod:`pyramidviz.receptive`. Paddings are read for the actual input
size, so TF "SAME" convolutions that pad inside ``forward`` (e.g.
:class:`pyramidviz.backbones.Conv2dSame`) report their real, asymmetric padding.

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
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from pyramidviz.receptive import IntOrPair, Layer, Pair

__all__ = ["layers_of"]

_HOOKED = (
    nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d,
    nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d,
)
_ADAPTIVE = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
_PADS = (nn.ConstantPad2d, nn.ReflectionPad2d, nn.ReplicationPad2d)


def _padding_before(module: nn.Module, input_hw: Pair) -> IntOrPair:
    """Top/left padding of a conv or pooling module for an input of ``input_hw``."""
    same_padding = getattr(module, "same_padding", None)
    if callable(same_padding):
        return tuple(same_padding(input_hw))
    padding = module.padding
    if padding == "valid":
        return 0
    if padding == "same":  # torch puts total // 2 before, the extra after
        spans = Layer(module.kernel_size, dilation=module.dilation).effective_kernel
        return tuple((span - 1) // 2 for span in spans)
    return padding


def _widest_bin(size: int, bins: int) -> int:
    """Widest adaptive-pooling window ``ceil((i+1)a/n) - floor(ia/n)`` over the bins."""
    return max(-(-(i + 1) * size // bins) - i * size // bins for i in range(bins))


def _adaptive_layer(name: str, input_hw: Pair, output_hw: Pair) -> Layer:
    """Uniform stand-in for adaptive pooling: exact when sizes divide, else widest bin."""
    kernel = tuple(_widest_bin(i, o) for i, o in zip(input_hw, output_hw, strict=True))
    stride = tuple(max(i // o, 1) for i, o in zip(input_hw, output_hw, strict=True))
    whole = all(o == 1 or i == 1 for i, o in zip(input_hw, output_hw, strict=True))
    return Layer(kernel, stride, 0, 1, name=name, global_pool=whole)


def _conv_or_pool_layer(name: str, module: nn.Module, input_hw: Pair, output_hw: Pair) -> Layer:
    """Layer for a Conv2d, MaxPool2d or AvgPool2d call with these spatial sizes."""
    kernel = Layer(module.kernel_size).kernel
    stride = module.stride if module.stride else kernel  # pools: stride None -> kernel
    dilation = getattr(module, "dilation", 1)
    layer = Layer(kernel, stride, _padding_before(module, input_hw), dilation, name=name)
    if hasattr(module, "weight"):  # a convolution is never a global pool
        return layer
    sizes = zip(output_hw, layer.effective_kernel, input_hw, layer.padding, strict=True)
    covers = all(o == 1 and k >= i + p for o, k, i, p in sizes)
    return dataclasses.replace(layer, global_pool=covers)


def _layer_from_call(name: str, module: nn.Module, input_hw: Pair, output_hw: Pair) -> Layer:
    """Translate one recorded forward call into a Layer."""
    if isinstance(module, _ADAPTIVE):
        return _adaptive_layer(name, input_hw, output_hw)
    if isinstance(module, _PADS):
        left, _right, top, _bottom = module.padding
        return Layer(1, 1, (top, left), 1, name=name)
    return _conv_or_pool_layer(name, module, input_hw, output_hw)


def _placement(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the module's first parameter or buffer (CPU float32)."""
    for tensor in (*module.parameters(), *module.buffers()):
        if tensor.is_floating_point():
            return tensor.device, tensor.dtype
    return torch.device("cpu"), torch.float32


@contextlib.contextmanager
def _recording(module: nn.Module, recorded: list[Layer]) -> Iterator[None]:
    """Hooks appending a Layer per hooked call, in eval mode; hooks and modes restored."""
    def hook_for(name: str):
        def hook(mod: nn.Module, inputs: tuple, output: object) -> None:
            out = output[0] if isinstance(output, tuple) else output
            in_hw, out_hw = tuple(inputs[0].shape[-2:]), tuple(out.shape[-2:])
            recorded.append(_layer_from_call(name, mod, in_hw, out_hw))
        return hook

    handles = [
        m.register_forward_hook(hook_for(n)) for n, m in module.named_modules()
        if isinstance(m, _HOOKED)
    ]
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        yield
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes:
            m.training = training


def layers_of(module: nn.Module, input_shape: Sequence[int]) -> list[Layer]:
    """Record the conv, pooling and padding layers a module calls on one input.

    Runs ``module`` once on zeros of ``input_shape`` (no grad, eval mode, then restores
    each submodule's mode) with forward hooks on every ``nn.Conv2d``, ``nn.MaxPool2d``,
    ``nn.AvgPool2d``, adaptive pool and 2-D padding module, in call order. A module
    with a method ``same_padding(input_hw) -> (pad_top, pad_left)`` (e.g. a TF-"SAME"
    conv that pads inside ``forward``) reports its padding that way; otherwise
    ``module.padding`` is used. Padding modules become 1x1 layers with their top/left
    padding (reflection treated like zeros). Adaptive pools become their widest window
    with stride ``floor(in / out)`` (exact when sizes divide) and ``global_pool=True``
    when each output sees the whole input. Branches and skips are flattened in call
    order, which is exact for single-path chains and for residual blocks whose main
    path carries the largest field.

    Parameters
    ----------
    module : nn.Module
    input_shape : (N, C, H, W)

    Returns
    -------
    list of Layer
        ``Layer.name`` is the module's qualified name inside ``module``.

    Raises
    ------
    ValueError
        If ``input_shape`` is not four positive ints. Errors of the forward pass
        propagate (the hooks are removed first).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.MaxPool2d(2))
    >>> [(l.name, l.kernel, l.stride) for l in layers_of(net, (1, 3, 16, 16))]
    [('0', (3, 3), (1, 1)), ('1', (2, 2), (2, 2))]

    References
    ----------
    Araujo et al., Distill 2019, "Single-path networks".
    """
    if len(input_shape) != 4 or min(input_shape) < 1:
        raise ValueError(f"input_shape must be (N, C, H, W) of positive ints, got {input_shape!r}")
    recorded: list[Layer] = []
    device, dtype = _placement(module)
    with _recording(module, recorded), torch.no_grad():
        module(torch.zeros(tuple(input_shape), device=device, dtype=dtype))
    return recorded
