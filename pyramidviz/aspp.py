"""Atrous spatial pyramid pooling (ASPP): dilated-kernel geometry and the DeepLab v3 module.

A ``k x k`` kernel at rate ``r`` puts ``r - 1`` gaps between its taps: it spans
``r (k - 1) + 1`` cells with still ``k * k`` weights. With padding ``r`` the output keeps
the input's size. ASPP runs a 1x1 conv, three 3x3 atrous convs and an image-level
pooling branch side by side, concatenates them and projects back to 256 channels.

References
----------
.. [1] L.-C. Chen, G. Papandreou, F. Schroff, H. Adam, "Rethinking Atrous Convolution for
   Semantic Image Segmentation", arXiv:1706.05587, 2017 (DeepLab v3), Sec. 3.3, Fig. 4, 5.
.. [2] P. Wang et al., "Understanding Convolution for Semantic Segmentation", WACV 2018
   (hybrid dilated convolution, HDC), Sec. 3.2.
.. [3] torchvision ``torchvision/models/segmentation/deeplabv3.py`` (module layout).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ASPP", "ASPPConv", "ASPPPooling", "Coverage", "DEEPLAB_V3_RATES", "HDCReport",
    "aspp_macs", "aspp_parameter_count", "branch_previews", "effective_kernel_size",
    "hdc_check", "rates_for_output_stride", "stack_coverage", "tap_offsets",
    "valid_weight_counts",
]

DEEPLAB_V3_RATES: dict[int, tuple[int, int, int]] = {16: (6, 12, 18), 8: (12, 24, 36)}


def _positive_int(value: object, what: str) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{what} must be a positive integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return number


def _odd_kernel(kernel: int) -> int:
    kernel = _positive_int(kernel, "kernel")
    if kernel % 2 == 0:
        raise ValueError(f"kernel must be odd to have a centre tap, got {kernel!r}")
    return kernel


def _rates(rates: Sequence[int]) -> tuple[int, ...]:
    if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence) or not rates:
        raise ValueError(f"rates must be a non-empty sequence of positive ints, got {rates!r}")
    return tuple(_positive_int(r, "rates") for r in rates)


def effective_kernel_size(kernel: int, rate: int) -> int:
    """Cells spanned by a ``kernel``-wide kernel at ``rate``: ``rate * (kernel - 1) + 1``.

    Examples
    --------
    >>> effective_kernel_size(3, 6)
    13
    """
    return _positive_int(rate, "rate") * (_positive_int(kernel, "kernel") - 1) + 1


def tap_offsets(kernel: int, rate: int) -> np.ndarray:
    """Offsets ``(dy, dx)`` in feature cells of each tap, row-major, centred on 0.

    Returns
    -------
    ndarray of int, shape (kernel * kernel, 2)

    Raises
    ------
    ValueError
        For an even kernel (no centre tap) or a non-positive rate.

    Examples
    --------
    >>> tap_offsets(3, 2)[:4].tolist()
    [[-2, -2], [-2, 0], [-2, 2], [0, -2]]
    """
    half, rate = _odd_kernel(kernel) // 2, _positive_int(rate, "rate")
    steps = np.arange(-half, half + 1) * rate
    dy, dx = np.meshgrid(steps, steps, indexing="ij")
    return np.stack([dy.ravel(), dx.ravel()], axis=1)


def rates_for_output_stride(output_stride: int) -> tuple[int, ...]:
    """ASPP rates for an output stride: (6, 12, 18) at 16 and (12, 24, 36) at 8.

    Those two come from DeepLab v3 (Sec. 3.3). For 32 the app extrapolates the paper's
    rule ``rates = (6, 12, 18) * 16 / OS`` to (3, 6, 9): this is the app's choice, not a
    value from the paper.

    Raises
    ------
    ValueError
        For any output stride other than 8, 16 or 32.

    Examples
    --------
    >>> rates_for_output_stride(8)
    (12, 24, 36)
    >>> rates_for_output_stride(32)
    (3, 6, 9)
    """
    if output_stride in DEEPLAB_V3_RATES:
        return DEEPLAB_V3_RATES[output_stride]
    if output_stride == 32:
        return tuple(r * 16 // 32 for r in DEEPLAB_V3_RATES[16])
    raise ValueError(f"output stride must be 8, 16 or 32, got {output_stride!r}")


def _axis_valid_taps(size: int, rate: int, kernel: int) -> np.ndarray:
    """Per position along one axis: taps of a centred dilated kernel inside ``[0, size)``."""
    half = kernel // 2
    taps = np.arange(size)[:, None] + np.arange(-half, half + 1)[None, :] * rate
    return ((taps >= 0) & (taps < size)).sum(axis=1)


def valid_weight_counts(
    feature_size: int | tuple[int, int], rate: int, kernel: int = 3
) -> dict[int, float]:
    """How many of a dilated kernel's weights land on the map, over all output positions.

    Padding is ``rate * (kernel // 2)`` (zeros), so the output has the input's size.

    Returns
    -------
    dict of int to float
        ``{valid weights: fraction of output positions}``, ascending keys, fractions sum 1.

    Examples
    --------
    >>> valid_weight_counts(65, 65)
    {1: 1.0}
    >>> valid_weight_counts(3, 1)
    {4: 0.4444444444444444, 6: 0.4444444444444444, 9: 0.1111111111111111}

    References
    ----------
    Chen et al. (2017), Fig. 4: on a 65 x 65 map the share of positions with all 9 weights
    valid falls as the rate grows; at large rates only the centre weight is valid.
    """
    h, w = (feature_size, feature_size) if not isinstance(feature_size, tuple) else feature_size
    h, w = _positive_int(h, "feature_size"), _positive_int(w, "feature_size")
    kernel, rate = _odd_kernel(kernel), _positive_int(rate, "rate")
    counts = np.outer(_axis_valid_taps(h, rate, kernel), _axis_valid_taps(w, rate, kernel))
    values, freq = np.unique(counts, return_counts=True)
    return {int(v): float(f) / (h * w) for v, f in zip(values, freq, strict=True)}


@dataclass(frozen=True)
class Coverage:
    """Input offsets reached by the centre output of a stack of dilated convolutions.

    Attributes
    ----------
    reach : ndarray of bool, shape (span, span)
        ``reach[span // 2 + dy, span // 2 + dx]`` is True when offset ``(dy, dx)`` feeds
        the centre output through some chain of taps.
    holes : int
        Offsets inside the span that are never reached (gridding).
    span : int
        Side of the stack's receptive field, ``1 + (k - 1) * sum(rates)``.
    """

    reach: np.ndarray
    holes: int
    span: int


def _reach_1d(rates: Sequence[int], kernel: int) -> np.ndarray:
    half = kernel // 2
    offsets = {0}
    for rate in rates:
        offsets = {o + t * rate for o in offsets for t in range(-half, half + 1)}
    span = 1 + 2 * half * sum(rates)
    line = np.zeros(span, dtype=bool)
    line[[o + span // 2 for o in offsets]] = True
    return line


def stack_coverage(rates: Sequence[int], kernel: int = 3) -> Coverage:
    """Which input offsets a stack of ``kernel x kernel`` convs at these rates reaches.

    Examples
    --------
    >>> stack_coverage((2, 2, 2)).holes  # even offsets only: 13*13 - 7*7
    120
    >>> stack_coverage((1, 2, 5)).holes
    0

    References
    ----------
    Wang et al. (2018), Fig. 2 ("gridding").
    """
    line = _reach_1d(_rates(rates), _odd_kernel(kernel))
    reach = np.outer(line, line)  # square kernels: taps form a product set
    return Coverage(reach=reach, holes=int((~reach).sum()), span=line.size)


@dataclass(frozen=True)
class HDCReport:
    """Hybrid dilated convolution check of a rate sequence (Wang et al. 2018).

    Attributes
    ----------
    rates : tuple of int
    kernel : int
    max_distances : tuple of int
        ``M_1 .. M_n``: the largest distance between two taps seen at each layer,
        ``M_n = r_n``, ``M_i = max(M_{i+1} - 2 r_i, M_{i+1} - 2 (M_{i+1} - r_i), r_i)``.
    common_factor : int
        ``gcd`` of the rates (1 means none).
    holes : int
        Exact count from :func:`stack_coverage`, for comparison.
    """

    rates: tuple[int, ...]
    kernel: int
    max_distances: tuple[int, ...]
    common_factor: int
    holes: int

    @property
    def max_distance_ok(self) -> bool:
        """``M_2 <= K``, the paper's design goal."""
        return self.max_distances[1] <= self.kernel

    @property
    def ok(self) -> bool:
        """``M_2 <= K`` and no common factor greater than 1."""
        return self.max_distance_ok and self.common_factor == 1


def hdc_check(rates: Sequence[int], kernel: int = 3) -> HDCReport:
    """Apply the HDC rules to a stack of at least two dilated convolutions.

    The rules are a design guide, not a coverage proof: with a first rate of 1 (as in the
    paper's examples, e.g. 1, 2, 5) a passing stack leaves no holes, but (2, 3) passes
    both rules and still misses 40 offsets. :func:`stack_coverage` is exact.

    Examples
    --------
    >>> report = hdc_check((1, 2, 9))
    >>> report.max_distances, report.ok, report.holes > 0
    ((3, 5, 9), False, True)

    References
    ----------
    Wang et al. (2018), Sec. 3.2, eq. for ``M_i`` and the "no common factor" rule.
    """
    rates, kernel = _rates(rates), _odd_kernel(kernel)
    if len(rates) < 2:
        raise ValueError(f"HDC needs a stack of at least two rates, got {rates!r}")
    distances = [rates[-1]]
    for rate in reversed(rates[:-1]):
        m = distances[0]
        distances.insert(0, max(m - 2 * rate, m - 2 * (m - rate), rate))
    return HDCReport(
        rates=rates, kernel=kernel, max_distances=tuple(distances),
        common_factor=math.gcd(*rates), holes=stack_coverage(rates, kernel).holes,
    )


class ASPPConv(nn.Sequential):
    """3x3 atrous conv (padding = dilation, no bias), batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation,
                      bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )


class ASPPPooling(nn.Sequential):
    """Image-level branch: global average pool, 1x1 conv, BN, ReLU, bilinear upsample."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """DeepLab v3 ASPP in torchvision's layout (a torchvision state_dict loads unchanged).

    Parameters
    ----------
    in_channels : int
    out_channels : int
        Channels of every branch and of the projection (256 in the paper).
    atrous_rates : sequence of int
        One 3x3 atrous branch per rate; (6, 12, 18) at output stride 16.

    Notes
    -----
    Argument order differs from torchvision's ``ASPP(in_channels, atrous_rates,
    out_channels)``; passing rates second raises ``ValueError``. In training mode the
    pooling branch's batch norm needs more than one sample (as in torchvision).

    Examples
    --------
    >>> aspp = ASPP(8, 4, (1, 2)).eval()
    >>> aspp(torch.zeros(1, 8, 5, 7)).shape
    torch.Size([1, 4, 5, 7])
    """

    def __init__(
        self, in_channels: int, out_channels: int = 256,
        atrous_rates: Sequence[int] = (6, 12, 18),
    ) -> None:
        super().__init__()
        in_channels = _positive_int(in_channels, "in_channels")
        out_channels = _positive_int(out_channels, "out_channels")
        rates = _rates(atrous_rates)
        modules: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )]
        modules += [ASPPConv(in_channels, out_channels, rate) for rate in rates]
        modules.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(
            nn.Conv2d(len(self.convs) * out_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
            nn.Dropout(0.5),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


def aspp_parameter_count(in_channels: int, out_channels: int, rates: Sequence[int]) -> int:
    """Trainable parameters of :class:`ASPP` (conv weights and BN affine; no buffers).

    ``C O (2 + 9 R) + (R + 2) O^2 + 2 O (R + 3)`` for ``R`` rates.

    Examples
    --------
    >>> aspp_parameter_count(2048, 256, (12, 24, 36))  # torchvision DeepLabHead's ASPP
    15535104
    """
    c, o = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    n = len(_rates(rates))
    return c * o * (2 + 9 * n) + (n + 2) * o * o + 2 * o * (n + 3)


def aspp_macs(
    in_channels: int, out_channels: int, rates: Sequence[int], feature_hw: tuple[int, int]
) -> int:
    """Multiply-adds of :class:`ASPP`'s convolutions on an ``(h, w)`` feature map.

    Counts every tap, padding included (as conv MAC counters do), so the count does not
    depend on the rates; batch norm, ReLU, pooling and upsampling are left out:
    ``h w C O (1 + 9 R) + C O + h w (R + 2) O^2``.

    Examples
    --------
    >>> aspp_macs(1, 1, (6,), (2, 2))  # 4*(1 + 9) + 1 + 4*3
    53
    """
    c, o = _positive_int(in_channels, "in_channels"), _positive_int(out_channels, "out_channels")
    h, w = (_positive_int(v, "feature_hw") for v in feature_hw)
    n = len(_rates(rates))
    return h * w * c * o * (1 + 9 * n) + c * o + h * w * (n + 2) * o * o


def _dilated_average(features: Tensor, rate: int) -> Tensor:
    channels = features.shape[1]
    ones = features.new_ones(channels, 1, 3, 3)
    total = F.conv2d(features, ones, padding=rate, dilation=rate, groups=channels)
    count = F.conv2d(features.new_ones(1, 1, *features.shape[-2:]), ones[:1],
                     padding=rate, dilation=rate)
    return total / count


def branch_previews(features: Tensor, rates: Sequence[int]) -> dict[str, Tensor]:
    """Deterministic stand-ins showing what each ASPP branch gathers (not learned weights).

    No trained ASPP weights ship with the app, so each branch is shown with uniform weights:
    ``"1x1"`` is the features themselves; ``"rate r"`` is a per-channel *uniform dilated
    3x3 average, not learned weights*, over the taps that land inside the map (zero padding
    ``r`` excluded from the count); ``"image pool"`` is the global mean per channel spread
    back over ``H x W``.

    Parameters
    ----------
    features : Tensor, shape (N, C, H, W)
    rates : sequence of distinct positive int

    Returns
    -------
    dict of str to Tensor, each shape (N, C, H, W)
        Keys ``"1x1"``, ``"rate 6"``, ... in the order given, then ``"image pool"``.

    Examples
    --------
    >>> x = torch.arange(9.0).view(1, 1, 3, 3)
    >>> previews = branch_previews(x, (1, 3))
    >>> list(previews)
    ['1x1', 'rate 1', 'rate 3', 'image pool']
    >>> previews["rate 1"][0, 0, 1, 1].item(), previews["rate 3"].equal(x)
    (4.0, True)
    """
    if not isinstance(features, Tensor) or features.dim() != 4 or min(features.shape) < 1:
        shape = tuple(features.shape) if isinstance(features, Tensor) else type(features)
        raise ValueError(f"features must be a non-empty (N, C, H, W) tensor, got {shape!r}")
    rates = _rates(rates)
    if len(set(rates)) != len(rates):
        raise ValueError(f"rates must be distinct, got {rates!r}")
    previews = {"1x1": features}
    previews.update({f"rate {r}": _dilated_average(features, r) for r in rates})
    pooled = features.mean(dim=(-2, -1), keepdim=True)
    previews["image pool"] = pooled.expand_as(features).contiguous()
    return previews
