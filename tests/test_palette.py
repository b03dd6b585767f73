"""Colour-vision check: every pair of branch colours stays apart for a deuteranope."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from pyramidviz import palette, payloads
from pyramidviz.aspp import MAX_RATES
from pyramidviz.figures import style

MIN_DELTA_E = 20.0


def test_every_pair_of_branch_colours_stays_distinguishable_under_deuteranopia():
    colours = palette.BRANCH_COLORS
    assert len(colours) >= MAX_RATES + 1  # the 1x1 branch and up to MAX_RATES atrous ones
    for a, b in itertools.combinations(colours, 2):
        seen = palette.delta_e(palette.simulate_deuteranopia(a), palette.simulate_deuteranopia(b))
        assert seen > MIN_DELTA_E, (a, b, seen)
        assert palette.delta_e(palette.hex_to_rgb(a), palette.hex_to_rgb(b)) > MIN_DELTA_E


def test_the_old_palette_fails_the_check():
    """Red, green and orange branches (the palette before) become olive shades."""
    old = ("#ff375f", "#30d158", "#ff9f0a")
    worst = min(palette.delta_e(palette.simulate_deuteranopia(a), palette.simulate_deuteranopia(b))
                for a, b in itertools.combinations(old, 2))
    assert worst < MIN_DELTA_E


def test_simulation_matches_machado_on_primaries():
    """Deuteranopia keeps blue and white and maps red and green onto yellow-olive."""
    red, green = palette.simulate_deuteranopia("#ff0000"), palette.simulate_deuteranopia("#00ff00")
    assert abs(red[0] - red[1]) < 0.25 and abs(green[0] - green[1]) < 0.25
    np.testing.assert_allclose(palette.simulate_deuteranopia("#ffffff"), 1.0, atol=1e-3)
    assert palette.simulate_deuteranopia("#0000ff")[2] > 0.9
    with pytest.raises(ValueError, match="rrggbb"):
        palette.hex_to_rgb("red")


def test_one_marker_per_branch_everywhere():
    assert len(set(palette.BRANCH_MARKERS)) == len(palette.BRANCH_COLORS)
    assert len(set(style.BRANCH_SYMBOLS)) == len(palette.BRANCH_COLORS)
    assert len(set(style.BRANCH_DASHES[:-1])) == len(palette.BRANCH_COLORS) - 1
    assert style.BRANCH_COLORS == palette.BRANCH_COLORS
    branches = payloads.style()["colours"]["branches"]
    assert branches == [[c, m] for c, m in zip(palette.BRANCH_COLORS, palette.BRANCH_MARKERS,
                                               strict=True)]
    json.dumps(payloads.style())


def test_the_browser_views_draw_every_marker_shape():
    from pyramidviz.bundle import WEB_DIR

    text = (WEB_DIR / "common.js").read_text(encoding="utf-8")
    for shape in palette.BRANCH_MARKERS[1:]:  # circle is the default branch of marker()
        assert f'case "{shape}":' in text, shape
