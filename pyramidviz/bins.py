"""SPP's bins: the windows a pyramid level pools, how many there are, and the paper's rule.

Each pyramid level ``n`` splits the (H, W) map into ``n x n`` bins; the levels together give
``C * sum(n * n)`` numbers whatever H and W are. Two binning rules exist and they differ: the
*adaptive* rule (the authors' code, PyTorch's adaptive pooling) and the *paper* rule quoted in
the main text (window ``ceil(a/n)``, stride ``floor(a/n)``), which often yields the wrong
number of windows. Pure integers, no torch: :mod:`pyramidviz.spp` pools with torch over these
windows.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 37(9), 2015 (arXiv:1406.4729), Sec. 2.3, Fig. 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyramidviz.checks import CodedError, IntListError, parse_int_list, positive_int, positive_ints

__all__ = [
    "LEVEL_ERROR_CODES", "LevelsError", "MAX_LEVEL", "MAX_LEVEL_COUNT", "PaperRuleReport",
    "bin_count", "bin_edges", "bin_of", "oversized_levels", "paper_rule_failures",
    "paper_rule_report", "parse_levels", "vector_length", "widest_bin",
]

MAX_LEVEL = 32
"""Largest level :func:`parse_levels` accepts (32 x 32 = 1,024 bins)."""
MAX_LEVEL_COUNT = 8
"""Most levels :func:`parse_levels` accepts."""
_RULES = ("adaptive", "paper")


def bin_edges(size: int, bins: int, rule: str = "adaptive") -> list[tuple[int, int]]:
    """Half-open windows ``[start, end)`` that split ``size`` cells into ``bins`` bins.

    Parameters
    ----------
    size : int
        Cells along one axis of the feature map (``a`` in the paper).
    bins : int
        Pyramid level ``n``.
    rule : {"adaptive", "paper"}
        ``"adaptive"``: bin ``i`` is ``[floor(i*a/n), ceil((i+1)*a/n))``, exactly
        ``start_index``/``end_index`` of PyTorch's ``aten/src/ATen/native/AdaptivePooling.h``:
        always ``n`` windows covering every cell (neighbours may share one cell).
        ``"paper"``: window ``ceil(a/n)`` and stride ``floor(a/n)`` run as a plain pooling
        layer without padding, returning what that really yields:
        ``floor((a - win) / stride) + 1`` windows. When ``a < n`` the stride is 0 and no
        pooling layer exists (PyTorch raises "stride should not be zero"): the result is
        ``[]``.

    Returns
    -------
    list of (int, int)

    Raises
    ------
    ValueError
        For non-positive sizes or an unknown rule.

    Examples
    --------
    >>> bin_edges(7, 4)
    [(0, 2), (1, 4), (3, 6), (5, 7)]
    >>> bin_edges(7, 4, rule="paper")
    [(0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7)]
    >>> bin_edges(3, 4, rule="paper")
    []
    """
    size, bins = positive_int(size, "size"), positive_int(bins, "bins")
    if rule == "adaptive":
        return [(i * size // bins, -(-(i + 1) * size // bins)) for i in range(bins)]
    if rule != "paper":
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
    window, stride = -(-size // bins), size // bins
    if stride == 0:
        return []
    count = (size - window) // stride + 1
    return [(i * stride, i * stride + window) for i in range(count)]


@dataclass(frozen=True)
class PaperRuleReport:
    """What the paper's rule (window ``ceil(a/n)``, stride ``floor(a/n)``) does to one size.

    Attributes
    ----------
    size, bins : int
        ``a`` and ``n``.
    window, stride : int
        ``ceil(a/n)`` and ``floor(a/n)``.
    n_windows : int
        Windows a plain pooling layer really produces (0 when the stride is 0).
    wrong_count : bool
        ``n_windows != bins``.
    uncovered : tuple of int
        Cells that no window pools (all of them when the stride is 0).
    zero_stride : bool
        ``a < n``: no pooling layer can be built.
    """

    size: int
    bins: int
    window: int
    stride: int
    n_windows: int
    wrong_count: bool
    uncovered: tuple[int, ...]
    zero_stride: bool

    @property
    def ok(self) -> bool:
        """True when the rule gives exactly ``n`` windows covering every cell."""
        return not (self.wrong_count or self.uncovered or self.zero_stride)


def paper_rule_report(size: int, bins: int) -> PaperRuleReport:
    """Check the paper's binning rule for one map size and level.

    Examples
    --------
    >>> r = paper_rule_report(10, 4)
    >>> (r.window, r.stride, r.n_windows, r.uncovered, r.ok)
    (3, 2, 4, (9,), False)
    >>> paper_rule_report(7, 4).n_windows
    6

    References
    ----------
    He et al. (2015), Sec. 2.3: "window size ceil(a/n) and stride floor(a/n)".
    """
    windows = bin_edges(size, bins, rule="paper")
    covered = {cell for start, end in windows for cell in range(start, end)}
    return PaperRuleReport(
        size=size, bins=bins, window=-(-size // bins), stride=size // bins,
        n_windows=len(windows), wrong_count=len(windows) != bins,
        uncovered=tuple(c for c in range(size) if c not in covered),
        zero_stride=size < bins,
    )


def paper_rule_failures(max_size: int, levels: Sequence[int], *,
                        smaller_maps: bool = False) -> list[PaperRuleReport]:
    """Every (size, level) with ``n <= size <= max_size`` where the paper's rule breaks.

    Sizes below the level (fewer cells than bins) break every rule that wants ``n``
    disjoint bins, so by default they are left out: what remains is where the paper's
    formula fails although the map is large enough (``oversized_levels`` explains the rest).

    Parameters
    ----------
    max_size : int
        Largest map side to check.
    levels : sequence of int
        Pyramid levels ``n`` (bins per side).
    smaller_maps : bool
        Also list sizes ``1 <= size < n``.

    Examples
    --------
    >>> [(r.size, r.bins) for r in paper_rule_failures(7, (4, 2, 1))]
    [(6, 4), (7, 4)]
    >>> [(r.size, r.bins) for r in paper_rule_failures(3, (4, 2), smaller_maps=True)]
    [(1, 2), (1, 4), (2, 4), (3, 4)]
    """
    levels = positive_ints(levels, "pyramid levels")
    reports = (
        paper_rule_report(size, n)
        for size in range(1, positive_int(max_size, "max_size") + 1)
        for n in sorted(set(levels))
        if smaller_maps or size >= n
    )
    return [report for report in reports if not report.ok]


def oversized_levels(levels: Sequence[int], map_hw: tuple[int, int]
                     ) -> dict[int, int]:
    """Levels with more bins per side than the map's shorter side has cells.

    Such a level still gives ``n * n`` bins (the adaptive rule always does), but along that
    side ``n`` windows share fewer than ``n`` cells: neighbouring windows overlap and each
    holds one or two cells, so the level repeats cells instead of adding finer detail.

    Returns
    -------
    dict of int to int
        ``{level: cells on the shorter side}`` for every such level, in the order given.

    Examples
    --------
    A 12 x 12 level on a 10 x 15 map: 12 row windows over 10 rows, the first two overlap.

    >>> oversized_levels((12, 4, 1), (10, 15)), bin_edges(10, 12)[:2]
    ({12: 10}, [(0, 1), (0, 2)])
    """
    short = min(map_hw)
    return {n: short for n in positive_ints(levels, "pyramid levels") if n > short}


def bin_count(levels: Sequence[int]) -> int:
    """Number of bins ``sum(n * n)`` of a pyramid: 21 for 4-2-1, 50 for SPP-net's 6-3-2-1.

    Examples
    --------
    >>> bin_count((4, 2, 1)), bin_count((6, 3, 2, 1))
    (21, 50)
    """
    return sum(n * n for n in positive_ints(levels, "pyramid levels"))


def vector_length(channels: int, levels: Sequence[int]) -> int:
    """Length ``C * sum(n * n)`` of the SPP vector (He et al. 2015, Sec. 2.3).

    Examples
    --------
    >>> vector_length(256, (4, 2, 1))
    5376
    """
    return positive_int(channels, "channels") * bin_count(levels)


LEVEL_ERROR_CODES = ("empty", "count", "number", "range", "repeat")
"""Every :attr:`LevelsError.code`, in the order :func:`parse_levels` checks them."""


class LevelsError(CodedError):
    """Typed pyramid levels that cannot be used: a machine ``code`` and the offending value.

    The English message stays in ``str(error)``; an interface translates by ``code``
    (one of :data:`LEVEL_ERROR_CODES`) and may quote ``value``.

    Attributes
    ----------
    code : str
        ``"empty"`` (no level typed), ``"count"`` (more than :data:`MAX_LEVEL_COUNT`),
        ``"number"`` (not a whole number), ``"range"`` (outside 1 .. :data:`MAX_LEVEL`),
        ``"repeat"`` (a level typed twice).
    value : int, str or None
        The number of levels typed (``count``), the token (``number``), the level
        (``range``, ``repeat``); None for ``empty``.

    Examples
    --------
    >>> error = LevelsError("range", "Each level must be between 1 and 32, got 40.", value=40)
    >>> error.code, error.value, isinstance(error, ValueError)
    ('range', 40, True)
    """

    CODES = LEVEL_ERROR_CODES

    def __init__(self, code: str, message: str, *, value: int | str | None = None) -> None:
        super().__init__(message, code=code, value=value)


def parse_levels(text: str) -> tuple[int, ...]:
    """Parse pyramid levels typed by a user, such as ``"4,2,1"`` or ``"6 3 2 1"``.

    Levels are separated by commas, semicolons or spaces and kept in the order typed (the
    vector follows it); :func:`pyramidviz.checks.parse_int_list` does the parsing. Each
    level is a whole number from 1 to 32; at most 8 levels; a level may appear only once
    (a repeat would only copy the same numbers into the vector).

    Raises
    ------
    LevelsError
        A ``ValueError`` with a message a student can act on and a ``code`` to translate.

    Examples
    --------
    >>> parse_levels("4, 2, 1")
    (4, 2, 1)
    >>> parse_levels("6 3 2 1")
    (6, 3, 2, 1)
    >>> try:
    ...     parse_levels("4, 2, 4")
    ... except LevelsError as error:
    ...     print(error.code, error.value)
    repeat 4
    """
    try:
        return parse_int_list(text, what="level", low=1, high=MAX_LEVEL,
                              max_count=MAX_LEVEL_COUNT)
    except IntListError as error:
        raise LevelsError(error.code, str(error), value=error.value) from None


def bin_of(cell: int, size: int, bins: int) -> int:
    """Index of the first adaptive bin along an axis of ``size`` cells that holds ``cell``.

    Neighbouring adaptive bins may share a cell; the first one is returned.

    Raises
    ------
    ValueError
        For a cell outside ``0 .. size - 1``.

    Examples
    --------
    >>> [bin_of(c, 7, 4) for c in range(7)]
    [0, 0, 1, 1, 2, 2, 3]
    """
    for index, (start, end) in enumerate(bin_edges(size, bins)):
        if start <= cell < end:
            return index
    raise ValueError(f"cell must be in 0 .. {size - 1}, got {cell!r}")


def widest_bin(size: int, bins: int) -> int:
    """Widest adaptive window ``ceil((i+1)a/n) - floor(ia/n)`` over the ``n`` bins.

    A uniform pooling kernel this wide stands in for adaptive pooling when the sizes do not
    divide (:mod:`pyramidviz.tracing` traces adaptive pooling layers this way).

    Examples
    --------
    >>> widest_bin(7, 4), widest_bin(8, 4), widest_bin(3, 4)
    (3, 2, 2)
    """
    return max(end - start for start, end in bin_edges(size, bins))
