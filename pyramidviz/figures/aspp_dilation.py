"""Figures of the ASPP page, part 3: valid weights versus rate on a finite map (DeepLab v3
Fig. 4). Gridding and the sliding kernel are browser views (:mod:`pyramidviz.payloads`).

References
----------
.. [1] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv:1706.05587, 2017, Sec. 3.3 and Fig. 4.
.. [2] P. Wang et al., "Understanding Convolution for Semantic Segmentation", WACV 2018, Fig. 2.
.. [3] V. Dumoulin, F. Visin, "A guide to convolution arithmetic for deep learning",
   arXiv:1603.07285, 2016 (dilated convolution animations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from pyramidviz import style
from pyramidviz.atrous import ValidWeights
from pyramidviz.figures import base
from pyramidviz.figures.base import branch_color

__all__ = ["valid_weights_figure"]

OFF_MAP = "rgba(120, 120, 120, 0.9)"


def valid_weights_figure(table: ValidWeights, *, marked: Sequence[int],
                         labels: Mapping[str, str],
                         height: int = style.FIGURE_HEIGHT) -> go.Figure:
    """DeepLab v3 Fig. 4 for this map: share of positions with ``n`` valid weights vs rate.

    ``labels``: ``"count"`` (with ``{n}``), ``"all"``, ``"centre"`` (with ``{n}``),
    ``"x"``, ``"y"``, ``"rate"`` (with ``{r}``). The ``all`` line is drawn thick.
    """
    full = table.kernel * table.kernel
    colors = plotly.colors.sample_colorscale(style.SEQUENTIAL,
                                             np.linspace(0.0, 0.9, len(table.counts)))
    fig = go.Figure()
    for j, count in enumerate(table.counts):
        name = (labels["all"].format(n=count) if count == full else
                labels["centre"].format(n=count) if count == 1 else
                labels["count"].format(n=count))
        bold = count in (1, full)
        fig.add_trace(go.Scatter(x=table.rates, y=table.share[:, j], mode="lines", name=name,
                                 line={"color": colors[j], "width": 3.5 if bold else 1.5,
                                       "dash": None if bold else "dot"}))
    top = int(table.rates.max())
    for i, rate in enumerate(marked):
        if rate <= top:
            fig.add_vline(x=rate, line={"color": branch_color(i + 1), "width": 2,
                                        "dash": style.BRANCH_DASHES[(i + 1) % 7]},
                          annotation_text=labels["rate"].format(r=rate),
                          annotation_position="top")
    fig.update_xaxes(title_text=labels["x"], range=[0.5, top + 0.5])
    fig.update_yaxes(title_text=labels["y"], range=[-0.02, 1.05], tickformat=".0%")
    base.styled(fig, height=height, legend=True)
    fig.update_layout(legend={"y": -0.16, "yanchor": "top"}, margin={"b": 10, "t": 50},
                      hovermode="x unified")
    fig.update_xaxes(title_standoff=6)
    return fig
