"""The one style block: colours, fonts, sizes, breakpoints and timings of every figure and view.

Plotly figures (:mod:`pyramidviz.figures`) read these names; the browser views get the same
values in their payload through :func:`for_views`, so no colour, breakpoint or timing is typed
again in JavaScript.

Colours every student can tell apart: branches (ASPP's 1x1 and atrous branches, SPP's levels)
differ by colour *and* marker shape. The colours are Okabe and Ito's colour-blind-safe set,
with Tol's wine for a seventh branch (Okabe-Ito's orange and reddish purple fall too close to
vermillion and bluish green for a deuteranope). :func:`simulate_deuteranopia` and
:func:`delta_e` let the tests check that every pair stays apart.

References
----------
.. [1] M. Okabe, K. Ito, "Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people", 2008.
.. [2] G. M. Machado, M. M. Oliveira, L. A. F. Fernandes, "A Physiologically-based Model
   for Simulation of Color Vision Deficiency", IEEE TVCG 15(6), 2009 (severity 1.0
   matrices, applied to linear RGB).
.. [3] CIE 1976 L*a*b* colour difference (Delta E*ab), D65 white.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- colours
BRANCH_COLORS = ("#0072b2", "#d55e00", "#009e73", "#882255", "#56b4e9", "#f0e442", "#000000")
"""Branch colours in order: blue (1x1), vermillion, bluish green, wine, sky blue, yellow,
black. The app allows up to six rates, so seven branches at most."""
BRANCH_MARKERS = ("circle", "square", "diamond", "triangle-up", "asterisk", "triangle-down",
                  "cross")
"""One marker shape per branch (the browser views and the Plotly figures use these names)."""
SPP_BIN = "#f0e442"
"""Yellow: SPP's current bin and max-pooling winners."""
FIELD = "#e69f00"
"""Orange, dashed: a full receptive field."""
STRIDE = "#009e73"
"""Bluish green: the pixels a bin's cells own (stride box)."""
CURRENT = "#d55e00"
"""Vermillion: the current bin, cell or centre output."""


HOLE = "#d0d0d0"
"""Light grey: a hole in a gridded stack, a tap that reads padding."""
HIGHLIGHT = CURRENT
"""The current bin / point, a broken rule (figures)."""
WINNER = SPP_BIN
"""Argmax markers (figures)."""
FIELD_BOX = FIELD
"""A full receptive field (figures)."""
STRIDE_BOX = STRIDE
"""A stride box (figures)."""
LEVEL_COLORS = BRANCH_COLORS
"""Colours of SPP's levels: the branch colours, in order."""
BRANCH_SYMBOLS = tuple({"asterisk": "asterisk-open", "cross": "cross"}.get(m, m)
                       for m in BRANCH_MARKERS)
"""Plotly marker symbols of the branches, in the same order (one shape per branch)."""
BRANCH_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid")
"""Line dashes of the branches, so lines differ without colour too."""
SEQUENTIAL = "Viridis"
"""Colour scale of feature maps and heatmaps."""
SEQUENTIAL_STOPS = ((68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37))
""":data:`SEQUENTIAL` as 9 evenly spaced RGB stops, for colouring maps without Plotly."""
GRID_COLOR = "rgba(255, 255, 255, 0.9)"
GRID_SHADOW = "rgba(0, 0, 0, 0.55)"

# ---------------------------------------------------------------- fonts and sizes

FONT_FAMILY = "Noto Sans, Noto Sans CJK KR, Helvetica, Arial, sans-serif"
FONT_SIZE = 14
TITLE_SIZE = 16
FIGURE_HEIGHT = 420
SMALL_HEIGHT = 260
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}
GRID_WIDTH = 1.5
FIGURE_PHOTO_SIDE = 480
"""Longest side (px) of a photo layer inside a Plotly figure: half a projector wide."""
SPP_PHOTO_SIDE = 400
"""Longest side (px) of a photo in the SPP page's figures: a 256-colour PNG of a noisy 400 px
photo is ~150 KB of JSON, so three photos side by side (the sizes figure) stay under 300 KB."""
VIEW_PHOTO_SIDE = 720
"""Longest side (px) of the photo a browser view shows (a JPEG of ~30-80 KB)."""

# ---------------------------------------------------------------- breakpoints and timings

PHONE_WIDTH = 620
"""Views narrower than this (CSS px) lay out for a phone: one panel per row, larger type."""
VIEW_FONT_SIZE, PHONE_FONT_SIZE = 15, 22
"""Font size (SVG units) of a view's text, on a wide screen and on a phone."""
SPP_PLAY_MS = 700
"""Milliseconds per bin step while the SPP view plays."""
KERNEL_PLAY_MS = 450
"""Milliseconds per output position while the sliding-kernel view plays."""


