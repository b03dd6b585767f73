"""Figures of the ASPP page, part 1: every branch's taps and fields on the photo, and the click
that picks the feature cell.

Builders are pure functions of plain numbers returning a ``go.Figure``; the page translates
the labels and passes them in. Pixel coordinates are edges as in
:mod:`pyramidviz.figures.base`: a cell centred on pixel ``y`` is drawn at ``y + 0.5``.
The other ASPP figures: :mod:`pyramidviz.figures.aspp_panels` (effective fields, branch
outputs) and :mod:`pyramidviz.figures.aspp_dilation` (valid weights, gridding, sliding kernel).

References
----------
.. [1] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv:1706.05587, 2017, Sec. 3.3 and Fig. 2 (atrous convolution with rate r).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from pyramidviz.atrous import tap_cells
from pyramidviz.figures import base, style
from pyramidviz.receptive import Box, FieldInfo

__all__ = ["CELL_CURVE", "MAX_CLICK_CELLS", "BranchTaps", "branch_color", "branch_taps",
           "click_step", "selection_to_cell", "taps_figure"]

CELL_CURVE = 1
"""Index of the clickable cell layer among the taps figure's traces."""

MAX_CLICK_CELLS = 5000
"""Most markers in the clickable layer; denser maps get every ``click_step``-th cell."""


def click_step(feature_size: tuple[int, int]) -> int:
    """Spacing in cells of the clickable markers, so that at most MAX_CLICK_CELLS are sent.

    A 2-megapixel upload at output stride 8 has about 31,000 cells: one marker each would
    send about half a megabyte on every click. The number inputs still reach every cell.

    Examples
    --------
    >>> click_step((19, 29)), click_step((145, 217))
    (1, 3)
    """
    h, w = feature_size
    return max(1, math.ceil(math.sqrt(h * w / MAX_CLICK_CELLS)))


def branch_color(index: int) -> str:
    """Colour of branch ``index`` (0 is the 1x1 branch, then the rates, then image pooling)."""
    return style.BRANCH_COLORS[index % len(style.BRANCH_COLORS)]


