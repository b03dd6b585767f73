"""Any size in, same length out: the SPP page's photo sizes, crop/warp and sizes figure.

A photo at several scales gives feature maps of several sizes (``ceil(H / S) x ceil(W / S)``,
:func:`pyramidviz.compare.feature_size`), yet SPP's vector keeps ``C * sum(n * n)`` values;
a fixed fully connected layer would instead need every photo cropped or warped to 224 x 224.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Fig. 1 (crop/warp vs SPP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from pyramidviz.compare import feature_size
from pyramidviz.figures import base, style
from pyramidviz.figures import spp_spec as spec
from pyramidviz.spp import bin_edges, vector_length

__all__ = ["SizeRow", "crop_and_warp", "fixed_input_figure", "resize_photo", "scaled_size",
           "size_table", "sizes_figure"]


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


def resize_photo(photo: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """``photo`` resized (bilinear, aspect not kept) to ``(h, w)``.

    Examples
    --------
    >>> resize_photo(np.zeros((300, 451, 3), np.uint8), (150, 226)).shape
    (150, 226, 3)
    """
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


@dataclass(frozen=True)
class SizeRow:
    """One input of the sizes table.

    Attributes
    ----------
    kind : {"scaled", "crop", "warp"}
    scale : str or None
        The scale as offered (e.g. ``"0.75"``) for ``"scaled"`` rows.
    photo_hw, map_hw : (int, int)
        Photo size in pixels and feature-map size in cells.
    flat : int
        ``C * h * w``: what flattening the map would give.
    spp : int or None
        SPP vector length ``C * sum(n * n)``; None for crop/warp (a fixed input needs none).
    """

    kind: str
    scale: str | None
    photo_hw: tuple[int, int]
    map_hw: tuple[int, int]
    flat: int
    spp: int | None


def size_table(size_hw: tuple[int, int], scales: Sequence[str], *, fixed: int, channels: int,
               stride: int, levels: Sequence[int]) -> list[SizeRow]:
    """One row per scale of the photo, then the ``fixed`` x ``fixed`` crop and warp.

    Examples
    --------
    >>> rows = size_table((300, 451), ["0.5", "1"], fixed=224, channels=320, stride=32,
    ...                   levels=(4, 2, 1))
    >>> [(r.kind, r.map_hw, r.flat, r.spp) for r in rows]  # doctest: +NORMALIZE_WHITESPACE
    [('scaled', (5, 8), 12800, 6720), ('scaled', (10, 15), 48000, 6720),
     ('crop', (7, 7), 15680, None), ('warp', (7, 7), 15680, None)]
    """
    length = vector_length(channels, levels)
    rows = []
    for scale in scales:
        photo_hw = scaled_size(size_hw, float(scale))
        map_hw = feature_size(photo_hw, stride)
        rows.append(SizeRow("scaled", scale, photo_hw, map_hw,
                            channels * map_hw[0] * map_hw[1], length))
    map_hw = feature_size((fixed, fixed), stride)
    return rows + [SizeRow(kind, None, (fixed, fixed), map_hw, channels * map_hw[0] * map_hw[1],
                           None) for kind in ("crop", "warp")]


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
        traces.append(spec.traced(grid, panel))
    if bins:
        boxes = [(min(r0 * stride, h), min(c0 * stride, w), min(r1 * stride, h),
                  min(c1 * stride, w)) for r0, r1 in bin_edges(fh, bins)
                 for c0, c1 in bin_edges(fw, bins)]
        traces.append(spec.boxes(boxes, color=style.LEVEL_COLORS[0], width=2.5, panel=panel))
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
    layout = spec.panels(widths, gap=0.02)
    data = []
    for i, (photo, level) in enumerate(zip(photos, bins, strict=True)):
        h, w = photo.shape[:2]
        suffix = str(i + 1) if i else ""
        layout[f"xaxis{suffix}"]["range"] = [0, w]
        layout[f"yaxis{suffix}"]["range"] = [tallest, 0]
        data += [spec.photo(photo, panel=i + 1), *_cell_grid((h, w), stride, level, i + 1)]
    layout["annotations"] = [spec.panel_title(layout, i + 1, text, y=1.0)
                             for i, text in enumerate(titles)]
    height = round(width_px * 0.95 * tallest / sum(widths)) + 60
    return spec.figure(data, layout, title=None, height=height)


def fixed_input_figure(photo: np.ndarray, titles: Sequence[str], *, size: int = 224,
                       stride: int = 32, level: int = 4, width_px: int = 880) -> go.Figure:
    """The problem SPP solves, in one picture: crop, warp, and SPP's bins on the whole photo.

    Panels, left to right: ``photo`` centre-cropped to ``size x size``, warped to
    ``size x size`` (both as :func:`crop_and_warp` makes them, with their feature-cell
    grid), and the whole photo with its cell grid and one SPP level's ``level x level`` bins
    (He et al. 2015, Fig. 1).

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
    titles : sequence of 3 str
        Crop, warp and SPP panel titles.
    size : int
        Side of the fixed input.
    stride : int
        Total stride of the feature map the bins are drawn for.
    level : int
        The SPP level whose bins are outlined on the whole photo.
    width_px : int
        Expected display width (sets the height).

    Examples
    --------
    >>> fig = fixed_input_figure(np.zeros((300, 451, 3), np.uint8), ["a", "b", "c"])
    >>> [fig.layout[f"xaxis{s}"].range[1] for s in ("", "2", "3")]
    [224, 224, 451]
    """
    if len(titles) != 3:
        raise ValueError(f"fixed_input_figure needs 3 titles, got {len(titles)}")
    crop, warp = crop_and_warp(photo, size)
    return sizes_figure([crop, warp, photo], titles, stride=stride, bins=[None, None, level],
                        width_px=width_px)
