"""Dilated (atrous) convolution geometry: taps, output size, valid weights, gridding.

A ``k x k`` kernel at rate ``r`` puts ``r - 1`` gaps between its taps: it spans
``r (k - 1) + 1`` cells with still ``k * k`` weights. With padding ``r (k // 2)`` the output
keeps the input's size (:func:`pyramidviz.sizes.conv_output_size`). :func:`branch_taps`
places the taps on the photo through a backbone's receptive field. Pure numpy, no torch.

References
----------
.. [1] L.-C. Chen, G. Papandreou, F. Schroff, H. Adam, "Rethinking Atrous Convolution for
   Semantic Image Segmentation", arXiv:1706.05587, 2017 (DeepLab v3), Sec. 3.3, Fig. 4.
.. [2] P. Wang et al., "Understanding Convolution for Semantic Segmentation", WACV 2018
   (hybrid dilated convolution, HDC), Sec. 3.2, Fig. 2.
.. [3] V. Dumoulin, F. Visin, "A guide to convolution arithmetic for deep learning",
   arXiv:1603.07285, 2016, relationship 15.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pyramidviz.checks import odd_kernel, positive_int, positive_ints
from pyramidviz.receptive import Box, FieldInfo
from pyramidviz.sizes import conv_output_size

__all__ = [
    "BranchTaps", "Coverage", "HDCReport", "ValidWeights", "branch_taps", "effective_kernel_size",
    "hdc_check", "sliding_taps", "stack_coverage", "tap_cells", "tap_offsets", "taps_on_map",
    "valid_weight_counts", "valid_weights_table",
]


def effective_kernel_size(kernel: int, rate: int) -> int:
    """Cells spanned by a ``kernel``-wide kernel at ``rate``: ``rate * (kernel - 1) + 1``.

    Examples
    --------
    >>> effective_kernel_size(3, 6)
    13
    """
    return positive_int(rate, "rate") * (positive_int(kernel, "kernel") - 1) + 1


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
    half, rate = odd_kernel(kernel) // 2, positive_int(rate, "rate")
    steps = np.arange(-half, half + 1) * rate
    dy, dx = np.meshgrid(steps, steps, indexing="ij")
    return np.stack([dy.ravel(), dx.ravel()], axis=1)


def tap_cells(map_hw: tuple[int, int], point: tuple[int, int], *, rate: int,
              kernel: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Cells read by a kernel centred on ``point``, and which of them lie on the map.

    Returns
    -------
    cells : ndarray of int, shape (kernel * kernel, 2)
        ``(row, col)`` of every tap, row-major (may lie off the map).
    inside : ndarray of bool, shape (kernel * kernel,)

    Raises
    ------
    ValueError
        For a point off the map, an even kernel or a non-positive rate.

    Examples
    --------
    >>> cells, inside = tap_cells((4, 4), (0, 0), rate=2)
    >>> cells[inside].tolist()
    [[0, 0], [0, 2], [2, 0], [2, 2]]
    """
    (h, w), (row, col) = map_hw, point
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"point must be a cell of the {map_hw!r} map, got {point!r}")
    cells = tap_offsets(kernel, rate) + np.array([row, col])
    inside = (cells[:, 0] >= 0) & (cells[:, 0] < h) & (cells[:, 1] >= 0) & (cells[:, 1] < w)
    return cells, inside


def _axis_valid_taps(size: int, rate: int, kernel: int) -> np.ndarray:
    """Per position along one axis: taps of a centred dilated kernel inside ``[0, size)``."""
    half = kernel // 2
    taps = np.arange(size)[:, None] + np.arange(-half, half + 1)[None, :] * rate
    return ((taps >= 0) & (taps < size)).sum(axis=1)


