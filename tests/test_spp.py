"""Tests for pyramidviz.spp: the bins of pyramidviz.bins are torch's, bit-identical pooling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz.bins import bin_edges, paper_rule_report, vector_length
from pyramidviz.spp import SpatialPyramidPooling, spatial_pyramid_pool

LEVELS = st.lists(st.integers(1, 8), min_size=1, max_size=4)


def _torch_windows(size: int, bins: int) -> list[tuple[int, int]]:
    """Windows torch's adaptive pooling really uses, read off an arange tensor."""
    x = torch.arange(size, dtype=torch.float64).view(1, 1, 1, size)
    end = F.adaptive_max_pool2d(x, (1, bins)).flatten() + 1
    start = -F.adaptive_max_pool2d(-x, (1, bins)).flatten()
    return [(int(s), int(e)) for s, e in zip(start, end, strict=True)]


# ---------------------------------------------------------------- bins

@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(1, 40))
def test_adaptive_bins_count_cover_and_match_torch(size: int, bins: int) -> None:
    edges = bin_edges(size, bins)
    assert len(edges) == bins
    assert all(start < end for start, end in edges)
    assert {c for s, e in edges for c in range(s, e)} == set(range(size))
    assert edges == _torch_windows(size, bins)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.integers(1, 40))
def test_paper_windows_are_what_plain_pooling_yields(size: int, bins: int) -> None:
    windows = bin_edges(size, bins, rule="paper")
    win, stride = -(-size // bins), size // bins
    report = paper_rule_report(size, bins)
    assert report.n_windows == len(windows)
    if stride == 0:
        assert windows == [] and report.zero_stride and not report.ok
        return
    x = torch.arange(size, dtype=torch.float64).view(1, 1, size)
    pooled = F.max_pool1d(x, win, stride).flatten()  # max of each window = its last cell
    assert [e - 1 for _, e in windows] == pooled.int().tolist()
    assert all(e - s == win for s, e in windows)
    uncovered = set(range(size)) - {c for s, e in windows for c in range(s, e)}
    assert report.uncovered == tuple(sorted(uncovered))
    assert report.ok == (len(windows) == bins and not uncovered)


# ---------------------------------------------------------------- pooling

@settings(max_examples=60, deadline=None)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 5), LEVELS)
def test_vector_length_never_depends_on_h_w(h: int, w: int, c: int, levels: list) -> None:
    result = spatial_pyramid_pool(torch.zeros(2, c, h, w), levels)
    assert result.vector.shape == (2, vector_length(c, levels))
    assert [p.shape for p in result.pooled] == [(2, c, n, n) for n in levels]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), LEVELS, st.integers(0, 2**31 - 1))
def test_bit_identical_to_torch_adaptive_pooling(h: int, w: int, levels: list,
                                                 seed: int) -> None:
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    for mode, pool in (("max", F.adaptive_max_pool2d), ("avg", F.adaptive_avg_pool2d)):
        expected = torch.cat([pool(x, n).flatten(1) for n in levels], 1)
        assert torch.equal(spatial_pyramid_pool(x, levels, mode=mode).vector, expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), LEVELS, st.integers(0, 2**31 - 1))
def test_argmax_points_at_the_pooled_value_inside_its_bin(h: int, w: int, levels: list,
                                                          seed: int) -> None:
    x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(seed))
    result = spatial_pyramid_pool(x, levels)
    for n, pooled, argmax in zip(levels, result.pooled, result.argmax, strict=True):
        assert argmax.shape == (2, 3, n, n, 2) and argmax.dtype == torch.int64
        rows, cols = argmax[..., 0], argmax[..., 1]
        picked = x[torch.arange(2)[:, None, None, None], torch.arange(3)[None, :, None, None],
                   rows, cols]
        assert torch.equal(picked, pooled)
        for i, (r0, r1) in enumerate(bin_edges(h, n)):
            assert ((rows[:, :, i] >= r0) & (rows[:, :, i] < r1)).all()
        for j, (c0, c1) in enumerate(bin_edges(w, n)):
            assert ((cols[:, :, :, j] >= c0) & (cols[:, :, :, j] < c1)).all()


def test_hand_case_max_bins() -> None:
    x = torch.arange(16.0).view(1, 1, 4, 4)
    result = spatial_pyramid_pool(x, (2, 1))
    assert result.vector.tolist() == [[5.0, 7.0, 13.0, 15.0, 15.0]]
    assert result.argmax[1].tolist() == [[[[[3, 3]]]]]
    assert spatial_pyramid_pool(x, (1,), mode="avg").vector.item() == 7.5
    assert spatial_pyramid_pool(x, (1,), mode="avg").argmax is None


def test_published_vector_lengths() -> None:
    assert vector_length(256, (4, 2, 1)) == 5376  # He et al. (2015), ZF-5 conv5
    assert vector_length(1, (6, 3, 2, 1)) == 50
    x = torch.zeros(1, 256, 13, 13)
    assert spatial_pyramid_pool(x, (4, 2, 1)).vector.shape == (1, 5376)


@pytest.mark.parametrize(
    ("levels", "mode", "x", "match"),
    [
        ((), "max", torch.zeros(1, 1, 4, 4), "levels"),
        ((2, 0), "max", torch.zeros(1, 1, 4, 4), "levels"),
        ((2.5,), "max", torch.zeros(1, 1, 4, 4), "levels"),
        ("421", "max", torch.zeros(1, 1, 4, 4), "levels"),
        ((2,), "sum", torch.zeros(1, 1, 4, 4), "mode"),
        ((2,), "max", torch.zeros(1, 4, 4), "shape"),
        ((2,), "max", torch.zeros(1, 1, 0, 4), "shape"),
    ],
)
def test_spatial_pyramid_pool_validates(levels, mode, x, match) -> None:
    with pytest.raises(ValueError, match=match):
        spatial_pyramid_pool(x, levels, mode=mode)


def test_module_wraps_function_for_any_input_size() -> None:
    layer = SpatialPyramidPooling((4, 2, 1), mode="avg")
    head = torch.nn.Linear(vector_length(8, (4, 2, 1)), 3)
    for h, w in ((13, 13), (10, 27), (2, 3)):
        x = torch.randn(1, 8, h, w)
        out = layer(x)
        assert torch.equal(out, spatial_pyramid_pool(x, (4, 2, 1), mode="avg").vector)
        assert head(out).shape == (1, 3)
    assert "levels=(4, 2, 1)" in repr(layer)
    with pytest.raises(ValueError, match="mode"):
        SpatialPyramidPooling(mode="median")
