"""Channel views of a feature map and their SPP numbers (the SPP page's bins view draws them).

The grids show the pooling of the map on screen (one channel, or the mean/max over channels);
the vector is always the real SPP vector, every channel pooled separately, in
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
import torch

from pyramidviz.spp import spatial_pyramid_pool

__all__ = ["CHANNEL_VIEWS", "MAX_STRIP", "channel_map", "grids_meaning",
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
    x = torch.from_numpy(np.array(features, dtype=np.float32))[None]  # a copy: inputs are shared
    return spatial_pyramid_pool(x, levels, mode=mode).vector[0].numpy()


def view_grids(values: np.ndarray, levels: Sequence[int], mode: str) -> list[np.ndarray]:
    """Pooled ``n x n`` grids of the shown ``(h, w)`` map, one per level.

    Examples
    --------
    >>> [g.tolist() for g in view_grids(np.arange(16.0).reshape(4, 4), (2, 1), "max")]
    [[[5.0, 7.0], [13.0, 15.0]], [[15.0]]]
    """
    x = torch.from_numpy(np.array(values, dtype=np.float32))[None, None]
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
