"""Figures of the ASPP page, part 3: what dilation does on a finite map. Valid weights versus
rate (DeepLab v3 Fig. 4), gridding of stacked dilated convolutions, and one dilated kernel
sliding over a small input (Plotly frames).

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
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from pyramidviz.atrous import Coverage, conv_output_size, valid_weight_counts
from pyramidviz.figures import base, style
from pyramidviz.figures.aspp_panels import PANEL_SIDE, panel_row
from pyramidviz.figures.base import branch_color

__all__ = ["ValidWeights", "gridding_figure", "sliding_kernel_figure", "valid_weights_figure",
           "valid_weights_table"]

OFF_MAP = "rgba(120, 120, 120, 0.9)"


@dataclass(frozen=True)
class ValidWeights:
    """Share of output positions by number of valid kernel weights, per rate.

    Attributes
    ----------
    kernel : int
    rates : ndarray of int, shape (n,)
    counts : tuple of int
        Numbers of valid weights that occur at some rate (columns of ``share``), ascending.
    share : ndarray of float, shape (n, len(counts))
        ``share[i, j]``: fraction of positions with ``counts[j]`` valid weights at
        ``rates[i]`` (:func:`pyramidviz.atrous.valid_weight_counts`); rows sum to 1.
    """

    kernel: int
    rates: np.ndarray
    counts: tuple[int, ...]
    share: np.ndarray


def valid_weights_table(feature_size: tuple[int, int], *, kernel: int = 3,
                        max_rate: int | None = None) -> ValidWeights:
    """Valid-weight shares for rates ``1 .. max_rate`` (default ``max(h, w) + 2``).

    Examples
    --------
    >>> t = valid_weights_table((65, 65), max_rate=65)
    >>> t.counts[-1], round(float(t.share[0, -1]), 4), float(t.share[64, 0])
    (9, 0.9394, 1.0)
    """
    h, w = feature_size
    max_rate = max(h, w) + 2 if max_rate is None else max_rate
    rates = np.arange(1, max_rate + 1)
    rows = [valid_weight_counts((h, w), int(r), kernel) for r in rates]
    counts = tuple(sorted({c for row in rows for c in row}))
    share = np.array([[row.get(c, 0.0) for c in counts] for row in rows])
    return ValidWeights(kernel, rates, counts, share)


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
            fig.add_vline(x=rate, line={"color": branch_color(i + 1), "width": 2, "dash": "dash"},
                          annotation_text=labels["rate"].format(r=rate),
                          annotation_position="top")
    fig.update_xaxes(title_text=labels["x"], range=[0.5, top + 0.5])
    fig.update_yaxes(title_text=labels["y"], range=[-0.02, 1.05], tickformat=".0%")
    base.styled(fig, height=height, legend=True)
    fig.update_layout(legend={"y": -0.16, "yanchor": "top"}, margin={"b": 10, "t": 50},
                      hovermode="x unified")
    fig.update_xaxes(title_standoff=6)
    return fig


def _coverage_rgb(reach: np.ndarray) -> np.ndarray:
    """Reached offsets in the first branch colour, holes grey, the centre highlighted."""
    on, off, centre = (plotly.colors.hex_to_rgb(c) for c in
                       (branch_color(0), style.HOLE, style.HIGHLIGHT))
    rgb = np.where(reach[..., None], np.array(on), np.array(off)).astype(np.uint8)
    c = reach.shape[0] // 2
    rgb[c, c] = centre
    return rgb


def gridding_figure(stacks: Sequence[tuple[str, Coverage]], *,
                    width_px: int = 660) -> go.Figure:
    """Coverage of stacked dilated convs side by side: blue reached, grey holes.

    Parameters
    ----------
    stacks : sequence of (title, Coverage)
        From :func:`pyramidviz.atrous.stack_coverage`; the centre output is marked red.
    """
    panels = []
    for title, coverage in stacks:
        span = coverage.span
        rgb = base.upscale_nearest(_coverage_rgb(coverage.reach), max(1, PANEL_SIDE * 2 // span))
        traces = [base.image_trace(rgb, extent=(span, span))]
        if span <= 41:
            lines = list(range(span + 1))
            traces.append(base.grid_trace(lines, lines, color="white", width=1))
        panels.append((title, None, span, span, traces))
    return panel_row(panels, width_px=width_px, title=None, spacing=0.05)


def _frame_xy(oy: int, ox: int, *, geometry: tuple[int, ...], gap: float) -> list[tuple]:
    """``(x, y)`` of the moving parts at output ``(oy, ox)``: taps on the input, taps on
    the padding, the kernel's footprint, the output filled so far, the current output."""
    size, kernel, rate, padding, stride, out = geometry
    n, x0 = size + 2 * padding, size + 2 * padding + gap
    ys = oy * stride + np.arange(kernel) * rate
    xs = ox * stride + np.arange(kernel) * rate
    ty, tx = (a.ravel() for a in np.meshgrid(ys, xs, indexing="ij"))
    real = (ty >= padding) & (ty < n - padding) & (tx >= padding) & (tx < n - padding)
    done = [b for b in [(0, x0, oy, x0 + out), (oy, x0, oy + 1, x0 + ox)]
            if b[2] > b[0] and b[3] > b[1]] or [(0, x0, 0, x0)]
    boxes = [[(ty.min(), tx.min(), ty.max() + 1, tx.max() + 1)], done,
             [(oy, x0 + ox, oy + 1, x0 + ox + 1)]]
    return ([((tx[m] + 0.5).tolist(), (ty[m] + 0.5).tolist()) for m in (real, ~real)]
            + [_box_path(b) for b in boxes])


