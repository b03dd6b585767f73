"""Atrous spatial pyramid pooling (ASPP): DeepLab v3's module, its rates, size and cost.

ASPP runs a 1x1 conv, three 3x3 atrous convs and an image-level pooling branch side by side,
concatenates them and projects back to 256 channels. The dilated-kernel geometry lives in
:mod:`pyramidviz.atrous`; its names are re-exported here.

References
----------
.. [1] L.-C. Chen, G. Papandreou, F. Schroff, H. Adam, "Rethinking Atrous Convolution for
   Semantic Image Segmentation", arXiv:1706.05587, 2017 (DeepLab v3), Sec. 3.3, Fig. 5.
.. [2] torchvision ``torchvision/models/segmentation/deeplabv3.py`` (module layout).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pyramidviz.atrous import (
    Coverage,
    HDCReport,
    effective_kernel_size,
    hdc_check,
    stack_coverage,
    tap_cells,
    tap_offsets,
    taps_on_map,
    valid_weight_counts,
)
from pyramidviz.checks import (
    CodedError,
    IntListError,
    odd_kernel,
    parse_int_list,
    positive_int,
    positive_ints,
)
from pyramidviz.papers import DEEPLAB_V3_RATES

__all__ = [
    "ASPP", "ASPPConv", "ASPPPooling", "DEEPLAB_V3_RATES", "MAX_RATE", "MAX_RATES",
    "RatesError", "aspp_batchnorm_parameter_count", "aspp_macs", "aspp_macs_on_map",
    "aspp_parameter_count", "atrous_tap_share", "branch_previews", "centre_only_rates",
    "parse_rates", "rates_for_output_stride", "tap_spacings", "rates_source",
    # re-exported from pyramidviz.atrous
    "Coverage", "HDCReport", "effective_kernel_size", "hdc_check", "stack_coverage",
    "tap_offsets", "valid_weight_counts",
]

MAX_RATES = 6
MAX_RATE = 128


def rates_for_output_stride(output_stride: int) -> tuple[int, ...]:
    """ASPP rates for an output stride: (6, 12, 18) at 16 and (12, 24, 36) at 8.

    Those two come from DeepLab v3 (Sec. 3.3). For 32 the app extrapolates the paper's
    rule ``rates = (6, 12, 18) * 16 / OS`` to (3, 6, 9): the app's choice, not the paper's.

    Raises
    ------
    ValueError
        For any output stride other than 8, 16 or 32.

    Examples
    --------
    >>> rates_for_output_stride(8), rates_for_output_stride(32)
    ((12, 24, 36), (3, 6, 9))
    """
    if output_stride in DEEPLAB_V3_RATES:
        return DEEPLAB_V3_RATES[output_stride]
    if output_stride == 32:
        return tuple(r * 16 // 32 for r in DEEPLAB_V3_RATES[16])
    raise ValueError(f"output stride must be 8, 16 or 32, got {output_stride!r}")


def tap_spacings(output_strides: Sequence[int] = (16, 8)) -> dict[int, tuple[tuple[int, int],
                                                                            ...]]:
    """``{output stride: ((rate, tap spacing in px), ...)}`` for DeepLab v3's rates.

    A tap of rate ``r`` on a map of stride ``OS`` lies ``r * OS`` pixels from the centre, so
    halving the stride and doubling the rate reads the same pixels: OS 16 rate 6 = OS 8
    rate 12 = 96 px. That is why DeepLab v3 doubles the rates at OS 8 (Sec. 3.3).

    Examples
    --------
    >>> tap_spacings()
    {16: ((6, 96), (12, 192), (18, 288)), 8: ((12, 96), (24, 192), (36, 288))}
    """
    return {int(s): tuple((r, r * int(s)) for r in rates_for_output_stride(int(s)))
            for s in output_strides}


def rates_source(rates: Sequence[int], output_stride: int) -> str:
    """Where ``rates`` come from: ``"paper"``, ``"extrapolated"`` (OS 32) or ``"custom"``.

    Examples
    --------
    >>> rates_source((6, 12, 18), 16), rates_source((3, 6, 9), 32), rates_source((2,), 16)
    ('paper', 'extrapolated', 'custom')
    """
    if tuple(rates) != rates_for_output_stride(output_stride):
        return "custom"
    return "extrapolated" if output_stride == 32 else "paper"


class RatesError(CodedError):
    """Unusable rates text; ``code`` is ``"syntax"`` (not whole numbers), ``"count"`` (too
    few or too many), ``"range"`` (outside ``1..max_rate``) or ``"repeat"``."""

    CODES = ("syntax", "count", "range", "repeat")


def parse_rates(text: str, *, distinct: bool = True, min_count: int = 1,
                max_count: int = MAX_RATES, max_rate: int = MAX_RATE) -> tuple[int, ...]:
    """Rates typed as text, e.g. ``"6, 12, 18"`` (commas, spaces or semicolons), parsed by
    :func:`pyramidviz.checks.parse_int_list`.

    Raises
    ------
    RatesError
        A ``ValueError`` whose ``code`` says what is wrong with ``text``.

    Examples
    --------
    >>> parse_rates(" 6,12 ;18 "), parse_rates("2 2 2", distinct=False)
    ((6, 12, 18), (2, 2, 2))
    >>> try:
    ...     parse_rates("6, 6")
    ... except RatesError as error:
    ...     print(error.code, error)
    repeat Each rate may appear only once, got 6 twice in '6, 6'.
    """
    try:
        return parse_int_list(text, what="rate", low=1, high=max_rate, min_count=min_count,
                              max_count=max_count, distinct=distinct)
    except IntListError as error:  # the rates' codes: no rate typed is a count problem
        code = {"empty": "count", "number": "syntax"}.get(error.code, error.code)
        raise RatesError(str(error), code=code) from None


def centre_only_rates(feature_size: tuple[int, int], point: tuple[int, int],
                      rates: Sequence[int], *, kernel: int = 3) -> tuple[int, ...]:
    """Rates whose kernel, centred on ``point``, keeps only its centre tap on the map.

    Such a branch reads exactly what the 1x1 branch reads.

    Examples
    --------
    >>> centre_only_rates((19, 29), (9, 14), (6, 12, 18))
    (18,)

    References
    ----------
    Chen et al. (2017), Sec. 3.3: the 3 x 3 filter "degenerates to a simple 1 x 1 filter".
    """
    return tuple(int(r) for r in positive_ints(rates, "rates")
                 if tap_cells(feature_size, point, rate=r, kernel=kernel)[1].sum() == 1)


class ASPPConv(nn.Sequential):
    """``kernel x kernel`` atrous conv (padding keeps H x W, no bias), batch norm, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, dilation: int, *,
                 kernel: int = 3) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel, padding=dilation * (kernel // 2),
                      dilation=dilation, bias=False),
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
        One atrous branch per rate; (6, 12, 18) at output stride 16.
    kernel : int
        Odd size of the atrous kernels (3 in the paper and in torchvision).

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

    def __init__(self, in_channels: int, out_channels: int = 256,
                 atrous_rates: Sequence[int] = (6, 12, 18), *, kernel: int = 3) -> None:
        super().__init__()
        in_channels = positive_int(in_channels, "in_channels")
        out_channels = positive_int(out_channels, "out_channels")
        rates, kernel = positive_ints(atrous_rates, "rates"), odd_kernel(kernel)
        modules: list[nn.Module] = [nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(),
        )]
        modules += [ASPPConv(in_channels, out_channels, r, kernel=kernel) for r in rates]
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


