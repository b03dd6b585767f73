"""Building blocks shared by every figure: images shipped as PNG, grids, boxes, styling.

Images always go to the browser as PNG data URIs inside a ``go.Image`` trace (a few KB to a
few hundred KB) instead of JSON arrays of numbers. Coordinates are pixel *edges*: pixel
``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``, so a half-open box
``[left, right)`` is drawn from ``x = left`` to ``x = right`` with no half-pixel fix-ups.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image

from pyramidviz import style

MAX_IMAGE_SIDE = 640
"""Longest side of an image layer sent to the browser (larger photos are downsampled)."""



def branch_color(index: int) -> str:
    """Colour of branch ``index`` (0 is the 1x1 branch, then the rates, then image pooling)."""
    return style.BRANCH_COLORS[index % len(style.BRANCH_COLORS)]


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an ``(H, W, 3)`` or ``(H, W)`` uint8 array as PNG.

    Examples
    --------
    >>> png_bytes(np.zeros((2, 3, 3), np.uint8))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def png_data_uri(rgb: np.ndarray) -> str:
    """A ``data:image/png;base64,...`` URI of ``rgb`` (see :func:`png_bytes`)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode("ascii")


def colorize(values: np.ndarray, *, scale: str = style.SEQUENTIAL, vmin: float | None = None,
             vmax: float | None = None) -> np.ndarray:
    """Map a 2D array to ``(H, W, 3)`` uint8 colours with a Plotly colour scale.

    NaNs become light grey. ``vmin``/``vmax`` default to the array's finite range.

    Examples
    --------
    >>> colorize(np.array([[0.0, 1.0]])).shape
    (1, 2, 3)
    """
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    lo = np.nanmin(values[finite]) if vmin is None and finite.any() else (vmin or 0.0)
    hi = np.nanmax(values[finite]) if vmax is None and finite.any() else (vmax or 1.0)
    span = hi - lo if hi > lo else 1.0
    unit = np.clip((np.where(finite, values, lo) - lo) / span, 0.0, 1.0)
    scale_stops = plotly.colors.get_colorscale(scale)
    positions = np.array([position for position, _ in scale_stops], dtype=np.float64)
    stops = np.array([_rgb_triplet(color) for _, color in scale_stops], dtype=np.float64)
    rgb = np.stack([np.interp(unit, positions, stops[:, k]) for k in range(3)], axis=-1)
    rgb[~finite] = 220.0
    return np.round(rgb).astype(np.uint8)


def _rgb_triplet(color: str) -> tuple[float, float, float]:
    """``'#rrggbb'`` or ``'rgb(r, g, b)'`` as three floats."""
    if color.startswith("#"):
        return plotly.colors.hex_to_rgb(color)
    return plotly.colors.unlabel_rgb(color)


