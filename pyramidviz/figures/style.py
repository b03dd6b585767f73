"""The one style block: colours, fonts and sizes of every figure."""

from __future__ import annotations

from pyramidviz import palette

FONT_FAMILY = "Noto Sans, Noto Sans CJK KR, Helvetica, Arial, sans-serif"
FONT_SIZE = 14
TITLE_SIZE = 16
FIGURE_HEIGHT = 420
SMALL_HEIGHT = 260
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}

GRID_COLOR = "rgba(255, 255, 255, 0.9)"
GRID_SHADOW = "rgba(0, 0, 0, 0.55)"
GRID_WIDTH = 1.5
HIGHLIGHT = palette.CURRENT  # the current bin / point, a broken rule
WINNER = palette.SPP_BIN  # argmax markers
FIELD_BOX = palette.FIELD  # full receptive field
STRIDE_BOX = palette.STRIDE  # stride box
HOLE = "#d0d0d0"

BRANCH_COLORS = palette.BRANCH_COLORS
"""Colours of ASPP branches and SPP levels, in order (Okabe-Ito, :mod:`pyramidviz.palette`)."""
BRANCH_SYMBOLS = tuple({"asterisk": "asterisk-open", "cross": "cross"}.get(m, m)
                       for m in palette.BRANCH_MARKERS)
"""Plotly marker symbols of the branches, in the same order (one shape per branch)."""
BRANCH_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
"""Line dashes of the branches, so lines differ without colour too."""

SEQUENTIAL = "Viridis"
"""Colour scale of feature maps and heatmaps."""

LEVEL_COLORS = BRANCH_COLORS
