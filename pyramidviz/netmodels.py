"""The catalogue's networks built in torch with random weights, to *measure* their fields.

"Formula vs measured": :mod:`pyramidviz.networks` gives each net's layers and
:func:`pyramidviz.receptive.receptive_field` their fields by arithmetic; here the same nets
run as torch modules (thin channels, random positive weights, float64) and
:func:`measured_box` back-propagates from one output cell to find the input pixels whose
gradient is non-zero (the cell's theoretical receptive field, Luo et al. 2016, Sec. 2).
Positive weights and inputs keep every ReLU open, so no path is cut by chance; max pools
become average pools of the same window (a max pool passes gradient to one pixel only);
residual blocks keep their skip paths (with the strided 1x1 projections), so the gradient
sees every path and the measurement checks that the main path has the largest field.

References
----------
.. [1] W. Luo, Y. Li, R. Urtasun, R. Zemel, "Understanding the Effective Receptive Field in
   Deep Convolutional Neural Networks", NeurIPS 2016.
.. [2] A. Araujo, W. Norris, J. Sim, Distill 2019 ("Arbitrary computation graphs").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from pyramidviz import networks
from pyramidviz.receptive import Box, Layer

__all__ = ["Measurement", "build", "chain_module", "formula_vs_measured", "measured_box",
           "randomize_"]

WIDTH = 2
"""Channels of every conv: geometry does not depend on them, run time does."""


def chain_module(layers: Sequence[Layer], *, channels: int = WIDTH) -> nn.Sequential:
    """A plain chain of ``Conv2d`` (and global average pools) with exactly these layers.

    Padding is symmetric (``Layer.padding`` before and after): padding after the input
    changes output sizes only, never positions.

    Examples
    --------
    >>> chain_module([Layer(3, 2, 1), Layer(1, global_pool=True)])
    Sequential(
      (0): Conv2d(2, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
      (1): AdaptiveAvgPool2d(output_size=1)
    )
    """
    modules = [nn.AdaptiveAvgPool2d(1) if layer.global_pool else
               nn.Conv2d(channels, channels, layer.kernel, layer.stride, layer.padding,
                         layer.dilation) for layer in layers]
    return nn.Sequential(*modules)


class Bottleneck(nn.Module):
    """ResNet v1.5 bottleneck: 1x1, 3x3 (stride, dilation), 1x1, plus the skip path."""

    def __init__(self, unit: networks.ResNetUnit, channels: int) -> None:
        super().__init__()
        c, d = channels, unit.dilation
        self.conv1 = nn.Conv2d(c, c, 1)
        self.conv2 = nn.Conv2d(c, c, 3, unit.stride, d, d)
        self.conv3 = nn.Conv2d(c, c, 1)
        self.downsample = nn.Conv2d(c, c, 1, unit.stride) if unit.downsample else None

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


def resnet_module(depth: int, output_stride: int, *, channels: int = WIDTH) -> nn.Sequential:
    """ResNet-``depth`` at ``output_stride`` with its skips (3-channel input)."""
    units = networks.resnet_units(depth, output_stride=output_stride)
    stem = [nn.Conv2d(3, channels, 7, 2, 3), nn.ReLU(), nn.AvgPool2d(3, 2, 1)]
    return nn.Sequential(*stem, *(Bottleneck(u, channels) for u in units))


class InvertedResidual(nn.Module):
    """MobileNetV2 unit: expand 1x1 (if t > 1), depthwise 3x3, project 1x1, skip if repeat."""

    def __init__(self, channels: int, *, expand: bool, stride: int, residual: bool) -> None:
        super().__init__()
        c = channels
        self.expand = nn.Conv2d(c, c, 1) if expand else nn.Identity()
        self.depthwise = nn.Conv2d(c, c, 3, stride, 1, groups=c)
        self.project = nn.Conv2d(c, c, 1)
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        y = self.project(torch.relu(self.depthwise(torch.relu(self.expand(x)))))
        return y + x if self.residual else y


def mobilenet_v2_module(*, channels: int = WIDTH) -> nn.Sequential:
    """MobileNetV2's features with their skips (every repeat in a stage has one)."""
    units = [InvertedResidual(channels, expand=t != 1, stride=s if i == 0 else 1,
                              residual=i > 0)
             for t, _, n, s in networks.MOBILENET_V2 for i in range(n)]
    return nn.Sequential(nn.Conv2d(3, channels, 3, 2, 1), *units, nn.Conv2d(channels,
                                                                           channels, 1))


def build(name: str, *, channels: int = WIDTH) -> nn.Module:
    """Catalogue network ``name`` as a torch module (weights not yet randomized).

    Single-path nets are :func:`chain_module` of their layers (pools as convs of the same
    window); ResNets and MobileNetV2 keep their skip paths; EfficientNet-Lite0 is the real
    :class:`pyramidviz.backbones.EfficientNetLite0` up to its head.
    """
    if name not in networks.CATALOGUE:
        raise ValueError(f"unknown network {name!r}")
    if name.startswith("resnet"):
        depth, _, os_text = name.removeprefix("resnet").partition("_os")
        return resnet_module(int(depth), int(os_text or 32), channels=channels)
    if name == "mobilenet_v2":
        return mobilenet_v2_module(channels=channels)
    if name.startswith("efficientnet_lite0"):
        from pyramidviz.backbones import EfficientNetLite0

        model = EfficientNetLite0(output_stride=int(name.partition("_os")[2] or 32))
        return _Head(model)
    layers = networks.network_layers(name)
    return nn.Sequential(nn.Conv2d(3, channels, 1), chain_module(layers, channels=channels))


class _Head(nn.Module):
    """EfficientNet-Lite0 up to the head's 1x1 conv output."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.features(x, ("head",))["head"]


def randomize_(module: nn.Module, *, seed: int = 0, dtype: torch.dtype = torch.float64
               ) -> nn.Module:
    """Random positive conv weights ``U(0.5, 1.5) / fan_in``, zero biases, identity batch
    norms, eval mode, ``dtype`` (in place). Positive weights on positive inputs keep every
    ReLU in its linear part, so the gradient of a cell is non-zero on all of its field;
    float64 keeps the smallest path products (corner pixels of a deep net's field, about
    ``(1/9)^depth``) from underflowing."""
    generator = torch.Generator().manual_seed(seed)
    module.to(dtype).eval()
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.rand(m.weight.shape, generator=generator,
                                          dtype=torch.float64).add_(0.5).div_(fan_in))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.weight.fill_(1.0)
                m.bias.zero_()
                m.eps = 0.0
    return module


def measured_box(module: nn.Module, input_hw: tuple[int, int], cell: tuple[int, int] | None
                 = None, *, in_channels: int = 3) -> tuple[Box, tuple[int, int]]:
    """Pixels whose gradient for output ``cell`` is non-zero, and the output map's size.

    Parameters
    ----------
    module : nn.Module
        Randomized by :func:`randomize_` (float64, positive weights).
    input_hw : (int, int)
    cell : (int, int), optional
        Output cell ``(row, col)``; the map's centre by default.

    Returns
    -------
    box : Box
        Bounding box of the non-zero gradient, half-open, in input pixels.
    map_size : (int, int)

    Examples
    --------
    >>> net = randomize_(chain_module([Layer(3, 2, 1)], channels=1))
    >>> measured_box(net, (9, 9), (0, 1), in_channels=1)
    (Box(top=0, left=1, bottom=2, right=4), (5, 5))
    """
    dtype = next(module.parameters()).dtype
    x = torch.full((1, in_channels, *input_hw), 1e-3, dtype=dtype, requires_grad=True)
    out = module(x)
    h, w = out.shape[-2:]
    row, col = cell if cell is not None else (h // 2, w // 2)
    out[0, :, row, col].sum().backward()
    hit = (x.grad[0].abs().sum(0) > 0).nonzero()
    if not len(hit):
        return Box(0, 0, 0, 0), (int(h), int(w))
    (top, left), (bottom, right) = hit.min(0).values.tolist(), hit.max(0).values.tolist()
    return Box(top, left, bottom + 1, right + 1), (int(h), int(w))


@dataclass(frozen=True)
class Measurement:
    """"Formula vs measured" for the centre cell of a net's last map on one input.

    The input is tall (``r + 4 j + 37`` rows, at most :data:`MAX_SIDE`) so the cell's field
    lies inside the image along the rows, and narrow along the columns (clipped there).
    """

    input_hw: tuple[int, int]
    cell: tuple[int, int]
    formula: Box
    measured: Box

    @property
    def agrees(self) -> bool:
        """Rows equal; columns of the measured box inside the formula's clipped box (the
        network may never read a few trailing pixels that the field formula includes)."""
        f, m = self.formula.clip(*self.input_hw), self.measured
        rows = (f.top, f.bottom) == (m.top, m.bottom)
        return rows and f.left <= m.left and m.right <= f.right


MAX_SIDE = 2400


def formula_vs_measured(layers: Sequence[Layer], module: nn.Module | None = None, *,
                        tf_same: bool = False, in_channels: int = 3) -> Measurement:
    """Measure the last map's centre cell of ``module`` (default: :func:`chain_module` of
    ``layers``) by gradient, beside :meth:`FieldInfo.cell_box` of the arithmetic.

    Examples
    --------
    >>> m = formula_vs_measured([Layer(3, 2, 1), Layer(3, 1, 2, 2)])
    >>> m.input_hw, m.formula, m.measured, m.agrees
    ((56, 33), Box(top=23, left=11, bottom=34, right=22), Box(top=23, left=11, bottom=34, \
right=22), True)
    """
    from pyramidviz.networks import feature_sizes
    from pyramidviz.receptive import receptive_field

    field = receptive_field(layers)[-1]
    height = min(field.size[0] + 4 * field.stride[0] + 37, MAX_SIDE)
    width = next((w for w in (33, 48, 67, 96, 128, 192, 256, 384, 512)
                  if min(feature_sizes(list(layers), (height, w), tf_same=tf_same)[-1]) > 0),
                 512)
    if module is None:
        module, in_channels = randomize_(chain_module(layers)), WIDTH
    box, (h, w) = measured_box(module, (height, width), in_channels=in_channels)
    cell = (h // 2, w // 2)
    return Measurement((height, width), cell, field.cell_box(*cell), box)