VIEW_INK, VIEW_MUTED = "#222222", "#4d4d4d"
"""The views' text colours (4.5:1 or more on white)."""
VIEW_GRID, VIEW_BACKGROUND, VIEW_MARGIN = "rgba(255,255,255,0.85)", "#ffffff", "#eeeeee"
"""Cell lines over a map, the view's background, and the area outside the photo."""
VIEW_PAD, VIEW_DONE, VIEW_UNREACHED = "#767676", "rgba(0,114,178,0.35)", "#dddddd"
"""Zero padding, outputs the sliding kernel has visited, pixels a dilated stack misses."""
VIEW_WIDTH, VIEW_WIDTH_PHONE = 1000, 600
"""The views' layout widths in viewBox units, on a laptop and on a phone."""
MIN_TEXT_PX = 12
"""The smallest text a view draws on screen (CSS px), at any width."""


def for_views() -> dict:
    """The one style block a browser view draws with, as it travels in every payload.

    Returns
    -------
    dict
        ``colours``: ``branches`` (``[colour, marker]`` per branch, in branch order), the SPP
        view's ``current``, ``winner``, ``stride``, ``field``, ``bin``, and the neutral
        ``ink``, ``muted``, ``grid``, ``background``, ``margin`` (outside the photo),
        ``pad`` (zero padding), ``done`` (visited outputs), ``reached`` / ``unreached``
        (gridding); ``sequential``: the colour stops of the maps' scale (RGB 0-255);
        ``sizes``: ``font`` and ``font_phone`` (viewBox units at the desktop / phone layout
        widths ``width`` and ``width_phone``) and ``min_text_px`` (no text drawn smaller on
        screen); ``breakpoints``: ``phone`` (container width in CSS px below which a view
        lays out for a phone); ``timings``: ``spp_play_ms``, ``kernel_play_ms`` (steps of
        the play buttons).

    Examples
    --------
    >>> block = for_views()
    >>> block["colours"]["branches"][:2], block["breakpoints"]["phone"]
    ([['#0072b2', 'circle'], ['#d55e00', 'square']], 620)
    """
    return {
        "colours": {
            "branches": [[c, m] for c, m in zip(BRANCH_COLORS, BRANCH_MARKERS, strict=True)],
            "current": CURRENT, "winner": WINNER, "bin": SPP_BIN, "stride": STRIDE,
            "field": FIELD, "ink": VIEW_INK, "muted": VIEW_MUTED, "grid": VIEW_GRID,
            "background": VIEW_BACKGROUND, "margin": VIEW_MARGIN, "pad": VIEW_PAD,
            "done": VIEW_DONE, "reached": BRANCH_COLORS[0], "unreached": VIEW_UNREACHED,
        },
        "sequential": [list(stop) for stop in SEQUENTIAL_STOPS],
        "sizes": {"width": VIEW_WIDTH, "width_phone": VIEW_WIDTH_PHONE, "font": VIEW_FONT_SIZE,
                  "font_phone": PHONE_FONT_SIZE, "min_text_px": MIN_TEXT_PX},
        "breakpoints": {"phone": PHONE_WIDTH},
        "timings": {"spp_play_ms": SPP_PLAY_MS, "kernel_play_ms": KERNEL_PLAY_MS},
    }


# ---------------------------------------------------------------- colour-vision check

DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
"""Machado et al. (2009), deuteranopia at severity 1.0, on linear RGB."""

_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])


def hex_to_rgb(color: str) -> np.ndarray:
    """``"#rrggbb"`` as floats in [0, 1].

    Examples
    --------
    >>> hex_to_rgb("#ff8000").tolist()
    [1.0, 0.5019607843137255, 0.0]
    """
    text = str(color)
    if len(text) != 7 or text[0] != "#":
        raise ValueError(f"colour must be '#rrggbb', got {color!r}")
    return np.array([int(text[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64) / 255.0


def _linear(rgb: np.ndarray) -> np.ndarray:
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def simulate_deuteranopia(color: str) -> np.ndarray:
    """The sRGB colour (floats in [0, 1]) a deuteranope sees instead of ``color``.

    Examples
    --------
    >>> simulate_deuteranopia("#ffffff").round(3).tolist()  # white stays white
    [1.0, 1.0, 1.0]
    >>> r, g, b = simulate_deuteranopia("#ff0000"); bool(abs(r - g) < 0.25)  # red -> olive
    True
    """
    return _srgb(DEUTERANOPIA @ _linear(hex_to_rgb(color)))


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of an sRGB colour given as floats in [0, 1].

    Examples
    --------
    >>> [abs(round(float(v), 1)) for v in lab(np.array([1.0, 1.0, 1.0]))]
    [100.0, 0.0, 0.0]
    """
    xyz = _RGB_TO_XYZ @ _linear(np.asarray(rgb, dtype=np.float64)) / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """CIE76 colour difference between two sRGB colours (floats in [0, 1]).

    Examples
    --------
    >>> round(delta_e(np.zeros(3), np.ones(3)), 1)
    100.0
    """
    return float(np.linalg.norm(lab(a) - lab(b)))
