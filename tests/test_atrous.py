"""Tests for pyramidviz.atrous: dilated tap geometry, conv arithmetic, valid weights (DeepLab v3
Fig. 4), gridding and the HDC rules (Wang et al. 2018)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz.atrous import (
    effective_kernel_size,
    hdc_check,
    stack_coverage,
    tap_cells,
    tap_offsets,
    valid_weight_counts,
)
from pyramidviz.sizes import conv_output_size

# ---------------------------------------------------------------- kernel geometry


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([1, 3, 5, 7]), st.integers(1, 40))
def test_tap_offsets_row_major_centred_and_span(kernel: int, rate: int) -> None:
    taps = tap_offsets(kernel, rate)
    assert taps.shape == (kernel * kernel, 2)
    assert taps[kernel * kernel // 2].tolist() == [0, 0]
    assert taps.tolist() == sorted(taps.tolist())  # row-major: dy, then dx, ascending
    assert (taps % rate == 0).all() and (taps.sum(0) == 0).all()
    assert taps.max() - taps.min() + 1 == effective_kernel_size(kernel, rate)


def test_effective_kernel_size_hand_values() -> None:
    assert [effective_kernel_size(3, r) for r in (1, 2, 6, 12, 18)] == [3, 5, 13, 25, 37]


@pytest.mark.parametrize("kernel", [2, 4, 0])
def test_tap_offsets_rejects_even_or_empty_kernels(kernel: int) -> None:
    with pytest.raises(ValueError, match="kernel"):
        tap_offsets(kernel, 1)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 12), w=st.integers(1, 12), rate=st.integers(1, 15),
       kernel=st.sampled_from([1, 3, 5, 7]), data=st.data())
def test_tap_cells_are_the_offsets_around_the_point(h, w, rate, kernel, data) -> None:
    row, col = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    cells, inside = tap_cells((h, w), (row, col), rate=rate, kernel=kernel)
    assert cells.tolist() == [[row + dy, col + dx] for dy, dx in tap_offsets(kernel, rate)]
    assert inside.tolist() == [0 <= r < h and 0 <= c < w for r, c in cells.tolist()]
    assert inside[kernel * kernel // 2]  # the centre tap is the point itself


def test_tap_cells_hand_case_and_bad_point() -> None:
    cells, inside = tap_cells((19, 29), (9, 14), rate=12)
    assert cells[inside].tolist() == [[9, 2], [9, 14], [9, 26]]  # rows 9 +- 12 fall off
    with pytest.raises(ValueError, match="point"):
        tap_cells((4, 4), (4, 0), rate=1)


@settings(max_examples=80, deadline=None)
@given(size=st.integers(1, 12), kernel=st.sampled_from([1, 2, 3, 5]), padding=st.integers(0, 4),
       stride=st.integers(1, 4), dilation=st.integers(1, 4))
def test_conv_output_size_matches_torch(size, kernel, padding, stride, dilation) -> None:
    expected = conv_output_size(size, kernel, padding=padding, stride=stride, dilation=dilation)
    x, w = torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel)
    if expected < 1:
        with pytest.raises(RuntimeError):
            F.conv2d(x, w, padding=padding, stride=stride, dilation=dilation)
        return
    out = F.conv2d(x, w, padding=padding, stride=stride, dilation=dilation)
    assert out.shape[-1] == expected


def test_same_padding_keeps_the_size() -> None:
    """Padding r (k // 2) at stride 1 keeps H x W: how ASPP keeps the map (Sec. 3.3)."""
    for k in (1, 3, 5, 7):
        for r in (1, 6, 18):
            assert conv_output_size(19, k, padding=r * (k // 2), dilation=r) == 19


# ---------------------------------------------------------------- valid weights


def _brute_counts(h: int, w: int, rate: int, kernel: int) -> dict[int, float]:
    counts: dict[int, int] = {}
    taps = tap_offsets(kernel, rate)
    for y in range(h):
        for x in range(w):
            n = sum(0 <= y + dy < h and 0 <= x + dx < w for dy, dx in taps)
            counts[n] = counts.get(n, 0) + 1
    return {k: v / (h * w) for k, v in sorted(counts.items())}


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 15), st.sampled_from([1, 3, 5]))
def test_valid_weight_counts_match_brute_force(h: int, w: int, rate: int, kernel: int) -> None:
    counts = valid_weight_counts((h, w), rate, kernel)
    assert counts == _brute_counts(h, w, rate, kernel)
    assert sum(counts.values()) == pytest.approx(1.0)


def test_valid_weights_on_65x65_rate_1() -> None:
    """Fig. 4 at rate 1: all 9 weights valid except on the 1-cell border."""
    total = 65 * 65
    assert valid_weight_counts(65, 1) == {
        4: 4 / total, 6: 4 * 63 / total, 9: 63 * 63 / total,
    }


@settings(max_examples=30, deadline=None)
@given(st.integers(65, 400))
def test_valid_weights_on_65x65_degenerate_to_centre(rate: int) -> None:
    """Fig. 4: once the rate reaches the map size only the centre weight is valid."""
    assert valid_weight_counts(65, rate) == {1: 1.0}


def test_share_of_full_filters_falls_with_rate_on_65x65() -> None:
    full = [valid_weight_counts(65, r).get(9, 0.0) for r in range(1, 66)]
    assert all(a >= b for a, b in zip(full, full[1:], strict=False))
    assert full[:32] == [(65 - 2 * r) ** 2 / 65**2 for r in range(1, 33)]
    assert set(full[32:]) == {0.0}  # rate >= 33: no position keeps all 9 weights


def test_valid_weight_counts_validates() -> None:
    with pytest.raises(ValueError, match="map_hw"):
        valid_weight_counts(0, 1)
    with pytest.raises(ValueError, match="rate"):
        valid_weight_counts(5, 0)
    with pytest.raises(ValueError, match="kernel"):
        valid_weight_counts(5, 1, kernel=4)


# ---------------------------------------------------------------- gridding and HDC


def _conv_reach(rates: tuple[int, ...], kernel: int) -> np.ndarray:
    """Reach of the stack measured by pushing a delta through real dilated convs."""
    span = 1 + (kernel - 1) * sum(rates)
    x = torch.zeros(1, 1, span, span, dtype=torch.float64)
    x[0, 0, span // 2, span // 2] = 1.0
    ones = torch.ones(1, 1, kernel, kernel, dtype=torch.float64)
    for rate in rates:
        x = F.conv2d(x, ones, padding=rate * (kernel // 2), dilation=rate)
    return (x[0, 0] != 0).numpy()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), st.sampled_from([3, 5]))
def test_stack_coverage_matches_real_convolutions(rates: list, kernel: int) -> None:
    coverage = stack_coverage(rates, kernel)
    assert coverage.span == 1 + (kernel - 1) * sum(rates)
    assert np.array_equal(coverage.reach, _conv_reach(tuple(rates), kernel))
    assert coverage.holes == int((~coverage.reach).sum())


def test_gridding_2_2_2_has_holes_and_fails_hdc() -> None:
    coverage = stack_coverage((2, 2, 2))
    assert (coverage.span, coverage.holes) == (13, 13 * 13 - 7 * 7)
    assert coverage.reach[6, 6] and not coverage.reach[6, 7]  # checkerboard of even offsets
    report = hdc_check((2, 2, 2))
    assert report.common_factor == 2 and not report.ok


@pytest.mark.parametrize(("rates", "distances"), [((1, 2, 5), (1, 2, 5)),
                                                   ((1, 2, 3), (1, 2, 3))])
def test_hdc_examples_pass_and_cover_everything(rates: tuple, distances: tuple) -> None:
    report = hdc_check(rates)
    assert report.max_distances == distances  # M_2 = 2 <= K = 3
    assert report.max_distance_ok and report.common_factor == 1 and report.ok
    assert report.holes == 0 and stack_coverage(rates).holes == 0


def test_hdc_max_distance_rule_can_fail_alone() -> None:
    report = hdc_check((1, 2, 9))  # M_2 = max(9 - 4, 9 - 14, 2) = 5 > 3
    assert report.max_distances[1] == 5 and not report.max_distance_ok
    assert report.common_factor == 1 and report.holes > 0


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=3))
def test_hdc_pass_starting_at_rate_1_means_no_holes(tail: list) -> None:
    report = hdc_check((1, *tail))
    if report.ok:
        assert report.holes == 0


def test_hdc_needs_two_rates() -> None:
    with pytest.raises(ValueError, match="two"):
        hdc_check((2,))
