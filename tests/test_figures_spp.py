"""Figures of the SPP page: the bins figure (bins, winners, frames), spec helpers, budgets.

The pyramid, sizes and rules figures are tested in tests/test_figures_spp_{pyramid,sizes}.py;
the helpers below (photo, features, rectangles) are shared with them.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz import spp
from pyramidviz.figures import base, spp_pyramid, spp_rules, spp_sizes, spp_spec
from pyramidviz.figures import spp as figs
from pyramidviz.receptive import Box, FieldInfo

NAMES = {k: k for k in ("map", "photo", "bins", "winner", "current", "stride", "field", "play",
                        "pause", "step")} | {"hover": "bin {k} ({row}, {col}): {value:.4g}"}
RULES = {"rows": "rows {a}", "cols": "cols {a}", "adaptive": "adaptive", "paper": "paper",
         "wrong": "wrong", "uncovered": "uncovered", "zero": "stride 0",
         "count": "{got} windows (n = {n})", "left": ", never pooled: {k}"}
STAGE7 = FieldInfo(size=(851, 851), jump=(32, 32), padding=(414, 423))  # chelsea, traced
PIXEL = FieldInfo(size=(1, 1), jump=(1, 1), padding=(0, 0))


def rng_features(c: int = 6, h: int = 10, w: int = 15, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(c, h, w)).astype(np.float32)


def photo(h: int = 300, w: int = 451, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def build(values, level, *, mode="max", current=0, field=STAGE7, image=None, **kw):
    image = photo() if image is None else image
    views = figs.bin_views(values, level, mode=mode, field=field, image_size=image.shape[:2])
    fig = figs.bins_figure(values, image, views, current=current, names=NAMES,
                           bin_title="bin {k}/{count} ({row}, {col}) = {value:.3g}", **kw)
    return views, fig


def rectangles(trace) -> list[tuple[float, float, float, float]]:
    """Closed paths of a boxes trace back to (top, left, bottom, right)."""
    xs, ys, boxes = list(trace.x), list(trace.y), []
    for start in range(0, len(xs), 6):
        x, y = xs[start:start + 5], ys[start:start + 5]
        boxes.append((min(y), min(x), max(y), max(x)))
    return boxes


def by_role(fig, role):
    return [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("role") == role]


def decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


# ---------------------------------------------------------------- bins and winners


@pytest.mark.parametrize("level", [1, 2, 3, 4, 6, 8, 12])
def test_bins_figure_draws_one_box_per_bin_and_one_frame_per_bin(level):
    values = rng_features(1)[0]
    views, fig = build(values, level)
    bins = next(t for t in fig.data if t.name == "bins")
    assert len(rectangles(bins)) == level * level == len(views)
    assert len(fig.frames) == (level * level if level <= figs.ANIMATE_MAX_LEVEL else 0)
    assert bool(fig.layout.sliders) == (level <= figs.ANIMATE_MAX_LEVEL)
    if fig.layout.sliders:
        assert [s.label for s in fig.layout.sliders[0].steps] == [
            str(k) for k in range(1, level * level + 1)]


def test_bin_boxes_follow_the_adaptive_rule_inset():
    values = rng_features(1, h=7, w=10)[0]
    _, fig = build(values, 4, field=PIXEL, image=photo(7, 10))
    boxes = rectangles(next(t for t in fig.data if t.name == "bins"))
    rows, cols = spp.bin_edges(7, 4), spp.bin_edges(10, 4)  # rows overlap: (0,2),(1,4)...
    expected = [(r0 + 0.08, c0 + 0.08, r1 - 0.08, c1 - 0.08) for r0, r1 in rows for c0, c1 in cols]
    np.testing.assert_allclose(boxes, expected)


@pytest.mark.parametrize("level", [1, 2, 4, 6])
def test_winner_markers_are_spps_argmax_for_the_chosen_channel(level):
    features = rng_features(c=5, h=9, w=13, seed=level)
    result = spp.spatial_pyramid_pool(torch.from_numpy(features)[None], (level,))
    channel = 3
    values = spp_pyramid.channel_map(features, str(channel))
    views, fig = build(values, level, image=photo(288, 416))
    argmax = result.argmax[0][0, channel].numpy().reshape(-1, 2)
    assert [v.winner for v in views] == [tuple(map(int, rc)) for rc in argmax]
    winners = by_role(fig, "winners")[0]
    marked = np.stack([np.asarray(winners.y) - 0.5, np.asarray(winners.x) - 0.5], axis=1)
    np.testing.assert_array_equal(marked, argmax)
    pooled = result.pooled[0][0, channel].numpy().ravel()
    np.testing.assert_array_equal([v.value for v in views], pooled)


def test_mean_view_pools_the_shown_map_and_avg_mode_has_no_winners():
    features = rng_features()
    values = spp_pyramid.channel_map(features, "mean")
    views, fig = build(values, 2, mode="avg")
    expected = F.adaptive_avg_pool2d(torch.from_numpy(values)[None, None], 2).numpy().ravel()
    np.testing.assert_allclose([v.value for v in views], expected, rtol=1e-6)
    assert all(v.winner is None for v in views)
    assert len(by_role(fig, "winners")[0].x) == 0


def test_current_bin_and_its_photo_boxes_by_hand():
    """stage7 of the 451 x 300 cat: 10 x 15 cells, 32 px apart, fields 851 px wide."""
    values = rng_features(1)[0]
    views, fig = build(values, 4, current=5)
    view = views[5]  # row 1, col 1 of a 4 x 4 grid on 10 x 15 cells
    assert (view.row, view.col, view.rows, view.cols) == (1, 1, (2, 5), (3, 8))
    assert view.stride_box == Box(64, 96, 160, 256)
    assert view.field_box == Box(0, 0, 300, 451)  # the field spills over the whole photo
    current = next(t for t in fig.data if t.name == "current")
    assert rectangles(current) == [(2, 3, 5, 8)]
    stride = next(t for t in fig.data if t.name == "stride")
    assert rectangles(stride) == [(64, 96, 160, 256)]
    assert "bin 6/16 (1, 1)" in fig.layout.title.text


def test_frames_move_the_current_bin_traces():
    values = rng_features(1)[0]
    views, fig = build(values, 2, field=STAGE7)
    names = [t.name for t in fig.data]
    for view, frame in zip(views, fig.frames, strict=True):
        moved = {names[i]: trace for i, trace in zip(frame.traces, frame.data, strict=True)}
        assert rectangles(moved["current"]) == [
            (view.rows[0], view.cols[0], view.rows[1], view.cols[1])]
        b = view.stride_box
        assert rectangles(moved["stride"]) == [(b.top, b.left, b.bottom, b.right)]
        assert frame.name == str(view.index + 1)
        assert f"bin {view.index + 1}/4" in frame.layout.title.text


def test_bins_figure_rejects_a_bad_current_bin():
    with pytest.raises(ValueError, match="current must index"):
        build(rng_features(1)[0], 2, current=4)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 20), w=st.integers(1, 20), n=st.integers(1, 10))
def test_bins_cover_every_cell_and_winners_sit_in_their_bin(h, w, n):
    values = np.random.default_rng(h * 31 + w).normal(size=(h, w)).astype(np.float32)
    views = figs.bin_views(values, n, mode="max", field=PIXEL, image_size=(h, w))
    assert len(views) == n * n
    covered = np.zeros((h, w), bool)
    for v in views:
        (r0, r1), (c0, c1) = v.rows, v.cols
        covered[r0:r1, c0:c1] = True
        assert r0 <= v.winner[0] < r1 and c0 <= v.winner[1] < c1
        assert v.value == values[r0:r1, c0:c1].max()
    assert covered.all()



def test_the_photo_layer_is_the_shared_memoised_palette_png_over_pixel_coordinates():
    image = photo(300, 451)
    _, fig = build(rng_features(1)[0], 2, image=image)
    layer = next(t for t in fig.data if t.type == "image" and t.name == "photo")
    assert layer.xaxis == "x2"
    assert layer.source == base.photo_png_uri(image, side=spp_spec.PHOTO_SIDE)[0]
    shown = decode(layer.source)
    assert shown.shape[:2] == (266, 400)  # 451 x 300 shrunk to 400 px wide
    assert layer.dx * shown.shape[1] == pytest.approx(451)  # covers the photo's own pixels
    assert layer.dy * shown.shape[0] == pytest.approx(300)


def test_spec_panels_boxes_and_titles():
    layout = spp_spec.panels([2, 1], gap=0.1)
    np.testing.assert_allclose(layout["xaxis"]["domain"], [0, 0.6])
    np.testing.assert_allclose(layout["xaxis2"]["domain"], [0.7, 1.0])
    assert spp_spec.panel_title(layout, 2, "t", y=1)["x"] == pytest.approx(0.85)
    spec = spp_spec.boxes([(1, 2, 3, 4), (0, 0, 1, 1)], color="red", panel=2)
    fig = spp_spec.figure([spec], layout, title=None, height=300)
    assert rectangles(fig.data[0]) == [(1, 2, 3, 4), (0, 0, 1, 1)]
    assert fig.data[0].yaxis == "y2"


# ---------------------------------------------------------------- budgets


def test_every_figure_stays_under_300_kb_even_for_a_noisy_large_photo():
    big = photo(700, 1000)  # noise: the worst case for PNG
    features = rng_features(c=1280, h=22, w=32)
    values = spp_pyramid.channel_map(features, "max")
    _, bins = build(values, 8, image=big)
    _, dense = build(values, 32, image=big)  # 1,024 bins: thin outlines, no mesh on the photo
    levels = (6, 3, 2, 1)
    pyr = spp_pyramid.pyramid_figure(
        spp_pyramid.view_grids(values, levels, "max"),
        spp_pyramid.spp_vector(features, levels, "max"), channels=1280, title="t",
        level_title="{n}", segment_label="{n}", reduced_note="{k}")
    crop, warp = spp_sizes.crop_and_warp(big)
    sizes = spp_sizes.sizes_figure([big, crop, warp], ["a", "b", "c"], stride=32,
                                   bins=[6, None, None])
    rules = spp_rules.rules_figure((22, 32), levels, labels=RULES)
    for fig in (bins, dense, pyr, sizes, rules):
        assert base.figure_bytes(fig) < 300_000
