"""The one style block: colours, fonts and sizes of every figure."""

from __future__ import annotations

FONT_FAMILY = "Noto Sans, Noto Sans CJK KR, Helvetica, Arial, sans-serif"
FONT_SIZE = 14
TITLE_SIZE = 16
FIGURE_HEIGHT = 420
SMALL_HEIGHT = 260
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}

GRID_COLOR = "rgba(255, 255, 255, 0.9)"
GRID_SHADOW = "rgba(0, 0, 0, 0.55)"
GRID_WIDTH = 1.5
HIGHLIGHT = "#ff2d55"  # the current bin / point
WINNER = "#ffd60a"  # argmax markers
FIELD_BOX = "#ff9f0a"  # full receptive field
STRIDE_BOX = "#30d158"  # stride box
HOLE = "#d0d0d0"

BRANCH_COLORS = ("#0a84ff", "#ff375f", "#30d158", "#ff9f0a", "#bf5af2", "#64d2ff", "#ffd60a")
"""Colours of ASPP branches and SPP levels, in order."""

SEQUENTIAL = "Viridis"
"""Colour scale of feature maps and heatmaps."""

LEVEL_COLORS = BRANCH_COLORS
