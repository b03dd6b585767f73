"""Any size in, same length out: photos side by side with their feature cells and bins.

A photo at several scales gives feature maps of several sizes (``ceil(H / S) x ceil(W / S)``,
:func:`pyramidviz.sizes.backbone_map_hw`), yet SPP's vector keeps ``C * sum(n * n)`` values;
a fixed fully connected layer would instead need every photo cropped or warped to 224 x 224.
The sizes, cell lines and bin boxes come from :mod:`pyramidviz.sizes`; the crop and warp
from :func:`pyramidviz.images.crop_and_warp`. This module only draws.

References
----------
.. [1] K. He, X. Zhang, S. Ren, J. Sun, "Spatial Pyramid Pooling in Deep Convolutional
   Networks for Visual Recognition", TPAMI 2015 (arXiv:1406.4729), Fig. 1 (crop/warp vs SPP).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from pyramidviz import style
from pyramidviz.figures import base
from pyramidviz.figures import spp_spec as spec
from pyramidviz.sizes import bin_pixel_boxes, cell_lines

__all__ = ["fixed_input_figure", "sizes_figure"]


# ---------------------------------------------------------------- figure "sizes"


def _cell_grid(photo_hw: tuple[int, int], stride: int, bins: int | None,
               panel: int) -> list[dict]:
    """Feature-cell lines (every ``stride`` px) and one level's bin boxes over a photo."""
    traces = []
    if stride >= 8:
        xs, ys = cell_lines(photo_hw, stride)
        grid = base.grid_trace(xs, ys, color="rgba(255,255,255,0.55)", width=0.8)
        traces.append(spec.traced(grid, panel))
    if bins:
        traces.append(spec.boxes(bin_pixel_boxes(photo_hw, stride, bins),
                                 color=style.LEVEL_COLORS[0], width=2.5, panel=panel))
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


def fixed_input_figure(photo: np.ndarray, crop: np.ndarray, warp: np.ndarray,
                       titles: Sequence[str], *, stride: int = 32, level: int = 4,
                       width_px: int = 880) -> go.Figure:
    """The problem SPP solves, in one picture: crop, warp, and SPP's bins on the whole photo.

    Panels, left to right: the photo's centre crop and its warp to a fixed square (as
    :func:`pyramidviz.images.crop_and_warp` makes them, with their feature-cell grid), and
    the whole photo with its cell grid and one SPP level's ``level x level`` bins
    (He et al. 2015, Fig. 1).

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
    crop, warp : ndarray, shape (S, S, 3), uint8
        The fixed inputs made from ``photo``.
    titles : sequence of 3 str
        Crop, warp and SPP panel titles.
    stride : int
        Total stride of the feature map the bins are drawn for.
    level : int
        The SPP level whose bins are outlined on the whole photo.
    width_px : int
        Expected display width (sets the height).

    Examples
    --------
    >>> square = np.zeros((224, 224, 3), np.uint8)
    >>> fig = fixed_input_figure(np.zeros((300, 451, 3), np.uint8), square, square, "abc")
    >>> [fig.layout[f"xaxis{s}"].range[1] for s in ("", "2", "3")]
    [224, 224, 451]
    """
    if len(titles) != 3:
        raise ValueError(f"fixed_input_figure needs 3 titles, got {len(titles)}")
    return sizes_figure([crop, warp, photo], titles, stride=stride, bins=[None, None, level],
                        width_px=width_px)
