"""Colour-vision check: every pair of branch colours stays apart for a deuteranope."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from pyramidviz import payloads, style
from pyramidviz.aspp import MAX_RATES

MIN_DELTA_E = 20.0


def test_every_pair_of_branch_colours_stays_distinguishable_under_deuteranopia():
    colours = style.BRANCH_COLORS
    assert len(colours) >= MAX_RATES + 1  # the 1x1 branch and up to MAX_RATES atrous ones
    for a, b in itertools.combinations(colours, 2):
        seen = style.delta_e(style.simulate_deuteranopia(a), style.simulate_deuteranopia(b))
        assert seen > MIN_DELTA_E, (a, b, seen)
        assert style.delta_e(style.hex_to_rgb(a), style.hex_to_rgb(b)) > MIN_DELTA_E


def test_the_old_palette_fails_the_check():
    """Red, green and orange branches (the palette before) become olive shades."""
    old = ("#ff375f", "#30d158", "#ff9f0a")
    worst = min(style.delta_e(style.simulate_deuteranopia(a), style.simulate_deuteranopia(b))
                for a, b in itertools.combinations(old, 2))
    assert worst < MIN_DELTA_E


def test_simulation_matches_machado_on_primaries():
    """Deuteranopia keeps blue and white and maps red and green onto yellow-olive."""
    red, green = style.simulate_deuteranopia("#ff0000"), style.simulate_deuteranopia("#00ff00")
    assert abs(red[0] - red[1]) < 0.25 and abs(green[0] - green[1]) < 0.25
    np.testing.assert_allclose(style.simulate_deuteranopia("#ffffff"), 1.0, atol=1e-3)
    assert style.simulate_deuteranopia("#0000ff")[2] > 0.9
    with pytest.raises(ValueError, match="rrggbb"):
        style.hex_to_rgb("red")


def test_one_marker_per_branch_everywhere():
    assert len(set(style.BRANCH_MARKERS)) == len(style.BRANCH_COLORS)
    assert len(set(style.BRANCH_SYMBOLS)) == len(style.BRANCH_COLORS)
    assert len(set(style.BRANCH_DASHES[:-1])) == len(style.BRANCH_COLORS) - 1
    branches = payloads.style()["colours"]["branches"]
    assert branches == [[c, m] for c, m in zip(style.BRANCH_COLORS, style.BRANCH_MARKERS,
                                               strict=True)]
    json.dumps(payloads.style())


def test_the_browser_views_draw_every_marker_shape():
    from pyramidviz.bundle import WEB_DIR

    text = (WEB_DIR / "common.js").read_text(encoding="utf-8")
    for shape in style.BRANCH_MARKERS[1:]:  # circle is the default branch of marker()
        assert f'case "{shape}":' in text, shape


def test_one_style_block_hands_the_views_what_the_figures_use():
    """``style.for_views()`` travels in every payload: the same colours as the figures."""
    handed = style.for_views()
    json.dumps(handed)
    assert payloads.style() == handed
    assert handed["colours"]["branches"] == [[c, m] for c, m in zip(
        style.BRANCH_COLORS, style.BRANCH_MARKERS, strict=True)]
    colours = handed["colours"]
    assert (colours["current"], colours["winner"], colours["field"], colours["stride"]) == (
        style.HIGHLIGHT, style.WINNER, style.FIELD_BOX, style.STRIDE_BOX)
    assert handed["breakpoints"]["phone"] == style.PHONE_WIDTH == 620
    assert "#cc79a7" not in {c for c, _ in colours["branches"]}  # dropped for deuteranopes


def test_the_sequential_stops_are_viridis():
    import re

    import plotly.colors

    stops = np.array(style.SEQUENTIAL_STOPS, np.float64)
    plotly_rgb = [[float(v) for v in re.findall(r"[\d.]+", c)] for c in
                  plotly.colors.sample_colorscale(style.SEQUENTIAL, list(np.linspace(0, 1, 9)))]
    assert np.abs(stops - np.array(plotly_rgb)).max() <= 8  # the same scale, sampled twice
    assert style.for_views()["sequential"] == [list(s) for s in style.SEQUENTIAL_STOPS]
