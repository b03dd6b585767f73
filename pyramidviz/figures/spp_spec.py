"""Plain-dict building blocks of the SPP figures: boxes, panels, panel titles, one validation.

The SPP figures are assembled as one plain spec (lists of trace dicts and a layout dict) and
validated once by ``go.Figure``: building ``go.Scatter`` objects trace by trace, or
``make_subplots`` with per-panel ``update_*`` calls, costs several times more, and the bins
figure must redraw in < 150 ms. Coordinates follow :mod:`pyramidviz.figures.base`: pixel
``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``; boxes are ``(top, left, bottom,
right)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import plotly.graph_objects as go

from pyramidviz import style
from pyramidviz.figures import base

__all__ = ["boxes", "figure", "on", "panel_title", "panels", "photo", "traced", "xy"]

Rect = tuple[float, float, float, float]
BLANK_AXIS = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": "",
              "showline": False}


def xy(rects: Iterable[Rect]) -> tuple[list, list]:
    """Rectangles as one closed path each, ``None``-separated (one scatter trace draws all).

    Examples
    --------
    >>> xy([(0, 1, 2, 3)])
    ([1, 3, 3, 1, 1, None], [0, 0, 2, 2, 0, None])
    """
    xs: list = []
    ys: list = []
    for top, left, bottom, right in rects:
        xs += [left, right, right, left, left, None]
        ys += [top, top, bottom, bottom, top, None]
    return xs, ys


def on(panel: int) -> dict:
    """Axis references of panel ``panel`` (1-based): ``x``/``y``, ``x2``/``y2`` ...

    Examples
    --------
    >>> on(1), on(3)
    ({'xaxis': 'x', 'yaxis': 'y'}, {'xaxis': 'x3', 'yaxis': 'y3'})
    """
    suffix = "" if panel == 1 else str(panel)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def boxes(rects: Iterable[Rect], *, color: str, width: float = 2.5, panel: int = 1,
          name: str = "", dash: str | None = None, fill: str | None = None,
          legend: bool = False, **extra) -> dict:
    """A scatter spec drawing rectangles on one panel (the dict form of
    :func:`pyramidviz.figures.base.boxes_trace`).

    Examples
    --------
    >>> spec = boxes([(0, 0, 1, 1)], color="red", panel=2, fill="pink")
    >>> spec["xaxis"], spec["fill"], spec["x"][:5]
    ('x2', 'toself', [0, 1, 1, 0, 0])
    """
    xs, ys = xy(rects)
    spec = {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "name": name,
            "showlegend": legend, "hoverinfo": "skip", **on(panel),
            "line": {"color": color, "width": width, "dash": dash}, **extra}
    if fill:
        spec.update(fill="toself", fillcolor=fill)
    return spec


def traced(trace: go.BaseTraceType, panel: int) -> dict:
    """A validated trace (e.g. from :mod:`pyramidviz.figures.base`) as a dict on ``panel``."""
    return {**trace.to_plotly_json(), **on(panel)}


def photo(rgb, *, panel: int) -> dict:
    """A photo on ``panel`` over its own pixel coordinates (256-colour PNG,
    :func:`pyramidviz.figures.base.photo_trace`, at most ``style.SPP_PHOTO_SIDE`` px long)."""
    return traced(base.photo_trace(rgb, side=style.SPP_PHOTO_SIDE), panel)


def panels(widths: Sequence[float], *, gap: float = 0.03, y: tuple[float, float] = (0, 1),
           first: int = 1, square: bool = True) -> dict:
    """Layout axes for panels side by side, their widths proportional to ``widths``.

    Parameters
    ----------
    widths : sequence of float
        Relative widths, one per panel.
    gap : float
        Paper fraction between neighbours.
    y : (float, float)
        Vertical domain shared by the panels.
    first : int
        Number of the first panel (``first=3`` lays out ``xaxis3``, ``yaxis3`` ...).
    square : bool
        Pin each panel's y scale to its x scale (square pixels / cells).

    Examples
    --------
    >>> layout = panels([1, 1], gap=0.0)
    >>> layout["xaxis"]["domain"], layout["xaxis2"]["domain"], layout["yaxis2"]["scaleanchor"]
    ([0.0, 0.5], [0.5, 1.0], 'x2')
    """
    usable = 1.0 - gap * (len(widths) - 1)
    layout, left = {}, 0.0
    for i, width in enumerate(widths):
        suffix = "" if first + i == 1 else str(first + i)
        right = left + usable * width / sum(widths)
        layout[f"xaxis{suffix}"] = {"domain": [left, min(right, 1.0)], "anchor": f"y{suffix}",
                                    "constrain": "domain", **BLANK_AXIS}
        layout[f"yaxis{suffix}"] = {"domain": list(y), "anchor": f"x{suffix}",
                                    "constrain": "domain", **BLANK_AXIS,
                                    "scaleanchor": f"x{suffix}" if square else False}
        left = right + gap
    return layout


def panel_title(layout: dict, panel: int, text: str, *, y: float) -> dict:
    """An annotation centred above panel ``panel`` of ``layout`` (paper coordinates)."""
    suffix = "" if panel == 1 else str(panel)
    lo, hi = layout[f"xaxis{suffix}"]["domain"]
    return {"text": text, "x": (lo + hi) / 2, "y": y, "xref": "paper", "yref": "paper",
            "xanchor": "center", "yanchor": "bottom", "showarrow": False,
            "font": {"size": style.FONT_SIZE + 1}}


def figure(data: list, layout: dict, *, title: str | None, height: int,
           frames: list | None = None, legend: dict | None = None, **overrides) -> go.Figure:
    """Validate the spec once, apply the house style (:func:`base.styled`), then the
    figure's own layout ``overrides``. ``legend`` (a placement) shows the legend.

    Examples
    --------
    >>> fig = figure([boxes([(0, 0, 1, 1)], color="red")], panels([1]), title="t", height=300)
    >>> fig.layout.height, fig.layout.showlegend, fig.layout.title.text
    (300, False, 't')
    """
    fig = go.Figure(data=data, layout=layout, frames=frames)
    base.styled(fig, title=title, height=height, legend=legend is not None)
    if legend is not None:
        overrides["legend"] = legend
    if overrides:
        fig.update_layout(**overrides)
    return fig
