"""Figures of the ASPP page, part 2: one row of small image panels per branch, for the
effective receptive fields and the branch outputs, and the shapes through ASPP.

References
----------
.. [1] W. Luo et al., "Understanding the Effective Receptive Field in Deep Convolutional
   Neural Networks", NeurIPS 2016, Fig. 1.
.. [2] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv:1706.05587, 2017, Sec. 3.3 and Fig. 5 (the ASPP branches).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from pyramidviz import style
from pyramidviz.figures import base

__all__ = ["PANEL_SIDE", "Panel", "erf_figure", "panel_image", "panel_row", "previews_figure"]

PANEL_SIDE = 192
"""Longest side in pixels of one small panel image sent to the browser."""

Panel = tuple[str, "str | None", float, float, list]
"""``(title, x label, width, height, traces)`` of one panel, in its own data units."""


def panel_image(values: np.ndarray, extent: tuple[float, float], **colorize_kw) -> go.Image:
    """A PNG heatmap about :data:`PANEL_SIDE` px long covering ``extent = (width, height)``.

    Small maps are upscaled with crisp cells, large ones (ERF maps) downsampled.

    Examples
    --------
    >>> trace = panel_image(np.zeros((4, 6)), (6, 4))
    >>> trace.dx, trace.source[:22]
    (0.03125, 'data:image/png;base64,')
    """
    h, w = values.shape
    if max(h, w) <= PANEL_SIDE:
        rgb, _ = base.cells_to_rgb(values, target_side=PANEL_SIDE, **colorize_kw)
    else:
        shrink = PANEL_SIDE / max(h, w)
        size = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        rgb = base.colorize(values, **colorize_kw)
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
    return base.image_trace(rgb, extent=extent)


def _circle(center: tuple[float, float], radius: float, n: int = 48) -> tuple[list, list]:
    angles = np.linspace(0, 2 * np.pi, n)
    return ((center[1] + 0.5 + radius * np.cos(angles)).tolist(),
            (center[0] + 0.5 + radius * np.sin(angles)).tolist())


def panel_row(panels: Sequence[Panel], *, width_px: int, title: str | None,
              spacing: float = 0.02) -> go.Figure:
    """A one-row grid of image panels built in one go (``make_subplots`` is slow here).

    Each panel is ``(title, x label, width, height, traces)`` in its own data units; the
    figure's height fits panels of ``width_px`` total width on screen. Titles and labels
    are tied to each panel's axes, so they stay on their image at any on-screen width.
    """
    n = len(panels)
    share = (1 - spacing * (n - 1)) / n
    hidden = {"showgrid": False, "zeroline": False, "showticklabels": False, "ticks": "",
              "showline": False, "constrain": "domain"}
    layout, notes, data = {}, [], []
    for i, (head, label, width, height, traces) in enumerate(panels):
        suffix, left = ("" if i == 0 else str(i + 1)), i * (share + spacing)
        layout[f"xaxis{suffix}"] = {**hidden, "domain": [left, left + share],
                                    "range": [0, width], "anchor": f"y{suffix}",
                                    "title": {"text": label, "standoff": 4}}
        layout[f"yaxis{suffix}"] = {**hidden, "domain": [0, 1], "range": [height, 0],
                                    "anchor": f"x{suffix}", "scaleanchor": f"x{suffix}"}
        notes.append({"text": head, "x": 0.5, "y": 1, "xref": f"x{suffix} domain",
                      "yref": f"y{suffix} domain", "yanchor": "bottom", "showarrow": False,
                      "font": {"size": style.FONT_SIZE + 1}})  # stays on its image
        data += [trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}") for trace in traces]
    aspect = max(h / w for _, _, w, h, _ in panels)
    lines = max(1 + str(label or "").count("<br>") for _, label, _, _, _ in panels)
    margin = {"l": 10, "r": 10, "t": 62 if title else 30, "b": 14 + 20 * lines}
    fig = base.styled(go.Figure(data=data, layout={**layout, "annotations": notes}),
                      title=title)
    return fig.update_layout(height=int(width_px * share * aspect) + margin["t"] + margin["b"],
                             margin=margin)


def _circle_trace(center: tuple[float, float], radius: float, dash: str) -> go.Scatter:
    x, y = _circle(center, radius)
    return go.Scatter(x=x, y=y, mode="lines", hoverinfo="skip", showlegend=False,
                      line={"color": "white", "width": 1.5, "dash": dash})


def erf_figure(branches: Sequence[tuple[str, object]], *, shown: Sequence[np.ndarray],
               photo_hw: tuple[int, int], radius_label: str, width_px: int = 900,
               title: str | None = None) -> go.Figure:
    """Effective receptive fields side by side, each with its theoretical box and radii.

    Parameters
    ----------
    branches : sequence of (title, ERFMap)
        ``erf.ERFMap`` values (``center``, ``r50``, ``r90``, ``theoretical``).
    shown : sequence of ndarray, each shape (H, W), in [0, 1]
        The brightness drawn for each branch, shown on a square-root colour scale so the
        faint tails stay visible: :func:`pyramidviz.erf.common_scale` (one scale, so
        brightness compares across panels) or each map on its own peak (``ERFMap.map``).
    radius_label : str
        Text under each panel with ``{r50}`` and ``{r90}`` placeholders (``<br>`` breaks
        the line: narrow panels have room for about ten characters).
    width_px : int
        Expected width on screen, to size the figure's height to the panels.
    """
    H, W = photo_hw
    panels = []
    for i, (name, erf) in enumerate(branches):
        box = erf.theoretical
        traces = [panel_image(np.sqrt(np.clip(shown[i], 0.0, 1.0)), (W, H), vmin=0.0, vmax=1.0),
                  base.boxes_trace([(box.top, box.left, box.bottom, box.right)],
                                   color=style.FIELD_BOX, width=2)]
        traces += [_circle_trace(erf.center, radius, dash)
                   for radius, dash in ((erf.r50, "solid"), (erf.r90, "dash"))
                   if np.isfinite(radius)]
        label = radius_label.format(r50=erf.r50, r90=erf.r90)
        panels.append((name, label, W, H, traces))
    return panel_row(panels, width_px=width_px, title=title)


def erf_radial_figure(branches: Sequence[tuple[str, object]], *, radii: np.ndarray,
                      mass: Sequence[np.ndarray], reach: Sequence[float],
                      labels: Mapping[str, str], height: int = style.FIGURE_HEIGHT
                      ) -> go.Figure:
    """Gradient mass within radius ``r`` of the cell against ``r``, one curve per branch.

    Each curve marks its r50 and r90; a dotted line in the branch's colour marks where its
    theoretical field ends: every curve reaches 100 % by then.

    Parameters
    ----------
    branches : sequence of (title, ERFMap)
    radii : ndarray, shape (n,)
        Radii in pixels, from 0 to at least the largest ``reach``.
    mass : sequence of ndarray, each shape (n,)
        Per branch, the fraction of mass within each radius
        (:func:`pyramidviz.erf.mass_within`).
    reach : sequence of float
        Per branch, where its theoretical field ends (:func:`pyramidviz.erf.field_reach`).
    labels : mapping
        ``x``, ``y`` (axis titles), ``r50``, ``r90`` and ``field`` (legend/hover words).
    """
    top = max([*reach, 1.0])
    fig = go.Figure()
    for i, ((name, erf), far, inside) in enumerate(zip(branches, reach, mass, strict=True)):
        color, dash = style.BRANCH_COLORS[i % len(style.BRANCH_COLORS)], style.BRANCH_DASHES[
            i % len(style.BRANCH_DASHES)]
        symbol = style.BRANCH_SYMBOLS[i % len(style.BRANCH_SYMBOLS)]
        fig.add_trace(go.Scatter(
            x=radii, y=100 * np.asarray(inside), mode="lines", name=name,
            line={"color": color, "dash": dash, "width": 2.5}, legendgroup=name,
            hovertemplate=f"{name}<br>r %{{x:.0f}} px: %{{y:.0f}} %<extra></extra>"))
        marks = [(r, p) for r, p in ((erf.r50, 50), (erf.r90, 90)) if np.isfinite(r)]
        fig.add_trace(go.Scatter(
            x=[r for r, _ in marks], y=[p for _, p in marks], mode="markers+text",
            text=[labels[k] for k in ("r50", "r90")][:len(marks)], textposition="top left",
            marker={"color": color, "symbol": symbol, "size": 11,
                    "line": {"color": "black", "width": 1}},
            legendgroup=name, showlegend=False, textfont={"color": color},
            hovertemplate=f"{name}: %{{text}} = %{{x:.0f}} px<extra></extra>"))
        fig.add_trace(go.Scatter(
            x=[far, far], y=[0, 100], mode="lines", legendgroup=name, showlegend=False,
            line={"color": color, "dash": "dot", "width": 1.5},
            hovertemplate=f"{name}: {labels['field']} %{{x:.0f}} px<extra></extra>"))
    fig.update_xaxes(title_text=labels["x"], range=[0, top * 1.02], rangemode="tozero")
    fig.update_yaxes(title_text=labels["y"], range=[0, 103], ticksuffix=" %")
    fig = base.styled(fig, height=height, legend=True)
    fig.update_layout(legend={"orientation": "h", "y": -0.22, "x": 0, "yanchor": "top"},
                      margin={**style.MARGIN, "b": 90, "l": 60})
    return fig


MIN_PANEL_PX = 240
"""Width a split panel's height is sized for, at least: phones stack the panels full width."""