def selection_to_cell(state: Mapping | None, *, feature_size: tuple[int, int],
                      curve_number: int) -> tuple[int, int] | None:
    """The feature cell ``(row, col)`` picked by a click on the invisible cell layer.

    Parameters
    ----------
    state : mapping or None
        Streamlit's chart state ``{"selection": {"points": [...]}}`` or its ``selection``.
    feature_size : (h, w)
        Map size; the cell layer holds one marker every :func:`click_step` cells, row-major.
    curve_number : int
        Index of the cell layer among the figure's traces (other traces are ignored).

    Examples
    --------
    >>> state = {"selection": {"points": [{"curve_number": 1, "point_index": 7}]}}
    >>> selection_to_cell(state, feature_size=(3, 5), curve_number=1)
    (1, 2)
    >>> selection_to_cell({"points": []}, feature_size=(3, 5), curve_number=1) is None
    True
    """
    selection = (state or {}).get("selection", state or {})
    points = [p for p in (selection or {}).get("points") or []
              if isinstance(p, Mapping) and p.get("curve_number") == curve_number]
    if not points:
        return None
    index = points[-1].get("point_index", points[-1].get("point_number"))
    step = click_step(feature_size)
    rows, cols = (-(-side // step) for side in feature_size)  # markers per column / row
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        return None
    if not 0 <= index < rows * cols:
        return None
    row, col = divmod(int(index), cols)
    return row * step, col * step



@dataclass(frozen=True)
class BranchTaps:
    """Where the taps of one atrous branch land for one feature cell.

    Attributes
    ----------
    rate : int
    cells : ndarray of int, shape (k * k, 2)
        Feature cells ``(row, col)`` read by the taps (may lie off the map).
    pixels : ndarray of float, shape (k * k, 2)
        Their centres ``(y, x)`` in image pixels, ``FieldInfo.center``: taps are
        ``rate * jump`` pixels apart.
    inside : ndarray of bool, shape (k * k,)
        True for taps on the map (the others read zero padding).
    field : Box
        Theoretical receptive field: union of the fields of the taps on the map, clipped
        to the image (the backbone field grown by ``(k - 1) * rate * jump`` when all fit).
    """

    rate: int
    cells: np.ndarray
    pixels: np.ndarray
    inside: np.ndarray
    field: Box


def branch_taps(field: FieldInfo, feature_size: tuple[int, int], point: tuple[int, int], *,
                rate: int, kernel: int = 3, image_size: tuple[int, int]) -> BranchTaps:
    """Taps of a ``kernel x kernel`` conv at ``rate`` centred on ``point``.

    Examples
    --------
    >>> f = FieldInfo(size=(3, 3), jump=(16, 16), padding=(0, 0))
    >>> t = branch_taps(f, (4, 4), (0, 0), rate=2, image_size=(64, 64))
    >>> t.pixels[4].tolist(), t.pixels[5].tolist(), int(t.inside.sum()), t.field
    ([1.0, 1.0], [1.0, 33.0], 4, Box(top=0, left=0, bottom=35, right=35))
    """
    cells, inside = tap_cells(feature_size, point, rate=rate, kernel=kernel)
    pixels = np.column_stack(field.center(cells[:, 0], cells[:, 1])).astype(float)
    on = cells[inside]
    box = field.block_box((int(on[:, 0].min()), int(on[:, 0].max()) + 1),
                          (int(on[:, 1].min()), int(on[:, 1].max()) + 1), image_size=image_size)
    return BranchTaps(int(rate), cells, pixels, inside, box)



def _markers(pixels: np.ndarray, *, name: str, color: str, symbol: str, size: int,
             group: str, legend: bool, rank: int = 1000) -> go.Scatter:
    hollow = "open" in symbol
    return go.Scatter(
        x=pixels[:, 1] + 0.5, y=pixels[:, 0] + 0.5, mode="markers", name=name,
        legendgroup=group, showlegend=legend, legendrank=rank, hoverinfo="skip",
        marker={"color": color, "symbol": symbol, "size": size, "opacity": 0.8 if hollow else 1,
                "line": {"color": color if hollow else "white", "width": 2 if hollow else 1.5}},
        unselected={"marker": {"opacity": 0.8 if hollow else 1}})


def _cell_layer(field: FieldInfo, feature_size: tuple[int, int], hover: str) -> go.Scatter:
    """Invisible, clickable markers at the centre pixels of the cells (row-major), one every
    :func:`click_step` cells.

    Typed arrays keep it small: float32 positions, ``(row, col)`` as uint8 when they fit.
    """
    h, w = feature_size
    step = click_step(feature_size)
    rows, cols = np.meshgrid(np.arange(0, h, step), np.arange(0, w, step), indexing="ij")
    y, x = field.center(rows.ravel(), cols.ravel())
    index = np.uint8 if max(h, w) <= 256 else np.uint16
    return go.Scatter(
        x=np.asarray(x, np.float32) + 0.5, y=np.asarray(y, np.float32) + 0.5, mode="markers",
        name="cells", showlegend=False, marker={"size": 14, "opacity": 0, "color": "white"},
        customdata=np.stack([rows.ravel(), cols.ravel()], axis=1).astype(index),
        hovertemplate=hover + "<extra></extra>", unselected={"marker": {"opacity": 0}},
        selected={"marker": {"opacity": 0}})


def _view_range(size: int, reach: float) -> list[float]:
    """Axis range: the image plus ``reach`` px for off-map taps, at most a quarter image.

    It depends on the rates, not on the point, so the photo stays put while clicking.
    """
    margin = min(0.25 * size, reach + 0.04 * size) if reach > 0 else 0.02 * size
    return [-margin, size + margin]


def _branch_traces(taps: BranchTaps, index: int, name: str) -> list[go.Scatter]:
    """Field box, off-map taps (hollow) and on-map taps (filled, in the legend) of a rate."""
    color, group, box = branch_color(index), f"rate {taps.rate}", taps.field
    outline = base.boxes_trace([(box.top, box.left, box.bottom, box.right)], color=color,
                               width=2 * index + 2, name=name)
    outline.legendgroup = group
    return [outline,
            _markers(taps.pixels[~taps.inside], name=name, color=color, symbol="circle-open",
                     size=11, group=group, legend=False),
            _markers(taps.pixels[taps.inside], name=name, color=color, symbol="circle",
                     size=12, group=group, legend=True, rank=index + 1)]


def taps_figure(photo: np.ndarray, *, field: FieldInfo, feature_size: tuple[int, int],
                point: tuple[int, int], rates: Sequence[int], kernel: int = 3,
                labels: Mapping[str, str], height: int = style.FIGURE_HEIGHT) -> go.Figure:
    """The photo with every ASPP branch's taps and theoretical field for one feature cell.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
        Sent as a memoised palette PNG (:func:`pyramidviz.figures.base.photo_trace`), so a
        point move does not encode it again; at most about as many pixels long as the plot
        is tall on screen (``height - 160``, up to ``base.PHOTO_SIDE``), which keeps the
        figure near 100-150 KB.
    labels : mapping
        ``"1x1"``, ``"rate"`` (with ``{r}``, ``{on}``, ``{n}``), ``"pool"``, ``"point"``,
        ``"hover"`` (plotly hover template of the cell layer).

    Returns
    -------
    go.Figure
        Trace 0 the photo, trace :data:`CELL_CURVE` the clickable cell layer (see
        :func:`selection_to_cell`), the image-pooling box, then per rate its field box and
        taps (on the map filled, off it hollow), then the 1x1 branch's box and centre.
        Coinciding boxes (deep taps whose fields cover the photo) show as nested stripes:
        wider lines for wider branches.
    """
    H, W = image_size = photo.shape[:2]
    side = int(np.clip(height - 160, 240, base.PHOTO_SIDE))
    layers = [base.photo_trace(photo, side=side), _cell_layer(field, feature_size, labels["hover"])]
    fig = go.Figure(layers)
    n = len(rates)
    fig.add_trace(base.boxes_trace([(0, 0, H, W)], color=branch_color(n + 1), width=2 * n + 6,
                                   name=labels["pool"], showlegend=True))
    fig.data[-1].legendrank = n + 2
    for i, rate in reversed(list(enumerate(rates, start=1))):  # widest field first
        taps = branch_taps(field, feature_size, point, rate=rate, kernel=kernel,
                           image_size=image_size)
        on = int(taps.inside.sum())
        fig.add_traces(_branch_traces(taps, i, labels["rate"].format(r=rate, on=on,
                                                                     n=taps.inside.size)))
    own, centre = field.cell_box(*point, image_size=image_size), np.array([field.center(*point)])
    fig.add_trace(base.boxes_trace([(own.top, own.left, own.bottom, own.right)],
                                   color=branch_color(0), width=2, name=labels["1x1"]))
    fig.data[-1].legendgroup = "1x1"
    fig.add_trace(_markers(centre, name=labels["1x1"], color=branch_color(0), symbol="square",
                           size=13, group="1x1", legend=True, rank=1))
    fig.add_trace(_markers(centre, name=labels["point"], color=style.HIGHLIGHT, symbol="x",
                           size=9, group="point", legend=False))
    reach = [(kernel // 2) * max(rates, default=0) * j for j in field.jump]
    fig.update_xaxes(range=_view_range(W, reach[1]), visible=False)
    fig.update_yaxes(range=_view_range(H, reach[0])[::-1], visible=False, scaleanchor="x")
    base.styled(fig, height=height, legend=True)
    fig.update_layout(clickmode="event+select", hovermode="closest", dragmode="pan",
                      hoverdistance=30)
    return fig
