"""Any size in, same length out (sizes, crop/warp, table, figure) and the binning-rules figure."""

from __future__ import annotations

import numpy as np
import pytest
from figure_helpers import RULES, photo, rectangles

from pyramidviz import spp
from pyramidviz.compare import feature_size
from pyramidviz.figures import spp_rules
from pyramidviz.figures import spp_sizes as figs

# ---------------------------------------------------------------- sizes


def test_scaled_and_feature_sizes():
    assert figs.scaled_size((300, 451), 1.5) == (450, 676)
    assert figs.scaled_size((1000, 1500), 1.5) == (816, 1225)  # capped at 1 M pixels
    assert figs.scaled_size((32, 40), 0.1) == (8, 8)
    assert feature_size((450, 676), 32) == (15, 22)
    with pytest.raises(ValueError, match="scale must be positive"):
        figs.scaled_size((10, 10), 0)


@pytest.mark.parametrize("tap,stride", [("stem", 2), ("stage3", 8), ("stage7", 32)])
@pytest.mark.parametrize("hw", [(37, 61), (64, 64), (113, 90)])
def test_feature_size_matches_the_real_backbone(tap, stride, hw):
    from pyramidviz.backbones import EfficientNetLite0, extract

    model = EfficientNetLite0().eval()
    features = extract(model, np.zeros((*hw, 3), np.uint8), tap)
    assert features.shape[1:] == feature_size(hw, stride)


def test_crop_and_warp():
    image = np.zeros((300, 600, 3), np.uint8)
    image[:, 150:450] = 255  # the centre square survives the crop; the warp squeezes it
    crop, warp = figs.crop_and_warp(image)
    assert crop.shape == warp.shape == (224, 224, 3)
    assert crop[112, 5].min() > 200 and crop[112, 218].min() > 200
    assert warp[112, 20].max() < 50 and warp[112, 112].min() > 200


def test_size_table_for_the_cat_at_stage7():
    """451 x 300 px at stride 32; 320 channels; 4-2-1 pyramid (21 bins)."""
    rows = figs.size_table((300, 451), ["0.5", "1", "1.5"], fixed=224, channels=320, stride=32,
                           levels=(4, 2, 1))
    assert [(r.kind, r.scale) for r in rows] == [("scaled", "0.5"), ("scaled", "1"),
                                                 ("scaled", "1.5"), ("crop", None),
                                                 ("warp", None)]
    assert [r.photo_hw for r in rows] == [(150, 226), (300, 451), (450, 676), (224, 224),
                                          (224, 224)]
    assert [r.map_hw for r in rows] == [(5, 8), (10, 15), (15, 22), (7, 7), (7, 7)]
    assert [r.flat for r in rows] == [320 * 40, 320 * 150, 320 * 330, 320 * 49, 320 * 49]
    assert [r.spp for r in rows] == [6720] * 3 + [None, None]  # the length never changes


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
    boxes = rectangles(bins)
    assert len(boxes) == 16
    rows, cols = spp.bin_edges(8, 4), spp.bin_edges(11, 4)  # bins in cells, drawn in pixels
    assert boxes == [(r0 * 32, c0 * 32, min(r1 * 32, 225), min(c1 * 32, 338))
                     for r0, r1 in rows for c0, c1 in cols]
    assert [a.text for a in fig.layout.annotations] == ["a", "b", "c"]
    assert [t.name for t in fig.data if t.type == "image"] == ["photo"] * 3


# ---------------------------------------------------------------- which bins?


def lane_notes(fig, yref: str) -> list[tuple[str, bool]]:
    """Text beside each lane, in lane order, and whether it is drawn red."""
    notes = sorted((a for a in fig.layout.annotations if a.yref == yref), key=lambda a: a.y)
    return [(a.text, a.font.color != "#333333") for a in notes]


def test_rules_figure_for_a_10_by_15_map():
    fig = spp_rules.rules_figure((10, 15), (4, 2, 1), labels=RULES)
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
    fig = spp_rules.rules_figure((7, 3), (4,), labels=RULES)
    assert lane_notes(fig, "y")[1] == ("6 windows (n = 4)", True)  # a = 7: six, not four
    assert lane_notes(fig, "y2")[1] == ("stride 0", True)  # a = 3 < n = 4: no layer at all
    counts = {(t.yaxis, t.meta["role"]): t.meta["count"] for t in fig.data if t.meta}
    assert counts[("y", "wrong")] == 6 and counts[("y2", "uncovered")] == 3
