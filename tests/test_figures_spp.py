"""Figures of the SPP page: bins, winners, frames, pyramid strip, sizes and binning rules."""

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

from pyramidviz import i18n, spp
from pyramidviz.figures import base
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


# ---------------------------------------------------------------- channel view


def test_channel_map_mean_max_and_one_channel():
    features = rng_features()
    np.testing.assert_allclose(figs.channel_map(features, "mean"), features.mean(0))
    np.testing.assert_array_equal(figs.channel_map(features, "max"), features.max(0))
    np.testing.assert_array_equal(figs.channel_map(features, "3"), features[3])
    with pytest.raises(ValueError, match="channel must be in"):
        figs.channel_map(features, "6")


def test_top_channels_are_ranked_by_mean_activation():
    features = np.zeros((7, 2, 2), np.float32)
    for c, level in enumerate([0.1, 5, -2, 3, 4, 0.5, 2]):
        features[c] = level
    assert figs.top_channels(features, 5) == (1, 4, 3, 6, 5)


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
    values = figs.channel_map(features, str(channel))
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
    values = figs.channel_map(features, "mean")
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


# ---------------------------------------------------------------- pyramid


def pyramid(features, levels, channel="mean", mode="max"):
    result = spp.spatial_pyramid_pool(torch.from_numpy(features)[None], levels, mode=mode)
    vector = result.vector[0].numpy()
    values = figs.channel_map(features, channel)
    grids = [np.array([v.value for v in figs.bin_views(values, n, mode=mode, field=PIXEL,
                                                       image_size=values.shape)]).reshape(n, n)
             for n in levels]
    c = features.shape[0]
    title = i18n.translate("en", "common.vector_length", c=c, bins=sum(n * n for n in levels),
                           n=vector.size)
    fig = figs.pyramid_figure(grids, vector, channels=c, title=title, level_title="{n}",
                              segment_label="{n}: {size}", reduced_note="{k} per px")
    return vector, grids, fig


def test_pyramid_title_heatmaps_and_strip_for_4_2_1():
    features = rng_features(c=320, h=10, w=15)
    vector, grids, fig = pyramid(features, (4, 2, 1))
    assert fig.layout.title.text == "320 × 21 = 6,720"
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert [np.asarray(h.z).shape for h in heatmaps] == [(4, 4), (2, 2), (1, 1)]
    for heatmap, grid in zip(heatmaps, grids, strict=True):
        np.testing.assert_allclose(np.asarray(heatmap.z), grid)
    strip = next(t for t in fig.data if t.type == "image" and t.name == "vector")
    assert decode(strip.source).shape[:2] == (1, 6720)  # one pixel per value
    separators = next(t for t in fig.data if t.type == "scatter")
    assert sorted({x for x in separators.x if x is not None}) == [0, 5120, 6400, 6720]
    labels = [a.text for a in fig.layout.annotations]
    assert {"4: 5120", "2: 1280", "1: 320"} <= set(labels)


def test_pyramid_for_the_paper_6_3_2_1_on_256_channels():
    """He et al. (2015): 50 bins; with 256 channels the vector has 12,800 values."""
    vector, _, fig = pyramid(rng_features(c=256, h=13, w=13), (6, 3, 2, 1))
    assert vector.size == 12_800 == spp.vector_length(256, (6, 3, 2, 1))
    assert fig.layout.title.text == "256 × 50 = 12,800"
    strip = next(t for t in fig.data if t.type == "image")
    assert decode(strip.source).shape[1] == 6400 and strip.dx == 2  # 2 values per pixel
    assert "2 per px" in [a.text for a in fig.layout.annotations]


def test_pyramid_rejects_a_vector_of_the_wrong_length():
    with pytest.raises(ValueError, match="vector must have shape"):
        figs.pyramid_figure([np.ones((2, 2))], np.zeros(7), channels=2, title="",
                            level_title="", segment_label="", reduced_note="")


# ---------------------------------------------------------------- sizes


def test_scaled_and_feature_sizes():
    assert figs.scaled_size((300, 451), 1.5) == (450, 676)
    assert figs.scaled_size((1000, 1500), 1.5) == (816, 1225)  # capped at 1 M pixels
    assert figs.scaled_size((32, 40), 0.1) == (8, 8)
    assert figs.feature_size((450, 676), 32) == (15, 22)
    with pytest.raises(ValueError, match="scale must be positive"):
        figs.scaled_size((10, 10), 0)


@pytest.mark.parametrize("tap,stride", [("stem", 2), ("stage3", 8), ("stage7", 32)])
@pytest.mark.parametrize("hw", [(37, 61), (64, 64), (113, 90)])
def test_feature_size_matches_the_real_backbone(tap, stride, hw):
    from pyramidviz.backbones import EfficientNetLite0, extract

    model = EfficientNetLite0().eval()
    features = extract(model, np.zeros((*hw, 3), np.uint8), tap)
    assert features.shape[1:] == figs.feature_size(hw, stride)