def aspp_parameter_count(in_channels: int, out_channels: int, rates: Sequence[int], *,
                         kernel: int = 3) -> int:
    """Trainable parameters of :class:`ASPP` (conv weights and BN affine; no buffers).

    ``C O (2 + k² R) + (R + 2) O² + 2 O (R + 3)`` for ``R`` rates and ``k x k`` kernels.

    Examples
    --------
    >>> aspp_parameter_count(2048, 256, (12, 24, 36))  # torchvision DeepLabHead's ASPP
    15535104
    """
    c, o = positive_int(in_channels, "in_channels"), positive_int(out_channels, "out_channels")
    n, k = len(positive_ints(rates, "rates")), odd_kernel(kernel)
    return c * o * (2 + k * k * n) + (n + 2) * o * o + 2 * o * (n + 3)


def aspp_macs(in_channels: int, out_channels: int, rates: Sequence[int],
              feature_hw: tuple[int, int], *, kernel: int = 3) -> int:
    """Multiply-adds of :class:`ASPP`'s convolutions on an ``(h, w)`` feature map.

    Counts every tap, padding included (as conv MAC counters do), so the count does not
    depend on the rates; batch norm, ReLU, pooling and upsampling are left out:
    ``h w C O (1 + k² R) + C O + h w (R + 2) O²``.

    Examples
    --------
    >>> aspp_macs(1, 1, (6,), (2, 2))  # 4*(1 + 9) + 1 + 4*3
    53
    """
    c, o = positive_int(in_channels, "in_channels"), positive_int(out_channels, "out_channels")
    h, w = (positive_int(v, "feature_hw") for v in feature_hw)
    n, k = len(positive_ints(rates, "rates")), odd_kernel(kernel)
    return h * w * c * o * (1 + k * k * n) + c * o + h * w * (n + 2) * o * o


