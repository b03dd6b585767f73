"""The bins figure of the SPP page: one level's bins over a feature map, beside the photo.

Each bin is pooled with :func:`pyramidviz.spp.spatial_pyramid_pool` (the adaptive rule), its
winning cell marked, and the current bin's stride box and receptive field drawn on the photo.
The bins can be walked through client-side (animation frames) or stepped server-side.
The pyramid, the sizes and the rules figures are in :mod:`~pyramidviz.figures.spp_pyramid`,
:mod:`~pyramidviz.figures.spp_sizes` and :mod:`~pyramidviz.figures.spp_rules`.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Fig. 3 and Sec. 2.3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch

from pyramidviz.figures import base, style
from pyramidviz.figures import spp_spec as spec
from pyramidviz.receptive import Box, FieldInfo
from pyramidviz.spp import bin_edges, spatial_pyramid_pool

__all__ = ["ANIMATE_MAX_LEVEL", "BinView", "bin_views", "bins_figure"]

ANIMATE_MAX_LEVEL = 8
"""Levels up to 8 x 8 = 64 bins get client-side animation frames; larger ones only a step."""
_INSET = 0.08  # bins are drawn inset by this many cells so overlapping neighbours stay visible


@dataclass(frozen=True)
class BinView:
    """One bin of one level, as the page writes it out.

    ``rows``/``cols`` are half-open cell ranges, ``winner`` the argmax cell (max mode only),
    ``stride_box``/``field_box`` the bin's stride box and full receptive field on the photo
    (both clipped to it).
    """

    level: int
    index: int
    row: int
    col: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    value: float
    winner: tuple[int, int] | None
    stride_box: Box
    field_box: Box


def bin_views(values: np.ndarray, level: int, *, mode: str, field: FieldInfo,
              image_size: tuple[int, int]) -> list[BinView]:
    """Pool the ``(h, w)`` map into ``level x level`` bins (adaptive rule), row-major.

    Parameters
    ----------
    values : ndarray, shape (h, w)
    level : int
    mode : {"max", "avg"}
    field : FieldInfo
        Receptive field of the map's cells in photo pixels.
    image_size : (int, int)
        ``(H, W)`` of the photo, to clip the boxes.

    Examples
    --------
    >>> info = FieldInfo(size=(1, 1), jump=(1, 1), padding=(0, 0))
    >>> b = bin_views(np.arange(12.0).reshape(3, 4), 2, mode="max", field=info,
    ...               image_size=(3, 4))[3]
    >>> b.rows, b.cols, b.value, b.winner
    ((1, 3), (2, 4), 11.0, (2, 3))
    """
    h, w = values.shape
    result = spatial_pyramid_pool(torch.from_numpy(np.ascontiguousarray(values, np.float32))
                                  [None, None], (level,), mode=mode)
    pooled = result.pooled[0][0, 0].numpy()
    argmax = None if result.argmax is None else result.argmax[0][0, 0].numpy()
    row_edges, col_edges = bin_edges(h, level), bin_edges(w, level)
    views = []
    for k in range(level * level):
        i, j = divmod(k, level)
        rows, cols = row_edges[i], col_edges[j]
        winner = None if argmax is None else (int(argmax[i, j, 0]), int(argmax[i, j, 1]))
        views.append(BinView(level, k, i, j, rows, cols, float(pooled[i, j]), winner,
                             field.stride_box(rows, cols, image_size=image_size),
                             field.block_box(rows, cols, image_size=image_size)))
    return views



def _cells(view: BinView, inset: float = 0.0) -> tuple[float, float, float, float]:
    (r0, r1), (c0, c1) = view.rows, view.cols
    return r0 + inset, c0 + inset, r1 - inset, c1 - inset


def _box(box: Box) -> tuple[int, int, int, int]:
    return box.top, box.left, box.bottom, box.right


def _current(view: BinView) -> list[dict]:
    """Coordinates of the four traces that follow the current bin (one frame's data)."""
    row, col = view.winner if view.winner else (None, None)
    return [dict(zip("xy", spec.xy([_cells(view)]), strict=True)),
            {"x": [None if col is None else col + 0.5], "y": [None if row is None else row + 0.5]},
            dict(zip("xy", spec.xy([_box(view.stride_box)]), strict=True)),
            dict(zip("xy", spec.xy([_box(view.field_box)]), strict=True))]


def _current_traces(view: BinView, names: Mapping[str, str]) -> list[dict]:
    box, winner, stride, field = _current(view)
    ring = {"symbol": "circle-open", "size": 18, "color": style.HIGHLIGHT, "line": {"width": 3}}
    return [
        spec.boxes([], color=style.HIGHLIGHT, width=4, name=names["current"], legend=True) | box,
        {"type": "scatter", "mode": "markers", "marker": ring, "hoverinfo": "skip",
         "showlegend": False, **winner},
        spec.boxes([], color=style.STRIDE_BOX, width=3, panel=2, name=names["stride"],
                   legend=True) | stride,
        spec.boxes([], color=style.FIELD_BOX, width=3, dash="dash", panel=2,
                   name=names["field"], legend=True) | field,
    ]


def _map_traces(values: np.ndarray, views: Sequence[BinView],
                names: Mapping[str, str]) -> list[dict]:
    """Feature map, cell grid, every bin (inset), the winners and hover points."""
    h, w = values.shape
    rgb, _ = base.cells_to_rgb(values)
    traces = [spec.traced(base.image_trace(rgb, extent=(w, h), name="map"), 1)]
    if max(h, w) <= 48:
        traces.append(spec.traced(base.grid_trace(range(w + 1), range(h + 1), width=0.6,
                                                  color="rgba(0,0,0,0.25)", name="cells"), 1))
    rects = [_cells(v, _INSET) for v in views]
    dense = len(views) > ANIMATE_MAX_LEVEL ** 2  # one thin outline: the JSON stays small
    traces.append(spec.boxes(rects, color=style.GRID_SHADOW, width=1 if dense else 3.5,
                             name=names["bins"], legend=True))
    traces.append(spec.boxes([] if dense else rects, color=style.GRID_COLOR, width=1.5))
    winners = [v.winner for v in views if v.winner is not None]
    traces.append({
        "type": "scatter", "x": [c + 0.5 for _, c in winners],
        "y": [r + 0.5 for r, _ in winners], "mode": "markers", "name": names["winner"],
        "showlegend": bool(winners), "meta": {"role": "winners"}, "hoverinfo": "skip",
        "marker": {"symbol": "x", "size": 9, "color": style.WINNER,
                   "line": {"width": 1, "color": "black"}}})
    traces.append({
        "type": "scatter", "x": [(v.cols[0] + v.cols[1]) / 2 for v in views],
        "y": [(v.rows[0] + v.rows[1]) / 2 for v in views], "mode": "markers",
        "marker": {"size": 14, "opacity": 0}, "showlegend": False, "meta": {"role": "bin_hover"},
        "text": [names["hover"].format(**_fields(v)) for v in views],
        "hovertemplate": "%{text}<extra></extra>"})
    return traces


def _fields(view: BinView) -> dict:
    return {"k": view.index + 1, "count": view.level ** 2, "row": view.row, "col": view.col,
            "value": view.value}


def _animation(views: Sequence[BinView], current: int, trace_ids: list[int],
               names: Mapping[str, str], bin_title: str) -> tuple[list[dict], dict]:
    """One frame per bin, a Play/Pause menu and a frame slider (all client-side)."""
    frames = [{"name": str(v.index + 1), "traces": trace_ids, "data": _current(v),
               "layout": {"title": {"text": bin_title.format(**_fields(v))}}} for v in views]
    step = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
            "transition": {"duration": 0}}
    play = {**step, "frame": {"duration": 700, "redraw": True}, "fromcurrent": True}
    controls = {
        "updatemenus": [{
            "type": "buttons", "direction": "left", "x": 0, "y": -0.1, "xanchor": "left",
            "yanchor": "top", "pad": {"t": 30, "r": 8},
            "buttons": [{"label": names["play"], "method": "animate", "args": [None, play]},
                        {"label": names["pause"], "method": "animate",
                         "args": [[None], step]}]}],
        "sliders": [{
            "active": current, "x": 0.3, "len": 0.7, "y": -0.1, "yanchor": "top",
            "pad": {"t": 10}, "currentvalue": {"prefix": names["step"]},
            "steps": [{"label": str(v.index + 1), "method": "animate",
                       "args": [[str(v.index + 1)], step]} for v in views]}],
    }
    return frames, controls