def strip_rgb(vector: np.ndarray, *, max_len: int = 12_000) -> tuple[np.ndarray, int]:
    """Colour a long 1D vector as a 1-pixel-high strip, one value per pixel.

    Vectors longer than ``max_len`` average ``k`` neighbouring values per pixel (``k`` is
    returned so the caller can say so). The colour range is the 1st-99th percentile, so a few
    outliers do not wash the strip out.

    Examples
    --------
    >>> rgb, k = strip_rgb(np.arange(30.0), max_len=10)
    >>> rgb.shape, k
    ((1, 10, 3), 3)
    """
    vector = np.asarray(vector, dtype=np.float64).ravel()
    k = max(1, -(-vector.size // max_len))
    padded = np.pad(vector, (0, -vector.size % k), constant_values=np.nan)
    shown = np.nanmean(padded.reshape(-1, k), axis=1)
    lo, hi = np.percentile(vector, [1, 99])
    return colorize(shown[None, :], vmin=float(lo), vmax=float(hi)), k


def upscale_nearest(rgb: np.ndarray, factor: int) -> np.ndarray:
    """Repeat every pixel ``factor`` times in both directions (crisp cells, no blur)."""
    if factor <= 1:
        return rgb
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def cells_to_rgb(values: np.ndarray, *, target_side: int = 480, **colorize_kw) -> tuple[
        np.ndarray, int]:
    """Colourise a small map and upscale it so each cell stays a crisp square.

    Returns the RGB array and the integer upscaling factor used.
    """
    h, w = values.shape
    factor = max(1, min(64, target_side // max(h, w)))
    return upscale_nearest(colorize(values, **colorize_kw), factor), factor


def image_trace(rgb: np.ndarray, *, extent: tuple[float, float] | None = None,
                name: str = "image") -> go.Image:
    """A PNG-encoded image trace covering ``[0, width) x [0, height)`` in data units.

    Parameters
    ----------
    rgb : ndarray, shape (H, W, 3), uint8
        The picture to show; downsampled to :data:`MAX_IMAGE_SIDE` when larger.
    extent : (width, height), optional
        Size in data units the picture should cover (default: its own pixel size). Use it to
        lay a small upscaled map or a downsampled photo over the original pixel coordinates.
    """
    h, w = rgb.shape[:2]
    extent = extent or (w, h)
    if max(h, w) > MAX_IMAGE_SIDE:
        shrink = MAX_IMAGE_SIDE / max(h, w)
        size = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))
        h, w = rgb.shape[:2]
    dx, dy = extent[0] / w, extent[1] / h
    return go.Image(source=png_data_uri(rgb), x0=dx / 2, y0=dy / 2, dx=dx, dy=dy, name=name,
                    hoverinfo="skip")


def photo_png_uri(rgb: np.ndarray, *, side: int = style.FIGURE_PHOTO_SIDE
                  ) -> tuple[str, tuple[int, int]]:
    """A photo as a 256-colour PNG data URI at most ``side`` px long, and its shown size.

    Full-colour PNGs of photos weigh 300-600 KB and take up to 0.5 s to encode; an adaptive
    256-colour palette keeps them near 100 KB. Nothing is memoised here: the pages cache the
    figures they build (``st.cache_data``), so an unchanged photo is not encoded again.

    Examples
    --------
    >>> uri, shown = photo_png_uri(np.zeros((600, 900, 3), np.uint8))
    >>> uri[:22], shown
    ('data:image/png;base64,', (480, 320))
    """
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
    return ("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"),
            image.size)


def photo_trace(rgb: np.ndarray, *, side: int = style.FIGURE_PHOTO_SIDE,
                name: str = "photo") -> go.Image:
    """A photo (palette PNG, see :func:`photo_png_uri`) over ``[0, W) x [0, H)`` pixels.

    Examples
    --------
    >>> trace = photo_trace(np.zeros((600, 900, 3), np.uint8))
    >>> trace.source[:22], trace.dx, trace.dy
    ('data:image/png;base64,', 1.875, 1.875)
    """
    h, w = rgb.shape[:2]
    uri, (shown_w, shown_h) = photo_png_uri(rgb, side=side)
    dx, dy = w / shown_w, h / shown_h
    return go.Image(source=uri, x0=dx / 2, y0=dy / 2, dx=dx, dy=dy, name=name,
                    hoverinfo="skip")


def grid_trace(xs: Sequence[float], ys: Sequence[float], *, color: str = style.GRID_COLOR,
               width: float = style.GRID_WIDTH, name: str = "grid") -> go.Scatter:
    """Vertical lines at ``xs`` and horizontal lines at ``ys`` as one scatter trace."""
    top, bottom = min(ys), max(ys)
    left, right = min(xs), max(xs)
    px, py = [], []
    for x in xs:
        px += [x, x, None]
        py += [top, bottom, None]
    for y in ys:
        px += [left, right, None]
        py += [y, y, None]
    return go.Scatter(x=px, y=py, mode="lines", line={"color": color, "width": width},
                      hoverinfo="skip", name=name, showlegend=False)


def boxes_trace(boxes: Iterable[tuple[float, float, float, float]], *, color: str,
                width: float = 2.5, name: str = "", dash: str | None = None,
                fill: str | None = None, showlegend: bool = False) -> go.Scatter:
    """Rectangles ``(top, left, bottom, right)`` drawn as one closed-path scatter trace."""
    px, py = [], []
    for top, left, bottom, right in boxes:
        px += [left, right, right, left, left, None]
        py += [top, top, bottom, bottom, top, None]
    return go.Scatter(x=px, y=py, mode="lines", name=name, showlegend=showlegend,
                      line={"color": color, "width": width, "dash": dash},
                      fill="toself" if fill else None, fillcolor=fill, hoverinfo="skip")


def image_axes(fig: go.Figure, *, width: float, height: float, row: int | None = None,
               col: int | None = None) -> None:
    """Pin axes to an image of ``width x height`` data units: y down, square pixels, no ticks."""
    kw = {"row": row, "col": col} if row is not None else {}
    fig.update_xaxes(range=[0, width], showgrid=False, zeroline=False, showticklabels=False,
                     constrain="domain", **kw)
    fig.update_yaxes(range=[height, 0], showgrid=False, zeroline=False, showticklabels=False,
                     scaleanchor="x" if row is None else None, constrain="domain", **kw)


def styled(fig: go.Figure, *, title: str | None = None, height: int = style.FIGURE_HEIGHT,
           legend: bool = False) -> go.Figure:
    """Apply the house style: fonts, margins, height, a stable ``uirevision``."""
    fig.update_layout(
        title={"text": title, "font": {"size": style.TITLE_SIZE}} if title else None,
        font={"family": style.FONT_FAMILY, "size": style.FONT_SIZE},
        margin=style.MARGIN, height=height, showlegend=legend, uirevision="keep",
        plot_bgcolor="white", paper_bgcolor="white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    return fig


def figure_bytes(fig: go.Figure) -> int:
    """Size in bytes of the JSON the browser receives for ``fig`` (for budgets and tests)."""
    return len(fig.to_json().encode("utf-8"))
