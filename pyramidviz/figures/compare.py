"""Figures of the Compare page: what SPP and ASPP see and give, on the same photo and map."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from pyramidviz import style
from pyramidviz.figures import base


def vector_figure(vector: np.ndarray, *, title: str) -> go.Figure:
    """SPP's output: the whole vector as one strip (a PNG image), no spatial layout."""
    strip_h = max(1, len(vector) // 12)  # data units: the strip shows 12 times wider than tall
    strip, k = base.strip_rgb(vector)
    fig = go.Figure(go.Image(source=base.png_data_uri(strip), x0=k / 2, y0=strip_h / 2, dx=k,
                             dy=strip_h, name="vector", hoverinfo="skip"))
    base.image_axes(fig, width=len(vector), height=strip_h)
    return base.styled(fig, title=title, height=style.SMALL_HEIGHT)


def map_figure(spatial: np.ndarray, *, title: str) -> go.Figure:
    """ASPP's output: an ``(h, w)`` map of its grid (a PNG image)."""
    rgb, _ = base.cells_to_rgb(spatial)
    h, w = spatial.shape
    fig = go.Figure(base.image_trace(rgb, extent=(w, h)))
    base.image_axes(fig, width=w, height=h)
    fig.update_yaxes(scaleanchor="x")
    return base.styled(fig, title=title, height=style.SMALL_HEIGHT)


def growth_figure(lengths: dict[str, list[int]], *, names: dict[str, str]) -> go.Figure:
    """Output length against image width: flat for SPP, growing with the area for ASPP."""
    fig = go.Figure()
    for key, i in (("spp", 1), ("aspp", 0)):
        fig.add_trace(go.Scatter(
            x=lengths["side"], y=lengths[key], mode="lines+markers", name=names[key],
            line={"color": style.BRANCH_COLORS[i], "width": 3, "dash": style.BRANCH_DASHES[i]},
            marker={"symbol": style.BRANCH_SYMBOLS[i], "size": 9},
            hovertemplate=f"{names['x']}: %{{x}}<br>{names['y']}: %{{y:,}}"
                          f"<extra>{names[key]}</extra>"))
    values = [v for key in ("spp", "aspp") for v in lengths[key] if v > 0]
    fig.update_xaxes(title=names["x"])
    fig.update_yaxes(title=names["y"], type="log",
                     range=[np.log10(min(values)) - 0.3, np.log10(max(values)) + 0.3])
    base.styled(fig, height=style.SMALL_HEIGHT + 60, legend=True)
    fig.update_layout(legend={"orientation": "h", "y": -0.3, "yanchor": "top"})
    return fig
