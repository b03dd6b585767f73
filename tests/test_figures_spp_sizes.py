"""The sizes figure (photos side by side with cells and bins) and the binning-rules figure."""

from __future__ import annotations

import numpy as np
from figure_helpers import RULES, photo, rectangles

from pyramidviz.bins import bin_edges
from pyramidviz.figures import spp_rules
from pyramidviz.figures import spp_sizes as figs


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
    rows, cols = bin_edges(8, 4), bin_edges(11, 4)  # bins in cells, drawn in pixels
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