def test_crop_and_warp():
    image = np.zeros((300, 600, 3), np.uint8)
    image[:, 150:450] = 255  # the centre square survives the crop; the warp squeezes it
    crop, warp = figs.crop_and_warp(image)
    assert crop.shape == warp.shape == (224, 224, 3)
    assert crop[112, 5].min() > 200 and crop[112, 218].min() > 200
    assert warp[112, 20].max() < 50 and warp[112, 112].min() > 200


def test_sizes_figure_shares_one_pixel_scale():
    photos = [photo(225, 338), photo(224, 224), photo(224, 224)]
    fig = figs.sizes_figure(photos, ["a", "b", "c"], stride=32, bins=[4, None, None])
    domains = [fig.layout[f"xaxis{s}"].domain for s in ("", "2", "3")]
    widths = [d[1] - d[0] for d in domains]
    np.testing.assert_allclose(np.array(widths) / widths[0], [1, 224 / 338, 224 / 338])
    assert {fig.layout[f"yaxis{s}"].range for s in ("", "2", "3")} == {(225, 0)}
    grid = next(t for t in fig.data if t.type == "scatter" and t.xaxis == "x")
    assert grid.x.count(None) == (8 + 1) + (11 + 1)  # 8 x 11 cells at stride 32
    bins = [t for t in fig.data if t.type == "scatter" and t.xaxis == "x"][1]
    assert len(rectangles(bins)) == 16
    assert [a.text for a in fig.layout.annotations] == ["a", "b", "c"]


# ---------------------------------------------------------------- which bins?


def lane_notes(fig, yref: str) -> list[tuple[str, bool]]:
    """Text beside each lane, in lane order, and whether it is drawn red."""
    notes = sorted((a for a in fig.layout.annotations if a.yref == yref), key=lambda a: a.y)
    return [(a.text, a.font.color != "#333333") for a in notes]


def test_rules_figure_for_a_10_by_15_map():
    fig = figs.rules_figure((10, 15), (4, 2, 1), labels=RULES)
    counts = {(t.yaxis, t.meta["role"]): t.meta["count"] for t in fig.data if t.meta}
    # 10 rows, n=4: window 3 stride 2 -> 4 windows, row 9 never pooled (paper rule breaks).
    assert counts[("y", "adaptive")] == 4 + 2 + 1
    assert counts[("y", "wrong")] == 4 and counts[("y", "uncovered")] == 1
    assert counts[("y", "paper")] == 2 + 1
    # 15 columns, n=4: window 4 stride 3 -> 4 windows, columns 13 and 14 never pooled.
    assert counts[("y2", "uncovered")] == 2
    rows, cols = lane_notes(fig, "y"), lane_notes(fig, "y2")
    assert rows[0:2] == [("4 windows (n = 4)", False), ("4 windows (n = 4), never pooled: 1",
                                                           True)]
    assert cols[1] == ("4 windows (n = 4), never pooled: 2", True)
    assert rows[2:] == cols[2:] == [("2 windows (n = 2)", False)] * 2 + [
        ("1 windows (n = 1)", False)] * 2
    titles = [a.text for a in fig.layout.annotations if a.yref == "paper"]
    assert titles == ["rows 10", "cols 15"]


def test_rules_figure_marks_wrong_counts_and_zero_stride():
    fig = figs.rules_figure((7, 3), (4,), labels=RULES)
    assert lane_notes(fig, "y")[1] == ("6 windows (n = 4)", True)  # a = 7: six, not four
    assert lane_notes(fig, "y2")[1] == ("stride 0", True)  # a = 3 < n = 4: no layer at all
    counts = {(t.yaxis, t.meta["role"]): t.meta["count"] for t in fig.data if t.meta}
    assert counts[("y", "wrong")] == 6 and counts[("y2", "uncovered")] == 3


# ---------------------------------------------------------------- budgets


def test_every_figure_stays_under_300_kb_even_for_a_noisy_large_photo():
    big = photo(700, 1000)  # noise: the worst case for PNG
    features = rng_features(c=1280, h=22, w=32)
    values = figs.channel_map(features, "max")
    _, bins = build(values, 8, image=big)
    _, dense = build(values, 32, image=big)  # 1,024 bins: thin outlines, no mesh on the photo
    _, _, pyr = pyramid(features, (6, 3, 2, 1))
    crop, warp = figs.crop_and_warp(big)
    sizes = figs.sizes_figure([big, crop, warp], ["a", "b", "c"], stride=32, bins=[6, None, None])
    rules = figs.rules_figure((22, 32), (6, 3, 2, 1), labels=RULES)
    for fig in (bins, dense, pyr, sizes, rules):
        assert base.figure_bytes(fig) < 300_000