def bins_figure(values: np.ndarray, photo: np.ndarray, views: Sequence[BinView], *,
                current: int, names: Mapping[str, str], bin_title: str,
                animate: bool | None = None, width_px: int = 880) -> go.Figure:
    """The feature map with one level's bins and winners, beside the photo with the current
    bin's stride box and receptive field.

    Parameters
    ----------
    values : ndarray, shape (h, w)
        The map shown (one channel, or the mean/max over channels).
    photo : ndarray, shape (H, W, 3), uint8
    views : sequence of BinView
        From :func:`bin_views` for the same map, one level, row-major.
    current : int
        Index of the highlighted bin.
    names : mapping
        Translated labels: ``map``, ``photo``, ``bins``, ``winner``, ``current``, ``stride``,
        ``field``, ``hover`` (``{k} {row} {col} {value}``), ``play``, ``pause``, ``step``.
    bin_title : str
        Title template with ``{k} {count} {row} {col} {value}``.
    animate : bool, optional
        Client-side frames; default: only for levels up to :data:`ANIMATE_MAX_LEVEL`.
    width_px : int
        Expected display width, to pick a height that fits both panels.

    Returns
    -------
    go.Figure
        Traces carry ``meta={"role": ...}`` (``winners``, ``bin_hover``) for tests; frame
        ``k`` moves the current-bin traces to bin ``k``.
    """
    if not 0 <= current < len(views):
        raise ValueError(f"current must index one of {len(views)} bins, got {current!r}")
    (h, w), (height_px, width_photo) = values.shape, photo.shape[:2]
    data = _map_traces(values, views, names)
    first = len(data)
    now = _current_traces(views[current], names)
    dense = len(views) > ANIMATE_MAX_LEVEL ** 2  # the bins' mesh on the photo would be noise
    data += [now[0], now[1], spec.photo(photo, panel=2),
             spec.boxes([] if dense else [_box(v.stride_box) for v in views], width=0.8,
                        panel=2, color="rgba(255,255,255,0.7)"), now[2], now[3]]
    layout = spec.panels([1, 1])
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [0, w], [h, 0]
    layout["xaxis2"]["range"], layout["yaxis2"]["range"] = [0, width_photo], [height_px, 0]
    layout["annotations"] = [spec.panel_title(layout, 1, names["map"], y=1.02),
                             spec.panel_title(layout, 2, names["photo"], y=1.02)]
    animated = animate if animate is not None else views[0].level <= ANIMATE_MAX_LEVEL
    frames = None
    if animated:
        frames, controls = _animation(views, current, [first, first + 1, first + 4, first + 5],
                                      names, bin_title)
        layout.update(controls)
    plot = min(max(round(width_px * 0.48 * max(h / w, height_px / width_photo)), 200), 640)
    return spec.figure(
        data, layout, title=bin_title.format(**_fields(views[current])), frames=frames,
        height=plot + 140 + (90 if animated else 0),
        margin={**style.MARGIN, "t": 80, "b": 120 if animated else 50},
        legend={"y": -0.01, "yanchor": "top", "x": 0.5, "xanchor": "center"})