def valid_weight_counts(
    map_hw: int | tuple[int, int], rate: int, kernel: int = 3
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
    h, w = (map_hw, map_hw) if not isinstance(map_hw, tuple) else map_hw
    h, w = positive_int(h, "map_hw"), positive_int(w, "map_hw")
    kernel, rate = odd_kernel(kernel), positive_int(rate, "rate")
    counts = np.outer(_axis_valid_taps(h, rate, kernel), _axis_valid_taps(w, rate, kernel))
    values, freq = np.unique(counts, return_counts=True)
    return {int(v): float(f) / (h * w) for v, f in zip(values, freq, strict=True)}


def taps_on_map(map_hw: int | tuple[int, int], rate: int, kernel: int = 3) -> int:
    """Taps that read the map (not its zero padding), summed over every output position.

    A same-size dilated conv makes ``k * k * h * w`` taps; only these touch real features,
    so only they do useful multiply-adds. The kernel is separable, so the count is the
    product of the per-axis counts ``a + 2 * sum_t max(a - t r, 0)``.

    Examples
    --------
    >>> taps_on_map((19, 29), 6), taps_on_map((19, 29), 18), 9 * 19 * 29
    (3375, 1071, 4959)
    >>> taps_on_map(5, 1, kernel=1)
    25
    """
    h, w = (map_hw, map_hw) if not isinstance(map_hw, tuple) else map_hw
    h, w = positive_int(h, "map_hw"), positive_int(w, "map_hw")
    kernel, rate = odd_kernel(kernel), positive_int(rate, "rate")
    return int(_axis_valid_taps(h, rate, kernel).sum() * _axis_valid_taps(w, rate, kernel).sum())


@dataclass(frozen=True)
class ValidWeights:
    """Share of output positions by number of valid kernel weights, per rate.

    Attributes
    ----------
    kernel : int
    rates : ndarray of int, shape (n,)
    counts : tuple of int
        Numbers of valid weights that occur at some rate (columns of ``share``), ascending.
    share : ndarray of float, shape (n, len(counts))
        ``share[i, j]``: fraction of positions with ``counts[j]`` valid weights at
        ``rates[i]`` (:func:`valid_weight_counts`); rows sum to 1.
    """

    kernel: int
    rates: np.ndarray
    counts: tuple[int, ...]
    share: np.ndarray


def valid_weights_table(map_hw: tuple[int, int], *, kernel: int = 3,
                        max_rate: int | None = None) -> ValidWeights:
    """Valid-weight shares for rates ``1 .. max_rate`` (default ``max(h, w) + 2``).

    Examples
    --------
    >>> t = valid_weights_table((65, 65), max_rate=65)
    >>> t.counts[-1], round(float(t.share[0, -1]), 4), float(t.share[64, 0])
    (9, 0.9394, 1.0)
    """
    h, w = map_hw
    max_rate = max(h, w) + 2 if max_rate is None else max_rate
    rates = np.arange(1, max_rate + 1)
    rows = [valid_weight_counts((h, w), int(r), kernel) for r in rates]
    counts = tuple(sorted({c for row in rows for c in row}))
    share = np.array([[row.get(c, 0.0) for c in counts] for row in rows])
    return ValidWeights(kernel, rates, counts, share)


@dataclass(frozen=True)
class Coverage:
    """Input offsets reached by the centre output of a stack of dilated convolutions.

    Attributes
    ----------
    reach : ndarray of bool, shape (span, span)
        ``reach[span // 2 + dy, span // 2 + dx]``: offset ``(dy, dx)`` feeds the centre.
    holes : int
        Offsets inside the span that are never reached (gridding).
    span : int
        Side of the stack's receptive field, ``1 + (k - 1) * sum(rates)``.
    """

    reach: np.ndarray
    holes: int
    span: int


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
    rates, half = positive_ints(rates, "rates"), odd_kernel(kernel) // 2
    offsets = {0}
    for rate in rates:
        offsets = {o + t * rate for o in offsets for t in range(-half, half + 1)}
    line = np.zeros(1 + 2 * half * sum(rates), dtype=bool)
    line[[o + line.size // 2 for o in offsets]] = True
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
    rates, kernel = positive_ints(rates, "rates"), odd_kernel(kernel)
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


@dataclass(frozen=True)
class BranchTaps:
    """Where the taps of one atrous branch land for one feature cell.

    Attributes
    ----------
    rate : int
    cells : ndarray of int, shape (k * k, 2)
        Feature cells ``(row, col)`` read by the taps (may lie off the map).
    pixels : ndarray of float, shape (k * k, 2)
        Their centres ``(y, x)`` in image pixels, ``FieldInfo.center``: taps are
        ``rate * stride`` pixels apart.
    inside : ndarray of bool, shape (k * k,)
        True for taps on the map (the others read zero padding).
    field : Box
        Theoretical receptive field: union of the fields of the taps on the map, clipped
        to the image (the backbone field grown by ``(k - 1) * rate * stride`` when all fit).
    """

    rate: int
    cells: np.ndarray
    pixels: np.ndarray
    inside: np.ndarray
    field: Box


def branch_taps(field: FieldInfo, map_hw: tuple[int, int], point: tuple[int, int], *,
                rate: int, kernel: int = 3, photo_hw: tuple[int, int]) -> BranchTaps:
    """Taps of a ``kernel x kernel`` conv at ``rate`` centred on ``point``.

    Examples
    --------
    >>> f = FieldInfo(size=(3, 3), stride=(16, 16), padding=(0, 0))
    >>> t = branch_taps(f, (4, 4), (0, 0), rate=2, photo_hw=(64, 64))
    >>> t.pixels[4].tolist(), t.pixels[5].tolist(), int(t.inside.sum()), t.field
    ([1.0, 1.0], [1.0, 33.0], 4, Box(top=0, left=0, bottom=35, right=35))
    """
    cells, inside = tap_cells(map_hw, point, rate=rate, kernel=kernel)
    pixels = np.column_stack(field.center(cells[:, 0], cells[:, 1])).astype(float)
    on = cells[inside]
    box = field.block_box((int(on[:, 0].min()), int(on[:, 0].max()) + 1),
                          (int(on[:, 1].min()), int(on[:, 1].max()) + 1), image_size=photo_hw)
    return BranchTaps(int(rate), cells, pixels, inside, box)


def sliding_taps(size: int, kernel: int, *, rate: int, padding: int, stride: int,
                 position: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Where a dilated kernel's taps sit on the padded input for one output position.

    Output ``(oy, ox)`` reads padded-input cells ``(oy s + a d, ox s + b d)`` for
    ``a, b = 0 .. k - 1``; those in ``[p, p + size)`` on both axes are real input, the others
    zero padding (Dumoulin and Visin's relationship 15 for the output size).

    Returns
    -------
    cells : ndarray of int, shape (k * k, 2)
        ``(row, col)`` in padded-input coordinates, row-major.
    real : ndarray of bool, shape (k * k,)

    Raises
    ------
    ValueError
        For a position outside the ``o x o`` output.

    Examples
    --------
    >>> cells, real = sliding_taps(5, 3, rate=2, padding=1, stride=1, position=(0, 1))
    >>> cells[:3].tolist(), real[:3].tolist()
    ([[0, 1], [0, 3], [0, 5]], [False, False, False])
    """
    out = conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    oy, ox = position
    if not (0 <= oy < out and 0 <= ox < out):
        raise ValueError(f"position must be a cell of the {out} x {out} output, got {position!r}")
    steps = np.arange(odd_kernel(kernel)) * positive_int(rate, "rate")
    ys, xs = np.meshgrid(oy * stride + steps, ox * stride + steps, indexing="ij")
    cells = np.stack([ys.ravel(), xs.ravel()], axis=1)
    real = ((cells >= padding) & (cells < padding + size)).all(axis=1)
    return cells, real
