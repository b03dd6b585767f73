"""Figures of the Compare page: what SPP and ASPP see and give, on the same photo and map."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pyramidviz.aspp import tap_offsets
from pyramidviz.figures import base, style
from pyramidviz.receptive import FieldInfo
from pyramidviz.spp import bin_edges


def bin_of(cell: int, size: int, bins: int) -> int:
    """Index of the first adaptive bin (of ``bins`` over ``size`` cells) containing ``cell``.

    Examples
    --------
    >>> [bin_of(c, 7, 4) for c in range(7)]
    [0, 0, 1, 1, 2, 2, 3]
    """
    for index, (start, end) in enumerate(bin_edges(size, bins)):
        if start <= cell < end:
            return index
    raise ValueError(f"cell {cell} is outside a map of {size} cells")


def spp_regions(field: FieldInfo, feature_hw: tuple[int, int], level: int, cell: tuple[int, int],
                image_hw: tuple[int, int]):
    """Stride boxes of every bin of ``level``; stride box and full field of the bin of ``cell``.

    Returns
    -------
    grid : list of (top, left, bottom, right)
        The pixels each bin owns at the map's stride (clipped to the image).
    owned, field_box : (top, left, bottom, right)
        The chosen bin's stride box and the union of its cells' receptive fields.
    """
    rows, cols = bin_edges(feature_hw[0], level), bin_edges(feature_hw[1], level)
    grid = [_edges(field.stride_box(r, c, image_size=image_hw)) for r in rows for c in cols]
    r = rows[bin_of(cell[0], feature_hw[0], level)]
    c = cols[bin_of(cell[1], feature_hw[1], level)]
    owned = field.stride_box(r, c, image_size=image_hw)
    return grid, _edges(owned), _edges(field.block_box(r, c, image_size=image_hw))


def _edges(box) -> tuple[int, int, int, int]:
    return box.top, box.left, box.bottom, box.right


def aspp_taps(field: FieldInfo, cell: tuple[int, int], rate: int, feature_hw: tuple[int, int]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres ``(y, x)`` of the 3x3 taps at ``rate`` around ``cell``, and which are inside.

    Taps are ``rate`` cells apart, i.e. ``rate * stride`` pixels apart on the photo.

    Examples
    --------
    >>> f = FieldInfo(size=(3, 3), jump=(16, 16), padding=(0, 0))
    >>> yx, inside = aspp_taps(f, (5, 5), 2, (11, 11))
    >>> (yx[1] - yx[0]).tolist(), int(inside.sum())
    ([0.0, 32.0], 9)
    """
    offsets = tap_offsets(3, rate)
    cells = np.asarray(cell)[None, :] + offsets
    inside = ((cells >= 0) & (cells < np.asarray(feature_hw)[None, :])).all(axis=1)
    yx = np.array([field.center(r, c) for r, c in cells], dtype=np.float64) + 0.5
    return yx, inside


