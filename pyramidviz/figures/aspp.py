"""Figures of the ASPP page: dilated taps on the photo, effective fields, branch outputs,
valid weights versus rate (DeepLab v3 Fig. 4), gridding, and a sliding dilated kernel.

Every builder is a pure function of plain numbers returning a ``go.Figure``; the page
translates the labels and passes them in. Pixel coordinates are edges as in
:mod:`pyramidviz.figures.base`: a cell centred on pixel ``y`` is drawn at ``y + 0.5``.

References
----------
.. [1] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv:1706.05587, 2017, Sec. 3.3 and Fig. 4.
.. [2] P. Wang et al., "Understanding Convolution for Semantic Segmentation", WACV 2018, Fig. 2.
.. [3] V. Dumoulin, F. Visin, "A guide to convolution arithmetic for deep learning",
   arXiv:1603.07285, 2016, relationship 15 (dilated convolution output size).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image

from pyramidviz import aspp
from pyramidviz.figures import base, style
from pyramidviz.receptive import Box, FieldInfo

__all__ = [
    "BranchTaps", "ValidWeights", "branch_taps", "centre_only_rates", "conv_output_size",
    "erf_figure", "gridding_figure", "parse_rates", "photo_trace", "previews_figure",
    "selection_to_cell", "shape_rows", "sliding_kernel_figure", "taps_figure",
    "valid_weights_figure", "valid_weights_table",
]

MAX_RATES = 6
MAX_RATE = 128
PANEL_SIDE = 192  # longest side of one small heatmap panel sent to the browser
OFF_MAP = "rgba(120, 120, 120, 0.9)"
_SPLIT = re.compile(r"[\s,;]+")
_DIGITS = re.compile(r"[0-9]{1,6}")


def parse_rates(text: str, *, distinct: bool = True, max_count: int = MAX_RATES,
                max_rate: int = MAX_RATE) -> tuple[int, ...]:
    """Rates typed as text, e.g. ``"6, 12, 18"`` (commas, spaces or semicolons).

    Raises
    ------
    ValueError
        For an empty text, a non-integer, a rate outside ``1..max_rate``, more than
        ``max_count`` rates, or (with ``distinct``) a repeated rate.

    Examples
    --------
    >>> parse_rates(" 6,12 ;18 ")
    (6, 12, 18)
    >>> parse_rates("2 2 2", distinct=False)
    (2, 2, 2)
    """
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    if not parts or not all(_DIGITS.fullmatch(p) for p in parts):
        raise ValueError(f"rates must be whole numbers separated by commas, got {text!r}")
    rates = tuple(int(p) for p in parts)
    if len(rates) > max_count or not all(1 <= r <= max_rate for r in rates):
        raise ValueError(f"at most {max_count} rates in 1..{max_rate}, got {text!r}")
    if distinct and len(set(rates)) != len(rates):
        raise ValueError(f"rates must be distinct, got {text!r}")
    return rates


def photo_trace(rgb: np.ndarray, *, quality: int = 85) -> go.Image:
    """The photo as a JPEG-encoded image trace over ``[0, W) x [0, H)`` pixel coordinates.

    A photo under the taps is redrawn on every point move: JPEG keeps it near 50 KB where
    PNG takes 300-600 KB (:func:`pyramidviz.figures.base.image_trace` is used for maps).

    Examples
    --------
    >>> photo_trace(np.zeros((4, 6, 3), np.uint8)).source[:23]
    'data:image/jpeg;base64,'
    """
    h, w = rgb.shape[:2]
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).convert("RGB")
    if max(h, w) > base.MAX_IMAGE_SIDE:
        shrink = base.MAX_IMAGE_SIDE / max(h, w)
        image = image.resize((max(1, round(w * shrink)), max(1, round(h * shrink))),
                             Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    uri = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    dx, dy = w / image.width, h / image.height
    return go.Image(source=uri, x0=dx / 2, y0=dy / 2, dx=dx, dy=dy, name="photo",
                    hoverinfo="skip")


def selection_to_cell(state: Mapping | None, *, feature_size: tuple[int, int],
                      curve_number: int) -> tuple[int, int] | None:
    """The feature cell ``(row, col)`` picked by a click on the invisible cell layer.

    Parameters
    ----------
    state : mapping or None
        Streamlit's chart state ``{"selection": {"points": [...]}}`` or its ``selection``.
    feature_size : (h, w)
        Map size; the cell layer holds one marker per cell, row-major.
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
    h, w = feature_size
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        return None
    if not 0 <= index < h * w:
        return None
    row, col = divmod(int(index), w)
    return row, col


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
    (h, w), (row, col) = feature_size, point
    if not (0 <= row < h and 0 <= col < w):
        raise ValueError(f"point must be a cell of the {feature_size!r} map, got {point!r}")
    cells = aspp.tap_offsets(kernel, rate) + np.array([row, col])
    pixels = np.array([field.center(int(r), int(c)) for r, c in cells], dtype=float)
    inside = (cells[:, 0] >= 0) & (cells[:, 0] < h) & (cells[:, 1] >= 0) & (cells[:, 1] < w)
    on = cells[inside]
    box = field.block_box((int(on[:, 0].min()), int(on[:, 0].max()) + 1),
                          (int(on[:, 1].min()), int(on[:, 1].max()) + 1), image_size=image_size)
    return BranchTaps(int(rate), cells, pixels, inside, box)


