"""Figures of the SPP page: bins over a feature map, the pyramid, sizes, and binning rules.

Every builder is a pure function of numbers (feature maps, photos, receptive-field geometry)
and the already-translated strings it prints; nothing here computes a backbone. Figures are
assembled as one plain spec and validated once by ``go.Figure`` (``make_subplots`` and
per-panel ``update_*`` calls cost several times more, and the page must redraw in < 150 ms).

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Fig. 3 and Sec. 2.3.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from PIL import Image

from pyramidviz.figures import base, style
from pyramidviz.receptive import Box, FieldInfo
from pyramidviz.spp import bin_edges, paper_rule_report, spatial_pyramid_pool

__all__ = [
    "ANIMATE_MAX_LEVEL", "BinView", "bin_views", "bins_figure", "channel_map", "crop_and_warp",
    "feature_size", "pyramid_figure", "resize_photo", "rules_figure", "scaled_size",
    "sizes_figure", "top_channels",
]

ANIMATE_MAX_LEVEL = 8
"""Levels up to 8 x 8 = 64 bins get client-side animation frames; larger ones only a step."""
PHOTO_SIDE = 400
"""Longest side of a photo layer (a 256-colour PNG of this size is about 70 KB)."""
MAX_STRIP = 12_000
"""Longest vector strip drawn one value per pixel; longer ones average several."""
_INSET = 0.08  # bins are drawn inset by this many cells so overlapping neighbours stay visible
_PHOTO_CACHE: OrderedDict[bytes, tuple[str, tuple[int, int]]] = OrderedDict()
_BLANK_AXIS = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": "",
               "showline": False}


def channel_map(features: np.ndarray, channel: str | int) -> np.ndarray:
    """The ``(h, w)`` map shown for ``channel``: one channel, or ``"mean"``/``"max"`` of all.

    Examples
    --------
    >>> channel_map(np.arange(8.0).reshape(2, 2, 2), "max").tolist()
    [[4.0, 5.0], [6.0, 7.0]]
    """
    if features.ndim != 3:
        raise ValueError(f"features must have shape (C, h, w), got {features.shape}")
    if channel == "mean":
        return features.mean(axis=0)
    if channel == "max":
        return features.max(axis=0)
    index = int(channel)
    if not 0 <= index < features.shape[0]:
        raise ValueError(f"channel must be in [0, {features.shape[0]}), got {channel!r}")
    return features[index]


def top_channels(features: np.ndarray, k: int = 5) -> tuple[int, ...]:
    """Indices of the ``k`` channels with the highest mean activation, most active first.

    Examples
    --------
    >>> top_channels(np.stack([np.zeros((2, 2)), np.ones((2, 2)), -np.ones((2, 2))]), k=2)
    (1, 0)
    """
    means = features.reshape(features.shape[0], -1).mean(axis=1)
    return tuple(int(c) for c in np.argsort(-means, kind="stable")[:k])


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


# ---------------------------------------------------------------- spec helpers


def _xy(boxes) -> tuple[list, list]:
    """Rectangles ``(top, left, bottom, right)`` as one closed path per box, None-separated."""
    xs: list = []
    ys: list = []
    for top, left, bottom, right in boxes:
        xs += [left, right, right, left, left, None]
        ys += [top, top, bottom, bottom, top, None]
    return xs, ys


def _boxes(boxes, *, color: str, width: float = 2.5, panel: int = 1, name: str = "",
           dash: str | None = None, fill: str | None = None, legend: bool = False,
           **extra) -> dict:
    """A scatter spec drawing rectangles on panel ``panel`` (see :func:`_xy`)."""
    xs, ys = _xy(boxes)
    spec = {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name,
            "showlegend": legend, "hoverinfo": "skip", **_on(panel),
            "line": {"color": color, "width": width, "dash": dash}, **extra}
    if fill:
        spec.update(fill="toself", fillcolor=fill)
    return spec


def _on(panel: int) -> dict:
    suffix = "" if panel == 1 else str(panel)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def _traced(trace: go.BaseTraceType, panel: int) -> dict:
    return {**trace.to_plotly_json(), **_on(panel)}


def _panels(widths: Sequence[float], *, gap: float = 0.03, y: tuple[float, float] = (0, 1),
            first: int = 1, square: bool = True) -> dict:
    """Layout axes for panels side by side, widths proportional to ``widths``."""
    usable = 1.0 - gap * (len(widths) - 1)
    layout, left = {}, 0.0
    for i, width in enumerate(widths):
        n = first + i
        suffix = "" if n == 1 else str(n)
        right = left + usable * width / sum(widths)
        layout[f"xaxis{suffix}"] = {"domain": [left, min(right, 1.0)], "anchor": f"y{suffix}",
                                    "constrain": "domain", **_BLANK_AXIS}
        layout[f"yaxis{suffix}"] = {"domain": list(y), "anchor": f"x{suffix}",
                                    "constrain": "domain", **_BLANK_AXIS,
                                    "scaleanchor": f"x{suffix}" if square else False}
        left = right + gap
    return layout


def _panel_title(layout: dict, panel: int, text: str, *, y: float) -> dict:
    suffix = "" if panel == 1 else str(panel)
    lo, hi = layout[f"xaxis{suffix}"]["domain"]
    return {"text": text, "x": (lo + hi) / 2, "y": y, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False,
            "font": {"size": style.FONT_SIZE + 1}}


def _photo_trace(photo: np.ndarray, *, panel: int, side: int = PHOTO_SIDE) -> dict:
    """A photo as a memoised 256-colour PNG covering its own pixel coordinates.

    Full-colour PNGs of photos weigh 300-600 KB of JSON and take 100-600 ms to encode.
    """
    key = hashlib.blake2b(photo.tobytes() + str((photo.shape, side)).encode(),
                          digest_size=16).digest()
    if key not in _PHOTO_CACHE:
        image = Image.fromarray(np.ascontiguousarray(photo))
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.quantize(256, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
        uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
        _PHOTO_CACHE[key] = (uri, image.size)
        if len(_PHOTO_CACHE) > 24:
            _PHOTO_CACHE.popitem(last=False)
    uri, (shown_w, shown_h) = _PHOTO_CACHE[key]
    dx, dy = photo.shape[1] / shown_w, photo.shape[0] / shown_h
    return {"type": "image", "source": uri, "x0": dx / 2, "y0": dy / 2, "dx": dx, "dy": dy,
            "name": "photo", "hoverinfo": "skip", **_on(panel)}


def _figure(data: list, layout: dict, *, title: str | None, height: int,
            frames: list | None = None, legend: dict | None = None,
            **overrides) -> go.Figure:
    """Validate the spec once, apply the house style, then the figure's own layout tweaks.

    ``legend`` (a placement) shows the legend; without it there is none.
    """
    fig = go.Figure(data=data, layout=layout, frames=frames)
    base.styled(fig, title=title, height=height, legend=legend is not None)
    if legend is not None:
        overrides["legend"] = legend
    if overrides:
        fig.update_layout(**overrides)
    return fig


# ---------------------------------------------------------------- figure "bins"


def _cells(view: BinView, inset: float = 0.0) -> tuple[float, float, float, float]:
    (r0, r1), (c0, c1) = view.rows, view.cols
    return r0 + inset, c0 + inset, r1 - inset, c1 - inset


def _box(box: Box) -> tuple[int, int, int, int]:
    return box.top, box.left, box.bottom, box.right


def _current(view: BinView) -> list[dict]:
    """Coordinates of the four traces that follow the current bin (one frame's data)."""
    row, col = view.winner if view.winner else (None, None)
    return [dict(zip("xy", _xy([_cells(view)]), strict=True)),
            {"x": [None if col is None else col + 0.5], "y": [None if row is None else row + 0.5]},
            dict(zip("xy", _xy([_box(view.stride_box)]), strict=True)),
            dict(zip("xy", _xy([_box(view.field_box)]), strict=True))]


def _current_traces(view: BinView, names: Mapping[str, str]) -> list[dict]:
    box, winner, stride, field = _current(view)
    ring = {"symbol": "circle-open", "size": 18, "color": style.HIGHLIGHT, "line": {"width": 3}}
    return [
        _boxes([], color=style.HIGHLIGHT, width=4, name=names["current"], legend=True) | box,
        {"type": "scatter", "mode": "markers", "marker": ring, "hoverinfo": "skip",
         "showlegend": False, **winner},
        _boxes([], color=style.STRIDE_BOX, width=3, panel=2, name=names["stride"],
               legend=True) | stride,
        _boxes([], color=style.FIELD_BOX, width=3, dash="dash", panel=2, name=names["field"],
               legend=True) | field,
    ]


def _map_traces(values: np.ndarray, views: Sequence[BinView],
                names: Mapping[str, str]) -> list[dict]:
    """Feature map, cell grid, every bin (inset), the winners and hover points."""
    h, w = values.shape
    rgb, _ = base.cells_to_rgb(values)
    traces = [_traced(base.image_trace(rgb, extent=(w, h), name="map"), 1)]
    if max(h, w) <= 48:
        traces.append(_traced(base.grid_trace(range(w + 1), range(h + 1), width=0.6,
                                              color="rgba(0,0,0,0.25)", name="cells"), 1))
    boxes = [_cells(v, _INSET) for v in views]
    dense = len(views) > ANIMATE_MAX_LEVEL ** 2  # one thin outline: the JSON stays small
    traces.append(_boxes(boxes, color=style.GRID_SHADOW, width=1 if dense else 3.5,
                         name=names["bins"], legend=True))
    traces.append(_boxes([] if dense else boxes, color=style.GRID_COLOR, width=1.5))
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
    data += [now[0], now[1], _photo_trace(photo, panel=2),
             _boxes([] if dense else [_box(v.stride_box) for v in views], width=0.8, panel=2,
                    color="rgba(255,255,255,0.7)"), now[2], now[3]]
    layout = _panels([1, 1])
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [0, w], [h, 0]
    layout["xaxis2"]["range"], layout["yaxis2"]["range"] = [0, width_photo], [height_px, 0]
    layout["annotations"] = [_panel_title(layout, 1, names["map"], y=1.02),
                             _panel_title(layout, 2, names["photo"], y=1.02)]
    animated = animate if animate is not None else views[0].level <= ANIMATE_MAX_LEVEL
    frames = None
    if animated:
        frames, controls = _animation(views, current, [first, first + 1, first + 4, first + 5],
                                      names, bin_title)
        layout.update(controls)
    plot = min(max(round(width_px * 0.48 * max(h / w, height_px / width_photo)), 200), 640)
    return _figure(
        data, layout, title=bin_title.format(**_fields(views[current])), frames=frames,
        height=plot + 140 + (90 if animated else 0),
        margin={**style.MARGIN, "t": 80, "b": 120 if animated else 50},
        legend={"y": -0.01, "yanchor": "top", "x": 0.5, "xanchor": "center"})


# ---------------------------------------------------------------- figure "pyramid"


def _strip(vector: np.ndarray) -> tuple[np.ndarray, int]:
    """Colour the vector as a 1-pixel-high strip; long vectors average ``k`` values a pixel."""
    k = max(1, -(-vector.size // MAX_STRIP))
    padded = np.pad(vector.astype(np.float64), (0, -vector.size % k), constant_values=np.nan)
    shown = np.nanmean(padded.reshape(-1, k), axis=1)
    lo, hi = np.percentile(vector, [1, 99])
    return base.colorize(shown[None, :], vmin=float(lo), vmax=float(hi)), k


def _strip_spec(vector: np.ndarray, levels: Sequence[int], channels: int, segment_label: str,
                reduced_note: str, panel: int) -> tuple[list[dict], list[dict]]:
    """The vector strip, level separators and one label per level segment."""
    rgb, k = _strip(vector)
    edges = np.cumsum([0] + [channels * n * n for n in levels]).tolist()
    data = [{"type": "image", "source": base.png_data_uri(rgb), "x0": k / 2, "dx": k,
             "y0": 0.5, "dy": 1, "hoverinfo": "skip", "name": "vector", **_on(panel)},
            {"type": "scatter", "mode": "lines", "hoverinfo": "skip", "showlegend": False,
             "x": [v for e in edges for v in (e, e, None)],
             "y": [v for _ in edges for v in (-0.2, 1.2, None)],
             "line": {"color": "black", "width": 2}, **_on(panel)}]
    axes = {"xref": f"x{panel}", "yref": f"y{panel}", "showarrow": False}
    notes = []
    for i, n in enumerate(levels):
        left = (edges[i] + edges[i + 1]) / 2 < edges[-1] / 2
        text = segment_label.format(n=n, c=channels, bins=n * n, size=edges[i + 1] - edges[i])
        notes.append({"x": edges[i] if left else edges[i + 1], "y": -0.3 - 0.75 * (i % 2),
                      "text": text, "yanchor": "bottom", "xanchor": "left" if left else "right",
                      "xshift": 4 if left else -4, **axes})
    if k > 1:
        notes.append({"x": edges[-1], "y": 1.2, "text": reduced_note.format(k=k),
                      "xanchor": "right", "yanchor": "top", **axes})
    return data, notes


def pyramid_figure(grids: Sequence[np.ndarray], vector: np.ndarray, *, channels: int,
                   title: str, level_title: str, segment_label: str, reduced_note: str,
                   height: int = style.FIGURE_HEIGHT) -> go.Figure:
    """Each level's ``n x n`` pooled grid as a heatmap, then the whole vector as a strip.

    Parameters
    ----------
    grids : sequence of ndarray, each shape (n, n)
        Pooled values of the shown channel view, one per level, in vector order.
    vector : ndarray, shape (C * sum(n * n),)
        The SPP vector over all ``channels``, in :func:`pyramidviz.spp.spatial_pyramid_pool`
        order: level by level, channel-major within a level.
    title : str
        Usually the length, ``C × Σn² = number``.
    level_title, segment_label, reduced_note : str
        Templates with ``{n} {bins}``; ``{n} {c} {bins} {size}``; ``{k}``.

    Examples
    --------
    >>> fig = pyramid_figure([np.ones((2, 2)), np.ones((1, 1))], np.zeros(15), channels=3,
    ...                      title="3 × 5 = 15", level_title="{n}×{n}",
    ...                      segment_label="{n}", reduced_note="{k}")
    >>> [t.type for t in fig.data]
    ['heatmap', 'heatmap', 'image', 'scatter']
    """
    levels = [g.shape[0] for g in grids]
    expected = channels * sum(n * n for n in levels)
    if vector.shape != (expected,):
        raise ValueError(f"vector must have shape ({expected},), got {vector.shape}")
    layout = _panels([1] * len(levels), y=(0.45, 1.0))
    strip = len(levels) + 1
    layout.update(_panels([1], y=(0.0, 0.3), first=strip, square=False))
    data = [{"type": "heatmap", "z": grid.tolist(), "coloraxis": "coloraxis", "xgap": 1,
             "ygap": 1, "texttemplate": "%{z:.2g}" if grid.shape[0] <= 4 else None,
             "hovertemplate": "(%{y}, %{x}): %{z:.4g}<extra></extra>", **_on(i + 1)}
            for i, grid in enumerate(grids)]
    for i in range(len(levels)):
        layout[f"yaxis{i + 1 if i else ''}"]["autorange"] = "reversed"
    strip_data, notes = _strip_spec(vector, levels, channels, segment_label, reduced_note,
                                    strip)
    layout[f"xaxis{strip}"].update(range=[0, len(vector)], showticklabels=True)
    layout[f"yaxis{strip}"].update(range=[1.5, -1.6])
    finite = np.concatenate([g.ravel() for g in grids])
    layout["coloraxis"] = {"colorscale": style.SEQUENTIAL, "cmin": float(finite.min()),
                           "cmax": float(finite.max()),
                           "colorbar": {"len": 0.58, "y": 1, "yanchor": "top", "thickness": 12}}
    layout["annotations"] = notes + [
        _panel_title(layout, i + 1, level_title.format(n=n, bins=n * n), y=1.01)
        for i, n in enumerate(levels)]
    return _figure(data + strip_data, layout, title=title, height=height,
                   margin={**style.MARGIN, "t": 80})


def scaled_size(size_hw: tuple[int, int], scale: float, *, max_pixels: int = 1_000_000,
                min_side: int = 8) -> tuple[int, int]:
    """``(h, w)`` of a photo scaled by ``scale``, capped at ``max_pixels``, sides >= min_side.

    Examples
    --------
    >>> scaled_size((300, 451), 0.5)
    (150, 226)
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    h, w = size_hw
    scale = min(scale, (max_pixels / (h * w)) ** 0.5)
    return max(min_side, round(h * scale)), max(min_side, round(w * scale))


def feature_size(size_hw: tuple[int, int], stride: int) -> tuple[int, int]:
    """Map size ``ceil(H / S), ceil(W / S)`` behind TF "SAME" padding at total stride ``S``.

    Examples
    --------
    >>> feature_size((224, 224), 32), feature_size((300, 451), 32)
    ((7, 7), (10, 15))
    """
    return -(-size_hw[0] // stride), -(-size_hw[1] // stride)


def resize_photo(photo: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """``photo`` resized (bilinear, aspect not kept) to ``(h, w)``."""
    image = Image.fromarray(np.ascontiguousarray(photo))
    return np.asarray(image.resize((size_hw[1], size_hw[0]), Image.Resampling.BILINEAR))


def crop_and_warp(photo: np.ndarray, size: int = 224) -> tuple[np.ndarray, np.ndarray]:
    """What a fixed-input CNN does: short side to ``size`` + centre crop, or warp to a square.

    Examples
    --------
    >>> [a.shape for a in crop_and_warp(np.zeros((300, 451, 3), np.uint8))]
    [(224, 224, 3), (224, 224, 3)]
    """
    h, w = photo.shape[:2]
    short = min(h, w)
    resized = resize_photo(photo, (round(h * size / short), round(w * size / short)))
    top, left = (resized.shape[0] - size) // 2, (resized.shape[1] - size) // 2
    crop = resized[top:top + size, left:left + size]
    return np.ascontiguousarray(crop), resize_photo(photo, (size, size))


# ---------------------------------------------------------------- figure "sizes"


def _cell_grid(size_hw: tuple[int, int], stride: int, bins: int | None,
               panel: int) -> list[dict]:
    """Feature-cell lines (every ``stride`` px) and one level's bin boxes over a photo."""
    (h, w), (fh, fw) = size_hw, feature_size(size_hw, stride)
    traces = []
    if stride >= 8:
        grid = base.grid_trace([min(c * stride, w) for c in range(fw + 1)],
                               [min(r * stride, h) for r in range(fh + 1)],
                               color="rgba(255,255,255,0.55)", width=0.8)
        traces.append(_traced(grid, panel))
    if bins:
        boxes = [(min(r0 * stride, h), min(c0 * stride, w), min(r1 * stride, h),
                  min(c1 * stride, w)) for r0, r1 in bin_edges(fh, bins)
                 for c0, c1 in bin_edges(fw, bins)]
        traces.append(_boxes(boxes, color=style.LEVEL_COLORS[0], width=2.5, panel=panel))
    return traces


def sizes_figure(photos: Sequence[np.ndarray], titles: Sequence[str], *, stride: int,
                 bins: Sequence[int | None], width_px: int = 880) -> go.Figure:
    """Photos drawn side by side at one common pixel scale, each with its feature-cell grid.

    Parameters
    ----------
    photos : sequence of ndarray, each shape (H_i, W_i, 3)
        E.g. the photo at the chosen scale, its 224 x 224 crop and its 224 x 224 warp.
    titles : sequence of str
        One per photo.
    stride : int
        Total stride of the tap: the cell grid spacing.
    bins : sequence of int or None
        Level whose bins to outline on each photo (None: none).
    width_px : int
        Expected display width, to pick a height that wastes no space.

    Examples
    --------
    >>> fig = sizes_figure([np.zeros((64, 96, 3), np.uint8)], ["x"], stride=32, bins=[2])
    >>> fig.layout.yaxis.range
    (64, 0)
    """
    widths = [p.shape[1] for p in photos]
    tallest = max(p.shape[0] for p in photos)
    layout = _panels(widths, gap=0.02)
    data = []
    for i, (photo, level) in enumerate(zip(photos, bins, strict=True)):
        h, w = photo.shape[:2]
        suffix = str(i + 1) if i else ""
        layout[f"xaxis{suffix}"]["range"] = [0, w]
        layout[f"yaxis{suffix}"]["range"] = [tallest, 0]
        data += [_photo_trace(photo, panel=i + 1), *_cell_grid((h, w), stride, level, i + 1)]
    layout["annotations"] = [_panel_title(layout, i + 1, text, y=1.0)
                             for i, text in enumerate(titles)]
    height = round(width_px * 0.95 * tallest / sum(widths)) + 60
    return _figure(data, layout, title=None, height=height)


# ---------------------------------------------------------------- figure "which bins?"


def _lane_boxes(windows: Sequence[tuple[int, int]], lane: float) -> list[tuple]:
    """Windows as rectangles, neighbours staggered up/down so overlaps stay visible."""
    return [(lane - 0.38 + 0.2 * (i % 2), start + 0.06, lane + 0.18 + 0.2 * (i % 2), end - 0.06)
            for i, (start, end) in enumerate(windows)]


def _lane_label(size: int, n: int, labels: Mapping[str, str]) -> tuple[str, bool]:
    """What the paper's rule yields for one lane, and whether it is right."""
    report = paper_rule_report(size, n)
    if report.zero_stride:
        return labels["zero"], False
    text = labels["count"].format(got=report.n_windows, n=n)
    if report.uncovered:
        text += labels["left"].format(k=len(report.uncovered))
    return text, report.ok


def _rules_traces(size: int, levels: Sequence[int], labels: Mapping[str, str],
                  panel: int) -> tuple[list[dict], list[dict]]:
    """Adaptive and paper windows of every level along one axis of ``size`` cells, and the
    window count written right of each lane (red where the paper's rule breaks)."""
    groups: dict[str, list] = {"adaptive": [], "paper": [], "wrong": [], "uncovered": []}
    text_y, texts, colors = [], [], []
    for li, n in enumerate(levels):
        groups["adaptive"] += _lane_boxes(bin_edges(size, n), 2 * li)
        paper_text, ok = _lane_label(size, n, labels)
        groups["paper" if ok else "wrong"] += _lane_boxes(bin_edges(size, n, rule="paper"),
                                                          2 * li + 1)
        groups["uncovered"] += [(2 * li + 0.55, c, 2 * li + 1.45, c + 1)
                                for c in paper_rule_report(size, n).uncovered]
        text_y += [2 * li, 2 * li + 1]
        texts += [labels["count"].format(got=n, n=n), paper_text]
        colors += ["#333333", "#333333" if ok else style.HIGHLIGHT]
    blue, red = ("#0a84ff", "rgba(10,132,255,0.35)"), (style.HIGHLIGHT, "rgba(255,45,85,0.35)")
    looks = {"adaptive": blue, "paper": blue, "wrong": red,
             "uncovered": (style.HIGHLIGHT, "rgba(255,45,85,0.6)")}
    traces = [_boxes(boxes, color=looks[role][0], fill=looks[role][1], width=1.5, panel=panel,
                     name=labels[role], legend=bool(boxes) and panel == 1,
                     dash="dot" if role == "uncovered" else None,
                     meta={"role": role, "count": len(boxes)})
              for role, boxes in groups.items()]
    yref = "y" if panel == 1 else f"y{panel}"
    notes = [{"text": text, "x": 0.67, "y": y, "xref": "paper", "yref": yref,
              "xanchor": "left", "showarrow": False, "font": {"color": color}}
             for text, y, color in zip(texts, text_y, colors, strict=True)]
    return traces, notes


def rules_figure(size_hw: tuple[int, int], levels: Sequence[int], *,
                 labels: Mapping[str, str], height: int | None = None) -> go.Figure:
    """Adaptive vs paper windows along the height and the width of an ``(h, w)`` map.

    Parameters
    ----------
    size_hw : (int, int)
    levels : sequence of int
    labels : mapping
        ``rows``/``cols`` (panel titles with ``{a}``), ``adaptive``, ``paper``, ``wrong``,
        ``uncovered``, ``zero`` (no layer: stride 0), ``count`` (``{got}`` windows for ``{n}``),
        ``left`` (``{k}`` cells never pooled, appended to ``count``).

    Returns
    -------
    go.Figure
        Box traces carry ``meta={"role": ..., "count": number of windows or cells}``; the
        counts beside the lanes are annotations (``yref`` ``y`` for rows, ``y2`` for columns).

    Examples
    --------
    >>> names = dict(rows="{a}", cols="{a}", adaptive="a", paper="p", wrong="w",
    ...              uncovered="u", zero="z", count="{got}/{n}", left=" -{k}")
    >>> fig = rules_figure((7, 10), (4,), labels=names)
    >>> [t.meta["count"] for t in fig.data if t.meta and t.meta["role"] == "wrong"]
    [6, 4]
    >>> [t.meta["count"] for t in fig.data if t.meta and t.meta["role"] == "uncovered"]
    [0, 1]
    """
    lanes = 2 * len(levels)
    layout: dict = {"annotations": []}
    names = [f"n={n} · {labels[rule]}" for n in levels for rule in ("adaptive", "paper")]
    data = []
    for panel, (size, key, y) in enumerate(
            ((size_hw[0], "rows", (0.58, 1.0)), (size_hw[1], "cols", (0.0, 0.42))), start=1):
        layout.update(_panels([1], y=y, first=panel, square=False))
        suffix = "" if panel == 1 else "2"
        layout[f"xaxis{suffix}"].update(
            range=[-0.2, size + 0.2], showticklabels=True, domain=[0, 0.66],
            tickvals=list(range(0, size + 1, max(1, size // 20))))
        layout[f"yaxis{suffix}"].update(tickvals=list(range(lanes)), ticktext=names,
                                        showticklabels=True, range=[lanes - 0.4, -0.6])
        layout["annotations"].append(_panel_title(layout, panel, labels[key].format(a=size),
                                                  y=y[1] + 0.01))
        grid = base.grid_trace(list(range(size + 1)), [-0.6, lanes - 0.4], width=0.8,
                               color="rgba(0,0,0,0.12)")
        traces, notes = _rules_traces(size, levels, labels, panel)
        data += [_traced(grid, panel), *traces]
        layout["annotations"] += notes
    height = height or 2 * (44 * len(levels) + 70) + 90
    return _figure(data, layout, title=None, height=height,
                   legend={"y": -0.06, "yanchor": "top", "x": 0.5, "xanchor": "center"},
                   margin={**style.MARGIN, "b": 60})