def sees_figure(rgb: np.ndarray, field: FieldInfo, feature_hw: tuple[int, int], *,
                level: int, cell: tuple[int, int], rates: Sequence[int],
                titles: tuple[str, str], names: dict[str, str]) -> go.Figure:
    """Two photos side by side: SPP's bins of ``level`` vs ASPP's dilated taps at ``cell``.

    Left: every bin's stride box (thin), the bin holding ``cell`` and its full receptive field
    (thick). Right: the 3x3 taps of each rate in its own colour (hollow when off the map),
    each rate's receptive field, and the cell's own field.
    """
    h, w = rgb.shape[:2]
    fig = make_subplots(1, 2, subplot_titles=titles, horizontal_spacing=0.03)
    for col in (1, 2):
        fig.add_trace(base.photo_trace(rgb), 1, col)
    grid, owned, chosen = spp_regions(field, feature_hw, level, cell, (h, w))
    fig.add_trace(base.boxes_trace(grid, color=style.GRID_COLOR, width=1.2), 1, 1)
    fig.add_trace(base.boxes_trace([owned], color=style.HIGHLIGHT, width=3.5,
                                   name=names["bin_owned"], showlegend=True), 1, 1)
    fig.add_trace(base.boxes_trace([chosen], color=style.FIELD_BOX, width=3, dash="dash",
                                   name=names["bin_field"], showlegend=True), 1, 1)
    for index, rate in enumerate(rates):
        color = style.BRANCH_COLORS[(index + 1) % len(style.BRANCH_COLORS)]
        yx, inside = aspp_taps(field, cell, rate, feature_hw)
        grown = field.block_box((cell[0] - rate, cell[0] + rate + 1),
                                (cell[1] - rate, cell[1] + rate + 1), image_size=(h, w))
        fig.add_trace(base.boxes_trace([_edges(grown)], color=color, width=2, dash="dot"), 1, 2)
        fig.add_trace(go.Scatter(
            x=yx[:, 1], y=yx[:, 0], mode="markers", name=f"{names['rate']} {rate}",
            marker={"size": 11, "color": [color if ok else "rgba(0,0,0,0)" for ok in inside],
                    "line": {"color": color, "width": 2}, "symbol": "circle"},
            hovertemplate="y=%{y:.0f}, x=%{x:.0f}<extra></extra>", showlegend=True), 1, 2)
    own = field.cell_box(*cell, image_size=(h, w))
    fig.add_trace(base.boxes_trace([_edges(own)], color=style.BRANCH_COLORS[0], width=3,
                                   name=names["cell_field"], showlegend=True), 1, 2)
    for col in (1, 2):
        base.image_axes(fig, width=w, height=h, row=1, col=col)
    fig.update_yaxes(scaleanchor="x", row=1, col=1)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    height = int(min(max(300, 420 * h / w + 130), 640))
    base.styled(fig, height=height, legend=True)
    fig.update_layout(legend={"y": -0.02, "yanchor": "top"}, margin={"b": 50})
    return fig


def outputs_figure(vector: np.ndarray, spatial: np.ndarray, *, titles: tuple[str, str]
                   ) -> go.Figure:
    """SPP's output as a 1D strip beside ASPP's output as a 2D map (both PNG images).

    ``vector`` is the whole SPP vector; ``spatial`` an ``(h, w)`` map of ASPP's output grid.
    """
    strip_h = max(1, len(vector) // 12)  # data units: the strip shows 12 times wider than tall
    strip, k = base.strip_rgb(vector)
    fig = make_subplots(1, 2, subplot_titles=titles, column_widths=[0.55, 0.45],
                        horizontal_spacing=0.06)
    fig.add_trace(go.Image(source=base.png_data_uri(strip), x0=k / 2, y0=strip_h / 2, dx=k,
                           dy=strip_h, name="vector", hoverinfo="skip"), 1, 1)
    rgb, _ = base.cells_to_rgb(spatial)
    h, w = spatial.shape
    fig.add_trace(base.image_trace(rgb, extent=(w, h)), 1, 2)
    base.image_axes(fig, width=len(vector), height=strip_h, row=1, col=1)
    base.image_axes(fig, width=w, height=h, row=1, col=2)
    fig.update_yaxes(scaleanchor="x2", row=1, col=2)
    return base.styled(fig, height=style.SMALL_HEIGHT)


def growth_figure(lengths: dict[str, list[int]], *, names: dict[str, str]) -> go.Figure:
    """Output length against image width: flat for SPP, growing with the area for ASPP."""
    fig = go.Figure()
    for key, color in (("spp", style.BRANCH_COLORS[1]), ("aspp", style.BRANCH_COLORS[0])):
        fig.add_trace(go.Scatter(x=lengths["side"], y=lengths[key], mode="lines+markers",
                                 name=names[key], line={"color": color, "width": 3}))
    values = [v for key in ("spp", "aspp") for v in lengths[key] if v > 0]
    fig.update_xaxes(title=names["x"])
    fig.update_yaxes(title=names["y"], type="log",
                     range=[np.log10(min(values)) - 0.3, np.log10(max(values)) + 0.3])
    return base.styled(fig, height=style.SMALL_HEIGHT + 60, legend=True)
