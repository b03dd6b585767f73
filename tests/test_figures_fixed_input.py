"""The opening picture (crop / warp vs SPP's bins) and the ASPP grid of the slides."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pyramidviz.aspp import branch_previews
from pyramidviz.bins import bin_edges
from pyramidviz.compare import aspp_preview_grid
from pyramidviz.figures.spp_sizes import fixed_input_figure
from pyramidviz.images import crop_and_warp
from pyramidviz.sizes import backbone_map_hw

PHOTO = np.random.default_rng(0).integers(0, 256, (300, 451, 3), dtype=np.uint8)
CROP, WARP = crop_and_warp(PHOTO, 224)


def test_panels_are_crop_warp_and_the_whole_photo_at_one_pixel_scale():
    fig = fixed_input_figure(PHOTO, CROP, WARP, ["crop", "warp", "spp"], stride=32, level=4)
    images = [tr for tr in fig.data if tr.type == "image"]
    assert len(images) == 3
    assert [fig.layout[f"xaxis{s}"].range[1] for s in ("", "2", "3")] == [224, 224, 451]
    assert all(fig.layout[f"yaxis{s}"].range == (300, 0) for s in ("", "2", "3"))
    widths = [fig.layout[f"xaxis{s}"].domain for s in ("", "2", "3")]
    spans = [d[1] - d[0] for d in widths]
    assert spans[0] == pytest.approx(spans[1]) and spans[2] / spans[0] == pytest.approx(
        451 / 224, rel=0.02)  # one pixel scale: the whole photo is wider than the crops
    assert [a.text for a in fig.layout.annotations] == ["crop", "warp", "spp"]


def test_only_the_whole_photo_carries_the_bins_of_its_feature_map():
    level, stride = 4, 32
    fig = fixed_input_figure(PHOTO, CROP, WARP, ["a", "b", "c"], stride=stride, level=level)
    by_panel = {}
    for trace in fig.data:
        if trace.type == "scatter":
            by_panel.setdefault(trace.xaxis or "x", []).append(trace)
    assert [len(by_panel[p]) for p in ("x", "x2", "x3")] == [1, 1, 2]  # grid; grid + bins
    fh, fw = backbone_map_hw((300, 451), stride)
    bins = by_panel["x3"][1]
    xs = {x for x in bins.x if x is not None}
    expected = {min(c * stride, 451) for edges in bin_edges(fw, level) for c in edges}
    assert xs == expected
    ys = {y for y in bins.y if y is not None}
    assert ys == {min(r * stride, 300) for edges in bin_edges(fh, level) for r in edges}


def test_the_crop_and_warp_panels_are_what_crop_and_warp_make():
    fig = fixed_input_figure(PHOTO, CROP, WARP, ["a", "b", "c"])
    images = [tr for tr in fig.data if tr.type == "image"]
    assert [(tr.x0 * 2 / tr.dx, tr.y0 * 2 / tr.dy) for tr in images] == [(1.0, 1.0)] * 3
    assert CROP.shape == WARP.shape == (224, 224, 3)
    with pytest.raises(ValueError, match="3 titles"):
        fixed_input_figure(PHOTO, CROP, WARP, ["only one"])


def test_aspp_grid_is_the_mean_of_every_branch_preview():
    features = np.random.default_rng(1).normal(size=(5, 7, 9)).astype(np.float32)
    grid = aspp_preview_grid(features, (1, 3), kernel=3)
    previews = branch_previews(torch.from_numpy(features)[None], (1, 3))
    expected = np.mean([p[0].numpy().mean(axis=0) for p in previews.values()], axis=0)
    assert grid.shape == (7, 9)
    np.testing.assert_allclose(grid, expected, rtol=1e-5, atol=1e-6)
    assert features.flags.writeable  # the input is not touched (shared feature maps)


def test_aspp_grid_of_a_constant_map_is_that_constant():
    grid = aspp_preview_grid(np.full((3, 4, 6), 2.5, np.float32), (2, 5))
    np.testing.assert_allclose(grid, 2.5, rtol=1e-6)