def aspp_batchnorm_parameter_count(out_channels: int, rates: Sequence[int]) -> int:
    """Batch-norm scales and shifts inside :func:`aspp_parameter_count`: ``2 O (R + 3)``.

    One batch norm per branch (1x1, ``R`` atrous, image pooling) and one after the
    projection, each with ``O`` scales and ``O`` shifts.

    Examples
    --------
    >>> aspp_batchnorm_parameter_count(256, (6, 12, 18))
    3072
    """
    o = positive_int(out_channels, "out_channels")
    return 2 * o * (len(positive_ints(rates, "rates")) + 3)


def aspp_macs_on_map(in_channels: int, out_channels: int, rates: Sequence[int],
                     feature_hw: tuple[int, int], *, kernel: int = 3) -> int:
    """Multiply-adds of :class:`ASPP` that read real features, not zero padding.

    :func:`aspp_macs` with each atrous branch's ``k² h w`` taps replaced by
    :func:`pyramidviz.atrous.taps_on_map`: large rates push taps off the map, so this count,
    unlike :func:`aspp_macs`, falls as the rates grow.

    Examples
    --------
    >>> aspp_macs_on_map(1, 1, (6,), (2, 2))  # 4 + 4 (only the centre taps) + 1 + 4*3
    21
    >>> aspp_macs_on_map(1, 1, (1,), (2, 2)) == aspp_macs(1, 1, (1,), (2, 2)) - 4 * 5
    True
    """
    c, o = positive_int(in_channels, "in_channels"), positive_int(out_channels, "out_channels")
    h, w = (positive_int(v, "feature_hw") for v in feature_hw)
    rates, k = positive_ints(rates, "rates"), odd_kernel(kernel)
    taps = sum(taps_on_map((h, w), r, kernel=k) for r in rates)
    return c * o * (h * w + taps) + c * o + h * w * (len(rates) + 2) * o * o


def atrous_tap_share(feature_hw: tuple[int, int], rates: Sequence[int], *,
                     kernel: int = 3) -> float:
    """Share of the atrous branches' taps that land on the map (the rest read padding).

    Examples
    --------
    >>> round(atrous_tap_share((19, 29), (6, 12, 18)), 4)  # 6,525 of 14,877
    0.4386
    """
    h, w = (positive_int(v, "feature_hw") for v in feature_hw)
    rates, k = positive_ints(rates, "rates"), odd_kernel(kernel)
    return sum(taps_on_map((h, w), r, kernel=k) for r in rates) / (k * k * h * w * len(rates))


def _dilated_average(features: Tensor, rate: int, kernel: int) -> Tensor:
    channels, pad = features.shape[1], rate * (kernel // 2)
    ones = features.new_ones(channels, 1, kernel, kernel)
    total = F.conv2d(features, ones, padding=pad, dilation=rate, groups=channels)
    count = F.conv2d(features.new_ones(1, 1, *features.shape[-2:]), ones[:1],
                     padding=pad, dilation=rate)
    return total / count


def branch_previews(features: Tensor, rates: Sequence[int], *,
                    kernel: int = 3) -> dict[str, Tensor]:
    """Deterministic stand-ins showing what each ASPP branch gathers (not learned weights).

    No trained ASPP weights ship with the app, so each branch is shown with uniform weights:
    ``"1x1"`` is the features themselves; ``"rate r"`` is a per-channel *uniform dilated
    average, not learned weights*, over the ``kernel x kernel`` taps that land inside the
    map (zero padding excluded from the count); ``"image pool"`` is the global mean per
    channel spread back over ``H x W``.

    Parameters
    ----------
    features : Tensor, shape (N, C, H, W)
    rates : sequence of distinct positive int
    kernel : odd int

    Returns
    -------
    dict of str to Tensor, each shape (N, C, H, W)
        ``"1x1"``, ``"rate 6"``, ... in the order of ``rates``, then ``"image pool"``.

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
    rates, kernel = positive_ints(rates, "rates"), odd_kernel(kernel)
    if len(set(rates)) != len(rates):
        raise ValueError(f"rates must be distinct, got {rates!r}")
    previews = {"1x1": features}
    previews.update({f"rate {r}": _dilated_average(features, r, kernel) for r in rates})
    pooled = features.mean(dim=(-2, -1), keepdim=True)
    previews["image pool"] = pooled.expand_as(features).contiguous()
    return previews