def _box_path(boxes: Sequence[tuple[float, ...]]) -> tuple[list, list]:
    """Closed outlines of ``(top, left, bottom, right)`` boxes, ``None``-separated."""
    px, py = [], []
    for top, left, bottom, right in boxes:
        px += [float(left), float(right), float(right), float(left), float(left), None]
        py += [float(top), float(top), float(bottom), float(bottom), float(top), None]
    return px, py


def _moving_traces(xy: list[tuple], *, marker_px: float) -> list[go.Scatter]:
    """The styled traces of the moving parts (frames then update only ``x`` and ``y``)."""
    marker = {"symbol": "square", "size": marker_px, "line": {"color": "white", "width": 1}}
    styles = [
        {"mode": "markers", "marker": {**marker, "color": branch_color(1)}},
        {"mode": "markers", "marker": {**marker, "color": OFF_MAP, "symbol": "square-open"}},
        {"mode": "lines", "line": {"color": branch_color(1), "width": 2, "dash": "dash"}},
        {"mode": "lines", "line": {"color": branch_color(0), "width": 1}, "fill": "toself",
         "fillcolor": "rgba(10, 132, 255, 0.35)"},
        {"mode": "lines", "line": {"color": style.HIGHLIGHT, "width": 3}, "fill": "toself",
         "fillcolor": "rgba(255, 45, 85, 0.6)"},
    ]
    return [go.Scatter(x=x, y=y, hoverinfo="skip", showlegend=False, **kw)
            for (x, y), kw in zip(xy, styles, strict=True)]


def sliding_kernel_figure(size: int, kernel: int, *, rate: int, padding: int, stride: int,
                          labels: Mapping[str, str], duration_ms: int = 450,
                          height: int = style.FIGURE_HEIGHT) -> go.Figure:
    """One dilated kernel sliding over a ``size x size`` input: Plotly frames with Play.

    The padded input is on the left (padding grey), the output on the right; each frame
    shows the kernel's taps for one output position and the output filled so far.
    ``labels``: ``"input"``, ``"output"``, ``"play"``, ``"pause"``.

    Raises
    ------
    ValueError
        When the dilated kernel does not fit: the output size would be below 1.
    """
    out = conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    if out < 1:
        raise ValueError(f"kernel {kernel} at rate {rate} does not fit a {size} input with "
                         f"padding {padding}: output size {out}")
    n, gap = size + 2 * padding, 1.5
    geometry = (size, kernel, rate, padding, stride, out)
    fig = go.Figure()
    fig.add_trace(base.boxes_trace([(0, 0, n, n)], color=style.HOLE, width=1, fill="#eeeeee"))
    fig.add_trace(base.boxes_trace([(padding, padding, padding + size, padding + size)],
                                   color="#888888", width=1, fill="white"))
    fig.add_trace(base.grid_trace(list(range(n + 1)), list(range(n + 1)), color="#bbbbbb",
                                  width=1))
    x0 = n + gap
    fig.add_trace(base.grid_trace([x0 + i for i in range(out + 1)], list(range(out + 1)),
                                  color="#888888", width=1))
    static = len(fig.data)
    marker_px = float(np.clip(0.6 * (height - 140) / (n + 2), 5, 18))  # about 60 % of a cell
    fig.add_traces(_moving_traces(_frame_xy(0, 0, geometry=geometry, gap=gap),
                                  marker_px=marker_px))
    moving = list(range(static, len(fig.data)))
    positions = [(oy, ox) for oy in range(out) for ox in range(out)]
    frames = [{"name": f"{oy},{ox}", "traces": moving,
               "data": [{"type": "scatter", "x": x, "y": y}
                        for x, y in _frame_xy(oy, ox, geometry=geometry, gap=gap)]}
              for oy, ox in positions]
    _animation_controls(fig, positions, labels, duration_ms)
    for text, x in ((labels["input"], n / 2), (labels["output"], x0 + out / 2)):
        fig.add_annotation(x=x, y=-0.3, text=text, showarrow=False, yanchor="bottom")
    fig.update_xaxes(range=[-0.3, x0 + out + 0.3], visible=False)
    fig.update_yaxes(range=[n + 0.3, -1.6], visible=False, scaleanchor="x")
    base.styled(fig, height=height)
    fig.update_layout(margin={"b": 80})
    # hundreds of small frames: skip plotly's per-property validation (built from numbers here)
    return go.Figure(data=fig.data, layout=fig.layout, frames=frames, _validate=False)


def _animation_controls(fig: go.Figure, positions: list[tuple[int, int]],
                        labels: Mapping[str, str], duration_ms: int) -> None:
    """Play / pause buttons and a slider with one step per output position."""
    play = {"frame": {"duration": duration_ms, "redraw": True}, "fromcurrent": True,
            "transition": {"duration": 0}, "mode": "immediate"}
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    fig.update_layout(
        updatemenus=[{"type": "buttons", "direction": "left", "x": 0, "y": 0, "yanchor": "top",
                      "xanchor": "left", "pad": {"t": 8, "r": 8}, "buttons": [
                          {"label": labels["play"], "method": "animate", "args": [None, play]},
                          {"label": labels["pause"], "method": "animate",
                           "args": [[None], pause]}]}],
        sliders=[{"x": 0.3, "len": 0.7, "y": 0, "yanchor": "top", "pad": {"t": 8},
                  "font": {"color": "rgba(0, 0, 0, 0)"}, "ticklen": 3,
                  "currentvalue": {"prefix": labels.get("position", ""), "xanchor": "right",
                                   "font": {"color": "#333333"}}, "steps": [
                      {"label": f"({oy}, {ox})", "method": "animate",
                       "args": [[f"{oy},{ox}"], {**play, "frame": {"duration": 0,
                                                                   "redraw": True}}]}
                      for oy, ox in positions]}])