def centre_only_rates(feature_size: tuple[int, int], point: tuple[int, int],
                      rates: Sequence[int], *, kernel: int = 3) -> tuple[int, ...]:
    """Rates whose kernel, centred on ``point``, keeps only its centre tap on the map.

    Such a branch reads exactly what the 1x1 branch reads (DeepLab v3, Sec. 3.3: the
    3x3 filter degenerates to 1x1), so its effective field need not be computed again.

    Examples
    --------
    >>> centre_only_rates((19, 29), (9, 14), (6, 12, 18))
    (18,)
    """
    (h, w), (row, col) = feature_size, point
    same = []
    for rate in rates:
        cells = aspp.tap_offsets(kernel, rate) + np.array([row, col])
        inside = (cells[:, 0] >= 0) & (cells[:, 0] < h) & (cells[:, 1] >= 0) & (cells[:, 1] < w)
        if int(inside.sum()) == 1:
            same.append(int(rate))
    return tuple(same)


def _color(index: int) -> str:
    return style.BRANCH_COLORS[index % len(style.BRANCH_COLORS)]


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
    """One invisible, clickable marker per feature cell at its centre pixel (row-major)."""
    h, w = feature_size
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    y, x = field.center(rows.ravel(), cols.ravel())
    return go.Scatter(
        x=np.asarray(x, np.float32) + 0.5, y=np.asarray(y, np.float32) + 0.5, mode="markers",
        name="cells", showlegend=False, marker={"size": 14, "opacity": 0, "color": "white"},
        customdata=np.stack([rows.ravel(), cols.ravel()], axis=1).astype(np.int16),
        hovertemplate=hover + "<extra></extra>", unselected={"marker": {"opacity": 0}},
        selected={"marker": {"opacity": 0}})


def _view_range(size: int, reach: float) -> list[float]:
    """Axis range: the image plus ``reach`` px for off-map taps, at most a quarter image.

    It depends on the rates, not on the point, so the photo stays put while clicking.
    """
    margin = min(0.25 * size, reach + 0.04 * size) if reach > 0 else 0.02 * size
    return [-margin, size + margin]


