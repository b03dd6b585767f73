"""Figures of the Compare page: what SPP and ASPP see and give, on the same photo and map."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pyramidviz.figures import base, style


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