def one_per_panel(fig_builder, *args, columns: int, width_px: int, **kwargs) -> list[go.Figure]:
    """The figure ``fig_builder`` makes, one panel per figure (for columns that a phone
    stacks, so panel titles never collide and each panel gets the screen's width).

    ``fig_builder`` is :func:`erf_figure` or :func:`previews_figure`; ``columns`` is how
    many panels there are, ``width_px`` the width of the row they share on a wide screen.
    """
    fig = fig_builder(*args, width_px=width_px, **kwargs)
    figures = []
    for i in range(columns):
        suffix = "" if i == 0 else str(i + 1)
        x = f"x{suffix}"
        traces = [t.update(xaxis="x", yaxis="y") for t in fig.data
                  if (t.xaxis or "x") == x]
        layout = fig.layout.to_plotly_json()
        xaxis, yaxis = layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"]
        xaxis.update(domain=[0, 1], anchor="y")
        yaxis.update(domain=[0, 1], anchor="x", scaleanchor="x")
        note = dict(layout["annotations"][i], xref="x domain", yref="y domain")
        keep = {k: v for k, v in layout.items()
                if not k.startswith(("xaxis", "yaxis")) and k != "title"}  # the page titles
        one = go.Figure(data=traces, layout={**keep, "xaxis": xaxis, "yaxis": yaxis,
                                             "annotations": [note]})
        w = xaxis["range"][1]
        h = abs(yaxis["range"][0] - yaxis["range"][1])
        margin = {**layout["margin"], "t": 30}
        panel_px = max(width_px / columns, MIN_PANEL_PX)  # a phone shows each one full width
        one.update_layout(height=int(panel_px * h / w) + margin["t"] + margin["b"],
                          margin=margin)
        figures.append(one)
    return figures


def previews_figure(previews: Mapping[str, np.ndarray], *, titles: Mapping[str, str],
                    width_px: int = 900, title: str | None = None) -> go.Figure:
    """Each branch's ``(h, w)`` output side by side on one shared colour range.

    Parameters
    ----------
    previews : mapping of str to ndarray, shape (h, w)
        From :func:`pyramidviz.aspp.branch_previews` (one channel or the channel mean).
    titles : mapping of str to str
        Panel title per branch key; ``title`` goes above them all.
    """
    names = list(previews)
    stack = np.stack([np.asarray(previews[n], dtype=np.float64) for n in names])
    lo, hi = float(stack.min()), float(stack.max())
    h, w = stack.shape[1:]
    panels = [(titles[n], f"{h} × {w}", w, h, [panel_image(values, (w, h), vmin=lo, vmax=hi)])
              for n, values in zip(names, stack, strict=True)]
    return panel_row(panels, width_px=width_px, title=title)