def taps_figure(background: Mapping, *, image_size: tuple[int, int], field: FieldInfo,
                feature_size: tuple[int, int], point: tuple[int, int], rates: Sequence[int],
                kernel: int = 3, labels: Mapping[str, str],
                height: int = style.FIGURE_HEIGHT) -> go.Figure:
    """The photo with every ASPP branch's taps and theoretical field for one feature cell.

    Parameters
    ----------
    background : mapping
        A ``go.Image`` trace as a dict (``photo_trace(photo).to_plotly_json()``),
        built once per photo by the caller so a point move does not re-encode the PNG.
    labels : mapping
        ``"1x1"``, ``"rate"`` (with ``{r}``, ``{on}``, ``{n}``), ``"pool"``, ``"point"``,
        ``"hover"`` (plotly hover template of the cell layer).

    Returns
    -------
    go.Figure
        Trace 0 the photo, trace 1 the clickable cell layer (see :func:`selection_to_cell`),
        the image-pooling box, then per rate its field box and taps (on the map filled, off
        it hollow), then the 1x1 branch's box and centre. Coinciding boxes (deep taps whose
        fields cover the photo) show as nested stripes: wider lines for wider branches.
    """
    H, W = image_size
    fig = go.Figure([go.Image(background), _cell_layer(field, feature_size, labels["hover"])])
    all_taps = [branch_taps(field, feature_size, point, rate=r, kernel=kernel,
                            image_size=image_size) for r in rates]
    n = len(rates)
    fig.add_trace(base.boxes_trace([(0, 0, H, W)], color=_color(n + 1), width=2 * n + 6,
                                   name=labels["pool"], showlegend=True))
    fig.data[-1].legendrank = n + 2
    own = field.cell_box(*point, image_size=image_size)
    for i, taps in reversed(list(enumerate(all_taps, start=1))):  # widest field first
        name = labels["rate"].format(r=taps.rate, on=int(taps.inside.sum()), n=taps.inside.size)
        group = f"rate {taps.rate}"
        box = (taps.field.top, taps.field.left, taps.field.bottom, taps.field.right)
        fig.add_trace(base.boxes_trace([box], color=_color(i), width=2 * i + 2, name=name))
        fig.data[-1].legendgroup = group
        fig.add_trace(_markers(taps.pixels[~taps.inside], name=name, color=_color(i),
                               symbol="circle-open", size=11, group=group, legend=False))
        fig.add_trace(_markers(taps.pixels[taps.inside], name=name, color=_color(i),
                               symbol="circle", size=12, group=group, legend=True, rank=i + 1))
    centre = np.array([field.center(*point)])
    fig.add_trace(base.boxes_trace([(own.top, own.left, own.bottom, own.right)],
                                   color=_color(0), width=2, name=labels["1x1"]))
    fig.data[-1].legendgroup = "1x1"
    fig.add_trace(_markers(centre, name=labels["1x1"], color=_color(0), symbol="square",
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


def _circle(center: tuple[float, float], radius: float, n: int = 48) -> tuple[list, list]:
    angles = np.linspace(0, 2 * np.pi, n)
    return ((center[1] + 0.5 + radius * np.cos(angles)).tolist(),
            (center[0] + 0.5 + radius * np.sin(angles)).tolist())


def _panel(values: np.ndarray, extent: tuple[int, int], **colorize_kw) -> go.Image:
    """A small PNG heatmap panel covering ``extent = (width, height)`` data units."""
    rgb = base.colorize(values, **colorize_kw)
    h, w = rgb.shape[:2]
    shrink = PANEL_SIDE / max(h, w)
    if shrink < 1:
        size = (max(1, round(w * shrink)), max(1, round(h * shrink)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR))
    elif max(h, w) < PANEL_SIDE // 2:
        rgb = base.upscale_nearest(rgb, PANEL_SIDE // max(h, w))
    return base.image_trace(rgb, extent=extent)


def _panel_figure(panels: Sequence[tuple[str, str, float, float, list]], *, width_px: int,
                  title: str | None, spacing: float = 0.02) -> go.Figure:
    """A one-row grid of image panels built in one go (``make_subplots`` is slow here).

    Each panel is ``(title, x label, width, height, traces)`` in its own data units; the
    figure's height fits panels of ``width_px`` total width on screen.
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
        notes.append({"text": head, "x": left + share / 2, "y": 1, "xref": "paper",
                      "yref": "paper", "yanchor": "bottom", "showarrow": False,
                      "font": {"size": style.FONT_SIZE + 1}})
        data += [trace.update(xaxis=f"x{suffix}", yaxis=f"y{suffix}") for trace in traces]
    aspect = max(h / w for _, _, w, h, _ in panels)
    margin = {"l": 10, "r": 10, "t": 62 if title else 30, "b": 34}
    fig = base.styled(go.Figure(data=data, layout={**layout, "annotations": notes}),
                      title=title)
    return fig.update_layout(height=int(width_px * share * aspect) + margin["t"] + margin["b"],
                             margin=margin)


def _circle_trace(center: tuple[float, float], radius: float, dash: str) -> go.Scatter:
    x, y = _circle(center, radius)
    return go.Scatter(x=x, y=y, mode="lines", hoverinfo="skip", showlegend=False,
                      line={"color": "white", "width": 1.5, "dash": dash})


def erf_figure(branches: Sequence[tuple[str, object]], *, image_size: tuple[int, int],
               radius_label: str, width_px: int = 900, title: str | None = None) -> go.Figure:
    """Effective receptive fields side by side, each with its theoretical box and radii.

    Parameters
    ----------
    branches : sequence of (title, ERFMap)
        ``erf.ERFMap`` values (``map``, ``center``, ``r50``, ``r90``, ``theoretical``). The
        map is shown on a square-root colour scale so its faint tails stay visible.
    radius_label : str
        Text under each panel with ``{r50}`` and ``{r90}`` placeholders.
    width_px : int
        Expected width on screen, to size the figure's height to the panels.
    """
    H, W = image_size
    panels = []
    for name, erf in branches:
        box = erf.theoretical
        traces = [_panel(np.sqrt(np.clip(erf.map, 0.0, 1.0)), (W, H), vmin=0.0, vmax=1.0),
                  base.boxes_trace([(box.top, box.left, box.bottom, box.right)],
                                   color=style.FIELD_BOX, width=2)]
        traces += [_circle_trace(erf.center, radius, dash)
                   for radius, dash in ((erf.r50, "solid"), (erf.r90, "dash"))
                   if np.isfinite(radius)]
        label = radius_label.format(r50=erf.r50, r90=erf.r90)
        panels.append((name, label, W, H, traces))
    return _panel_figure(panels, width_px=width_px, title=title)


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
    panels = [(titles[n], f"{h} × {w}", w, h, [_panel(values, (w, h), vmin=lo, vmax=hi)])
              for n, values in zip(names, stack, strict=True)]
    return _panel_figure(panels, width_px=width_px, title=title)


def shape_rows(channels: int, feature_size: tuple[int, int], rates: Sequence[int], *,
               out_channels: int = 256) -> list[tuple[str, str]]:
    """``(step, shape)`` through ASPP: input, each branch, concatenation, projection.

    Examples
    --------
    >>> shape_rows(320, (19, 29), (6,))[-2:]
    [('concat', '768 × 19 × 29'), ('project', '256 × 19 × 29')]
    """
    (h, w), o = feature_size, out_channels
    rows = [("input", f"{channels} × {h} × {w}"), ("1x1", f"{o} × {h} × {w}")]
    rows += [(f"rate {r}", f"{o} × {h} × {w}") for r in rates]
    rows += [("image pool", f"{o} × {h} × {w}"),
             ("concat", f"{(len(rates) + 2) * o} × {h} × {w}"), ("project", f"{o} × {h} × {w}")]
    return rows


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
        ``rates[i]`` (:func:`pyramidviz.aspp.valid_weight_counts`); rows sum to 1.
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
    rows = [aspp.valid_weight_counts((h, w), int(r), kernel) for r in rates]
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
            fig.add_vline(x=rate, line={"color": _color(i + 1), "width": 2, "dash": "dash"},
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
                       (_color(0), style.HOLE, style.HIGHLIGHT))
    rgb = np.where(reach[..., None], np.array(on), np.array(off)).astype(np.uint8)
    c = reach.shape[0] // 2
    rgb[c, c] = centre
    return rgb


def gridding_figure(stacks: Sequence[tuple[str, aspp.Coverage]], *,
                    width_px: int = 660) -> go.Figure:
    """Coverage of stacked dilated convs side by side: blue reached, grey holes.

    Parameters
    ----------
    stacks : sequence of (title, Coverage)
        From :func:`pyramidviz.aspp.stack_coverage`; the centre output is marked red.
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
    return _panel_figure(panels, width_px=width_px, title=None, spacing=0.05)


def conv_output_size(size: int, kernel: int, *, padding: int = 0, stride: int = 1,
                     dilation: int = 1) -> int:
    """Output length ``floor((i + 2p - d(k - 1) - 1) / s) + 1`` of a convolution.

    May be zero or negative when the dilated kernel does not fit the padded input.

    Examples
    --------
    >>> conv_output_size(9, 3, padding=1, stride=1, dilation=2)
    7

    References
    ----------
    Dumoulin & Visin (2016), relationship 15; ``torch.nn.Conv2d`` documentation.
    """
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


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
        {"mode": "markers", "marker": {**marker, "color": _color(1)}},
        {"mode": "markers", "marker": {**marker, "color": OFF_MAP, "symbol": "square-open"}},
        {"mode": "lines", "line": {"color": _color(1), "width": 2, "dash": "dash"}},
        {"mode": "lines", "line": {"color": _color(0), "width": 1}, "fill": "toself",
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
