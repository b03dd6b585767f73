"""The pyramid figure of the SPP page: each level's pooled grid, then the whole vector.

The grids show the pooling of the map on screen (one channel, or the mean/max over channels);
the strip below them is always the real SPP vector, every channel pooled separately, in
:func:`pyramidviz.spp.spatial_pyramid_pool` order. :func:`grids_meaning` says how the two
relate, so the page can say so.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Fig. 3 and Sec. 2.3.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch

from pyramidviz.figures import base, style
from pyramidviz.figures import spp_spec as spec
from pyramidviz.spp import spatial_pyramid_pool

__all__ = ["CHANNEL_VIEWS", "MAX_STRIP", "channel_map", "grids_meaning", "pyramid_figure",
           "spp_vector", "top_channels", "view_grids"]

CHANNEL_VIEWS = ("max", "mean")  # max first: with max pooling its grids are real maxima
"""Channel views over all channels; any other view is one channel's index."""
MAX_STRIP = 12_000
"""Longest vector strip drawn one value per pixel; longer ones average several."""


def channel_map(features: np.ndarray, channel: str | int) -> np.ndarray:
    """The ``(h, w)`` map shown for ``channel``: one channel, or ``"mean"``/``"max"`` of all.

    Examples
    --------
    >>> channel_map(np.arange(8.0).reshape(2, 2, 2), "max").tolist()
    [[4.0, 5.0], [6.0, 7.0]]
    """
    if features.ndim != 3:
        raise ValueError(f"features must have shape (C, h, w), got {features.shape}")
    if str(channel) == "mean":
        return features.mean(axis=0)
    if str(channel) == "max":
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


def spp_vector(features: np.ndarray, levels: Sequence[int], mode: str) -> np.ndarray:
    """The real SPP vector ``(C * sum(n * n),)`` of a ``(C, h, w)`` map: every channel
    pooled separately (:func:`pyramidviz.spp.spatial_pyramid_pool`).

    Examples
    --------
    >>> spp_vector(np.arange(8.0, dtype=np.float32).reshape(2, 2, 2), (1,), "max").tolist()
    [3.0, 7.0]
    """
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))[None]
    return spatial_pyramid_pool(x, levels, mode=mode).vector[0].numpy()


def view_grids(values: np.ndarray, levels: Sequence[int], mode: str) -> list[np.ndarray]:
    """Pooled ``n x n`` grids of the shown ``(h, w)`` map, one per level.

    Examples
    --------
    >>> [g.tolist() for g in view_grids(np.arange(16.0).reshape(4, 4), (2, 1), "max")]
    [[[5.0, 7.0], [13.0, 15.0]], [[15.0]]]
    """
    x = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None]
    return [p[0, 0].numpy() for p in spatial_pyramid_pool(x, levels, mode=mode).pooled]


def grids_meaning(channel: str | int, mode: str) -> str:
    """How the grids of the shown map relate to the real SPP vector.

    Returns
    -------
    str
        ``"entries"``: one channel, the grids are that channel's entries of the vector.
        ``"channel_max"``: max over channels with max pooling; two maxima commute, so each
        grid value is the largest of the ``C`` real entries of its bin.
        ``"channel_mean"``: mean over channels with average pooling; two averages commute,
        so each value is the mean of its bin's ``C`` real entries.
        ``"shown_map"``: mean with max pooling or max with average pooling; the grids only
        pool the picture on screen, and are neither entries of the vector nor their
        channel mean or max.

    Examples
    --------
    >>> [grids_meaning(c, m) for c, m in (("7", "max"), ("max", "max"), ("mean", "max"))]
    ['entries', 'channel_max', 'shown_map']
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    if str(channel) not in CHANNEL_VIEWS:
        return "entries"
    return {("max", "max"): "channel_max", ("mean", "avg"): "channel_mean"}.get(
        (str(channel), mode), "shown_map")


def _strip_spec(vector: np.ndarray, levels: Sequence[int], channels: int, segment_label: str,
                reduced_note: str, panel: int) -> tuple[list[dict], list[dict]]:
    """The vector strip, level separators and one label per level segment."""
    rgb, k = base.strip_rgb(vector, max_len=MAX_STRIP)
    edges = np.cumsum([0] + [channels * n * n for n in levels]).tolist()
    data = [{"type": "image", "source": base.png_data_uri(rgb), "x0": k / 2, "dx": k,
             "y0": 0.5, "dy": 1, "hoverinfo": "skip", "name": "vector", **spec.on(panel)},
            {"type": "scatter", "mode": "lines", "hoverinfo": "skip", "showlegend": False,
             "x": [v for e in edges for v in (e, e, None)],
             "y": [v for _ in edges for v in (-0.2, 1.2, None)],
             "line": {"color": "black", "width": 2}, **spec.on(panel)}]
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
        Pooled values of the shown channel view, one per level, in vector order
        (:func:`view_grids`; what they are in terms of the vector: :func:`grids_meaning`).
    vector : ndarray, shape (C * sum(n * n),)
        The real SPP vector over all ``channels`` (:func:`spp_vector`), in
        :func:`pyramidviz.spp.spatial_pyramid_pool` order: level by level, channel-major
        within a level.
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
    layout = spec.panels([1] * len(levels), y=(0.45, 1.0))
    strip = len(levels) + 1
    layout.update(spec.panels([1], y=(0.0, 0.3), first=strip, square=False))
    data = [{"type": "heatmap", "z": grid.tolist(), "coloraxis": "coloraxis", "xgap": 1,
             "ygap": 1, "texttemplate": "%{z:.2g}" if grid.shape[0] <= 4 else None,
             "hovertemplate": "(%{y}, %{x}): %{z:.4g}<extra></extra>", **spec.on(i + 1)}
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
        spec.panel_title(layout, i + 1, level_title.format(n=n, bins=n * n), y=1.01)
        for i, n in enumerate(levels)]
    return spec.figure(data + strip_data, layout, title=title, height=height,
                       margin={**style.MARGIN, "t": 80})
