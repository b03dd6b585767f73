"""Payloads: the JSON the browser views draw, computed once on the server.

"Payload" is the JSON; "view" is the browser component that draws it
(``pyramidviz/web/<view>.js``). Each builder is a pure function from numbers pyramidviz
computed (feature maps, pooled values, receptive fields) to one compact, JSON-serialisable
dict with a versioned ``"schema"`` (documented in the builder's docstring): numbers, small
per-axis lookup tables, and maps and photos encoded as small images (data URIs), never
figures.

**The browser looks numbers up; it never computes geometry.** Every position, span, count
and spacing a view draws or prints is a table entry built here from the core
(:class:`~pyramidviz.receptive.FieldInfo`, :mod:`pyramidviz.atrous`, :mod:`pyramidviz.spp`):
cell centres and field spans per row and column, tap positions and on-map flags per branch
and cell index, valid counts, spacings, bin edges and boxes. A view indexes these tables
(and finds the cell nearest a pointer by a binary search over the ``bounds`` table); the
unit tests check the tables against the core, the browser tests that the drawing matches
the table. Square kernels make taps separable, so a cell ``(row, col)`` reads the row table
at ``row`` and the column table at ``col``.

Coordinates: photo pixels ``(y, x)``, origin at the photo's top-left corner, half-open boxes
``[top, left, bottom, right]``; cells and bins are 0-based indices (a view shows them to
people counting from 1).

Every payload carries :func:`style` (colours, sizes, breakpoints, timings): the views type
no colour or breakpoint of their own. Labels are not part of a payload: the app adds its
EN/KO strings beside it (``ui.mount_<view>``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from pyramidviz import bins
from pyramidviz import style as house
from pyramidviz.atrous import (
    effective_kernel_size,
    sliding_taps,
    stack_coverage,
    tap_offsets,
)
from pyramidviz.bins import bin_edges
from pyramidviz.receptive import Box, FieldInfo
from pyramidviz.sizes import conv_output_size

__all__ = ["PHOTO_SIDE", "SCHEMAS", "field_picture", "gridding_payload", "jpeg_uri", "png_uri",
           "sequential_rgb",
           "kernel_payload", "nearest_index", "payload_bytes", "photo_payload",
           "spp_geometry_payload", "spp_payload", "style", "taps_at", "taps_payload"]

PHOTO_SIDE = house.VIEW_PHOTO_SIDE
"""Longest side of the photo a view shows (a JPEG of ~30-80 KB)."""

SCHEMAS = {"spp_bins": "pv.spp/2", "taps": "pv.taps/2", "kernel": "pv.kernel/2",
           "gridding": "pv.gridding/2"}
"""The payload schema each view reads (its ``"schema"`` field); a view refuses another."""

_SEQUENTIAL = np.array(house.SEQUENTIAL_STOPS, np.float64)


def jpeg_uri(image: Image.Image, quality: int = 82) -> str:
    """``image`` as a JPEG data URI (what a payload carries instead of a figure)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def png_uri(rgb: np.ndarray) -> str:
    """An ``(h, w, 3)`` uint8 array as a lossless PNG data URI."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).save(buffer, format="PNG",
                                                              optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def sequential_rgb(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """``(..., 3)`` uint8 Viridis colours of ``values`` scaled to ``[vmin, vmax]``."""
    span = vmax - vmin if vmax > vmin else 1.0
    t = np.clip((np.asarray(values, np.float64) - vmin) / span, 0.0, 1.0)
    t = np.nan_to_num(t, nan=0.0) * (len(_SEQUENTIAL) - 1)
    lo = np.floor(t).astype(int).clip(0, len(_SEQUENTIAL) - 2)
    frac = (t - lo)[..., None]
    rgb = _SEQUENTIAL[lo] * (1 - frac) + _SEQUENTIAL[lo + 1] * frac
    return np.round(rgb).astype(np.uint8)


def photo_payload(photo: np.ndarray, *, side: int = PHOTO_SIDE) -> dict:
    """The photo as a JPEG data URI at most ``side`` px long, drawn over its own pixels.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
    side : int

    Returns
    -------
    dict
        ``{"src": data URI, "H": H, "W": W}``: the view stretches the image over
        ``[0, W) x [0, H)`` so that every coordinate in a payload is a photo pixel.

    Examples
    --------
    >>> p = photo_payload(np.zeros((300, 451, 3), np.uint8))
    >>> p["H"], p["W"], p["src"][:23]
    (300, 451, 'data:image/jpeg;base64,')
    """
    photo = np.ascontiguousarray(photo, np.uint8)
    height, width = photo.shape[:2]
    image = Image.fromarray(photo).convert("RGB")
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return {"src": jpeg_uri(image), "H": int(height), "W": int(width)}


def style() -> dict:
    """The one style block every view draws with: :func:`pyramidviz.style.for_views`.

    Examples
    --------
    >>> style()["breakpoints"]["phone"]
    620
    """
    return house.for_views()


def _field(field: FieldInfo) -> dict:
    return {"size": list(field.size), "stride": list(field.stride), "padding": list(field.padding),
            "global": bool(field.global_)}


def _box(box: Box) -> list[int]:
    return [box.top, box.left, box.bottom, box.right]


def _map_image(values: np.ndarray) -> dict:
    """One channel view: a PNG of one pixel per cell, and its colour range."""
    finite = values[np.isfinite(values)]
    vmin = float(finite.min()) if finite.size else 0.0
    vmax = float(finite.max()) if finite.size else 1.0
    return {"png": png_uri(sequential_rgb(values, vmin, vmax)), "vmin": vmin, "vmax": vmax}


def _pooled(values: np.ndarray, levels: Sequence[int], mode: str) -> dict[str, list[list]]:
    """``[value, winner_row, winner_col]`` per bin of each level, row-major (winner ``None``
    for avg), from :func:`pyramidviz.spp.spatial_pyramid_pool` (torch's adaptive pooling)."""
    import torch

    from pyramidviz.spp import spatial_pyramid_pool

    x = torch.from_numpy(np.array(values, np.float32))[None, None]  # a copy: inputs are shared
    result = spatial_pyramid_pool(x, levels, mode=mode)
    out = {}
    for i, n in enumerate(result.levels):
        pooled = result.pooled[i][0, 0].reshape(-1).tolist()
        if result.argmax is None:
            out[str(n)] = [[v, None, None] for v in pooled]
        else:
            cells = result.argmax[i][0, 0].reshape(-1, 2).tolist()
            out[str(n)] = [[v, r, c] for v, (r, c) in zip(pooled, cells, strict=True)]
    return out


def _hex(rgb: np.ndarray) -> list[str]:
    return ["#{:02x}{:02x}{:02x}".format(*(int(v) for v in c))
            for c in np.asarray(rgb).reshape(-1, 3)]


def _bin_tables(feature_size: tuple[int, int], levels, field: FieldInfo,
                image_hw: tuple[int, int]) -> dict:
    """Per level: bin edges, each bin's (row, col) in the level's grid and [stride box, field
    box] on the photo, the bin of every map row and column, and the bin index table."""
    (h, w), out = feature_size, {"edges": {}, "boxes": {}, "grid": {}, "cell_bin": {},
                                 "index": {}}
    for n in levels:
        rows, cols = bin_edges(h, n), bin_edges(w, n)
        key = str(n)
        out["edges"][key] = {"rows": [list(r) for r in rows], "cols": [list(c) for c in cols]}
        out["boxes"][key] = [[_box(field.stride_box(r, c, image_size=image_hw)),
                              _box(field.block_box(r, c, image_size=image_hw))]
                             for r in rows for c in cols]
        out["grid"][key] = [[i, j] for i in range(n) for j in range(n)]
        out["index"][key] = [[i * n + j for j in range(n)] for i in range(n)]
        out["cell_bin"][key] = {"rows": [bins.bin_of(u, h, n) for u in range(h)],
                                "cols": [bins.bin_of(u, w, n) for u in range(w)]}
    return out


def _vector(vector: np.ndarray, levels, channels: int, vmin: float, vmax: float) -> dict:
    """The SPP vector strip: a PNG, its length, each level's offset and, per level, where
    channel ``c``'s entries start (entry ``(c, bin)`` is ``first[level][c] + bin``)."""
    offsets = np.concatenate([[0], np.cumsum([channels * n * n for n in levels])[:-1]])
    return {"png": png_uri(sequential_rgb(vector[None, :], vmin, vmax)), "length": int(vector.size),
            "offsets": [int(o) for o in offsets],
            "first": {str(n): [int(o + c * n * n) for c in range(channels)]
                      for n, o in zip(levels, offsets, strict=True)}}


def _fills(bins: dict[str, list[list]], vmin: float, vmax: float) -> dict[str, list[str]]:
    """The pyramid's colour of each bin's value, per level (the maps' sequential scale)."""
    return {n: _hex(sequential_rgb(np.array([v[0] for v in values], np.float64), vmin, vmax))
            for n, values in bins.items()}


def _spp_common(photo, photo_info, h, w, field, levels, mode, channels) -> dict:
    return {"schema": SCHEMAS["spp_bins"], "style": style(),
            "photo": photo_info or photo_payload(photo), "map": [int(h), int(w)],
            "field": _field(field), "levels": [int(n) for n in levels], "mode": mode,
            "channels": int(channels),
            **_bin_tables((h, w), levels, field, tuple(photo.shape[:2]))}


def spp_payload(views: Mapping[str, np.ndarray], photo: np.ndarray, vector: np.ndarray, *,
                levels: Sequence[int], mode: str, channels: int, field: FieldInfo,
                photo_info: dict | None = None) -> dict:
    """Everything the SPP bins view draws, for every level and channel view it can switch to.

    Parameters
    ----------
    views : mapping of str to ndarray, each shape (h, w)
        The channel views the view can switch among locally, first one shown first (e.g.
        ``{"max": ..., "mean": ..., "17": features[17], ...}``).
    photo : ndarray, shape (H, W, 3), uint8
    vector : ndarray, shape (channels * sum(n * n),)
        The real SPP vector (every channel pooled separately).
    levels : sequence of int
    mode : {"max", "avg"}
    channels : int
        ``C`` of the feature map.
    field : FieldInfo
        Receptive field of the map's cells in photo pixels.
    photo_info : dict, optional
        A :func:`photo_payload` already made (it is the same for every setting).

    Returns
    -------
    dict
        Schema ``"pv.spp/2"``. Bins are numbered row-major from 0 within a level; every
        table below is keyed by the level as a string (``"4"``):

        - ``schema``, ``style`` (:func:`style`), ``photo`` (:func:`photo_payload`),
          ``map`` ``[h, w]`` in cells, ``field`` (the cells' receptive field: ``size``,
          ``stride``, ``padding`` in photo pixels, ``global``), ``levels``, ``mode``,
          ``channels``;
        - ``edges[n]``: ``rows`` and ``cols``, the half-open cell ranges of the bins
          (:func:`pyramidviz.spp.bin_edges`);
        - ``grid[n][bin]``: ``[i, j]``, the bin's row and column in the ``n x n`` grid;
          ``index[n][i][j]``: the bin number (the inverse table);
        - ``cell_bin[n]``: ``rows[u]`` / ``cols[v]``, the first bin row / column holding map
          row ``u`` / column ``v`` (:func:`pyramidviz.bins.bin_of`);
        - ``boxes[n][bin]``: ``[stride box, field box]`` on the photo, clipped
          (:meth:`FieldInfo.stride_box`, :meth:`FieldInfo.block_box`);
        - ``views``: per channel view ``name``, ``png`` (one pixel per cell), ``vmin``,
          ``vmax``, ``bins[n][bin]`` = ``[value, winner_row, winner_col]`` (torch's adaptive
          pooling; winner ``None`` for avg) and ``fills[n][bin]`` (the value's colour);
        - ``vector``: ``png`` (the real vector, one pixel per entry), ``length``,
          ``offsets`` (where each level starts) and ``first[n][c]``, where channel ``c``'s
          entries of level ``n`` start: entry ``(c, bin)`` is ``first[n][c] + bin``
          (channel-major like :func:`pyramidviz.spp.spatial_pyramid_pool`).

    Examples
    --------
    >>> info = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))
    >>> m = np.arange(12.0).reshape(3, 4)
    >>> p = spp_payload({"max": m}, np.zeros((3, 4, 3), np.uint8), np.zeros(5),
    ...                 levels=(2, 1), mode="max", channels=1, field=info)
    >>> p["edges"]["2"], p["views"][0]["bins"]["2"][3], p["vector"]["offsets"]
    ({'rows': [[0, 2], [1, 3]], 'cols': [[0, 2], [2, 4]]}, [11.0, 2, 3], [0, 4])
    >>> p["schema"], p["cell_bin"]["2"], p["grid"]["2"][3]
    ('pv.spp/2', {'rows': [0, 0, 1], 'cols': [0, 0, 1, 1]}, [1, 1])
    """
    if not views:
        raise ValueError("views must name at least one channel view")
    first = np.asarray(next(iter(views.values())))
    h, w = first.shape
    view_list = []
    for name, values in views.items():
        values = np.asarray(values, np.float32)
        if values.shape != (h, w):
            raise ValueError(f"every view must be {h} x {w}, got {values.shape} for {name!r}")
        image, bins = _map_image(values), _pooled(values, levels, mode)
        view_list.append({"name": str(name), **image, "bins": bins,
                          "fills": _fills(bins, image["vmin"], image["vmax"])})
    vector = np.asarray(vector, np.float64).ravel()
    lo, hi = (np.percentile(vector, [1, 99]) if vector.size else (0.0, 1.0))
    return {**_spp_common(photo, photo_info, h, w, field, levels, mode, channels),
            "views": view_list, "vector": _vector(vector, levels, channels, float(lo), float(hi))}


def spp_geometry_payload(photo: np.ndarray, *, feature_size: tuple[int, int],
                         levels: Sequence[int], field: FieldInfo,
                         photo_info: dict | None = None) -> dict:
    """The SPP bins view's payload for a map known only by its geometry (no weights).

    Same schema as :func:`spp_payload` (``"pv.spp/2"``), so the same view draws it, but
    nothing is pooled: the one channel view ``"cells"`` is a checkerboard of the ``h x w``
    cells, each bin's "value" is the number of cells it spans (``[count, None, None]``: no
    winner) and the vector has one entry per bin (``channels = 1``), coloured by that count.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
    feature_size : (int, int)
        ``(h, w)`` of the layer's map for this photo.
    levels : sequence of int
    field : FieldInfo
        Receptive field of the map's cells in photo pixels.

    Examples
    --------
    >>> info = FieldInfo(size=(3, 3), stride=(2, 2), padding=(1, 1))
    >>> p = spp_geometry_payload(np.zeros((8, 10, 3), np.uint8), feature_size=(4, 5),
    ...                          levels=(2, 1), field=info)
    >>> p["views"][0]["bins"]["2"], p["vector"]["length"], p["mode"]
    ([[6, None, None], [6, None, None], [6, None, None], [6, None, None]], 5, 'geometry')
    """
    h, w = feature_size
    counts = {str(n): [[(r[1] - r[0]) * (c[1] - c[0]), None, None]
                       for r in bin_edges(h, n) for c in bin_edges(w, n)] for n in levels}
    checker = (np.add.outer(np.arange(h), np.arange(w)) % 2).astype(np.float64)
    rgb = np.where(checker[..., None] > 0, np.array([205, 205, 205], np.uint8),
                   np.array([150, 150, 150], np.uint8))
    sizes = np.array([v[0] for n in levels for v in counts[str(n)]], np.float64)
    vmax = float(sizes.max()) if sizes.size else 1.0
    return {**_spp_common(photo, photo_info, h, w, field, levels, "geometry", 1),
            "views": [{"name": "cells", "png": png_uri(rgb), "vmin": 0.0, "vmax": vmax,
                       "bins": counts, "fills": _fills(counts, 0.0, vmax)}],
            "vector": _vector(sizes, levels, 1, 0.0, vmax)}


def field_picture(photo: np.ndarray, field_box: Box, stride_box: Box, *,
                  side: int = PHOTO_SIDE) -> np.ndarray:
    """The photo with one cell's receptive field (orange, outside dimmed) and its stride
    tile (green) drawn on it, at most ``side`` px long.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
    field_box, stride_box : Box
        In photo pixels, clipped to the photo (:meth:`FieldInfo.cell_box`).

    Returns
    -------
    ndarray, shape (h, w, 3), uint8
        The photo scaled by ``min(1, side / max(H, W))``.

    Examples
    --------
    >>> pic = field_picture(np.full((40, 60, 3), 200, np.uint8), Box(5, 5, 25, 30),
    ...                     Box(10, 10, 14, 14))
    >>> pic.shape, pic[0, 0].tolist(), pic[15, 15].tolist()
    ((40, 60, 3), [90, 90, 90], [200, 200, 200])
    """
    image = Image.fromarray(np.ascontiguousarray(photo, np.uint8)).convert("RGB")
    scale = min(1.0, side / max(image.size))
    if scale < 1.0:
        image = image.resize((max(1, round(image.width * scale)),
                              max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    out = np.asarray(image).astype(np.float64)
    height, width = out.shape[:2]

    def scaled(box: Box) -> tuple[int, int, int, int]:
        return (int(box.top * scale), int(box.left * scale),
                max(int(box.top * scale) + 1, round(box.bottom * scale)),
                max(int(box.left * scale) + 1, round(box.right * scale)))

    top, left, bottom, right = scaled(field_box)
    inside = np.zeros((height, width), bool)
    inside[top:bottom, left:right] = True
    out[~inside] *= 0.45
    out = np.round(out).astype(np.uint8)
    thick = max(2, round(max(height, width) / 240))
    for box, colour in ((field_box, (230, 159, 0)), (stride_box, (0, 158, 115))):
        t, lf, b, r = scaled(box)
        b, r = min(b, height), min(r, width)
        for y0, y1, x0, x1 in ((t, t + thick, lf, r), (b - thick, b, lf, r),
                               (t, b, lf, lf + thick), (t, b, r - thick, r)):
            out[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = colour
    return out


def _centres(field: FieldInfo, feature_size: tuple[int, int]) -> dict[str, list[float]]:
    """Photo pixel of each row's and each column's centre (:meth:`FieldInfo.center`)."""
    h, w = feature_size
    return {"rows": [float(field.center(u, 0)[0]) for u in range(h)],
            "cols": [float(field.center(0, u)[1]) for u in range(w)]}


def _bounds(field: FieldInfo, feature_size: tuple[int, int]) -> dict[str, list[float]]:
    """Per axis the ``n - 1`` pixels where :meth:`FieldInfo.nearest_cell` turns to the next
    cell: the cell nearest pixel ``v`` is the number of bounds ``<= v`` (:func:`nearest_index`)."""
    h, w = feature_size
    (jy, jx), rows, cols = field.stride, [], []
    for u in range(1, h):
        rows.append(float(field.center(u, 0)[0]) - jy / 2)
    for u in range(1, w):
        cols.append(float(field.center(0, u)[1]) - jx / 2)
    return {"rows": rows, "cols": cols}


def nearest_index(bounds: Sequence[float], value: float) -> int:
    """How many ``bounds`` (ascending) are ``<= value``: a binary search, as the views do.

    Examples
    --------
    >>> nearest_index([8.0, 24.0], 7.9), nearest_index([8.0, 24.0], 8.0), nearest_index([], 3)
    (0, 1, 0)
    """
    lo, hi = 0, len(bounds)
    while lo < hi:
        mid = (lo + hi) // 2
        if bounds[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _branch_axis(field: FieldInfo, axis: int, n: int, rate: int, kernel: int,
                 image_hw: tuple[int, int]) -> dict:
    """One axis of one branch: per cell index its taps' pixels, on-map flags, valid count and
    the field span of its on-map taps (:func:`atrous.tap_offsets`, :meth:`FieldInfo.block_box`).
    """
    pos, on, valid, span = [], [], [], []
    steps = tap_offsets(kernel, rate)[:kernel, 1]  # one row of the k x k offsets, in cells
    for u in range(n):
        line = u + steps
        flags = (line >= 0) & (line < n)
        centre = [field.center(c, 0)[0] if axis == 0 else field.center(0, c)[1] for c in line]
        pos.append([float(x) for x in centre])
        on.append([bool(f) for f in flags])
        valid.append(int(flags.sum()))
        inner = line[flags]
        block = (int(inner.min()), int(inner.max()) + 1)
        box = (field.block_box(block, (0, 1), image_size=image_hw) if axis == 0 else
               field.block_box((0, 1), block, image_size=image_hw))
        span.append([box.top, box.bottom] if axis == 0 else [box.left, box.right])
    return {"pos": pos, "on": on, "valid": valid, "span": span}


def taps_payload(photo: np.ndarray, *, field: FieldInfo, feature_size: tuple[int, int],
                 stride: int, rates: Sequence[int], kernel: int,
                 spp_level: int | None = None, photo_info: dict | None = None) -> dict:
    """Everything the ASPP taps view draws for any cell the student moves to.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
    field : FieldInfo
        Receptive field of the map's cells in photo pixels.
    feature_size : (int, int)
        ``(h, w)`` of the map.
    stride : int
        The map's effective stride: pixels between neighbouring cells.
    rates : sequence of int
        Atrous rates; the view adds the 1x1 branch first.
    kernel : int
        Odd kernel size ``k`` of the atrous branches.
    spp_level : int, optional
        For the Compare view: the finest SPP level, whose bin containing the cell is drawn.
    photo_info : dict, optional
        A :func:`photo_payload` already made.

    Returns
    -------
    dict
        Schema ``"pv.taps/2"``; pixels are photo pixels ``(y, x)``, cells 0-based. A cell
        ``(row, col)`` reads every per-axis table of ``rows`` at ``row`` and of ``cols`` at
        ``col`` (square kernels: the taps are a product of the two axes):

        - ``schema``, ``style`` (:func:`style`), ``photo``, ``map`` ``[h, w]``, ``stride``
          (px), ``kernel``;
        - ``centres``: ``rows[u]`` (y) and ``cols[v]`` (x), each cell's centre pixel
          (:meth:`FieldInfo.center`); ``bounds``: ``rows`` / ``cols``, the pixels where the
          nearest cell changes (the cell nearest ``y`` is the count of ``bounds.rows <= y``,
          :func:`nearest_index`, equal to :meth:`FieldInfo.nearest_cell`);
        - ``branches``: per branch (the 1x1 first) ``name``, ``rate`` (``None`` for 1x1),
          ``k`` (its kernel side), ``taps`` (``k * k``), ``spacing`` (px between its taps,
          ``None`` for 1x1), and per axis ``rows`` / ``cols``: ``pos[u]`` (the ``k`` tap
          pixels of cell ``u``), ``on[u]`` (their on-map flags), ``valid[u]`` (how many are
          on the map) and ``span[u]`` (``[start, end)`` of the on-map taps' field, clipped);
          the taps of ``(row, col)`` are ``rows.pos[row] x cols.pos[col]`` row-major, on the
          map where both flags are, ``count[rows.valid[row]][cols.valid[col]]`` of them;
        - ``count``: the product table ``count[a][b] = a * b`` for ``a, b <= k``;
        - with ``spp_level``, ``spp``: ``level``, ``row_bin`` / ``col_bin`` (the bin row /
          column of each map row / column, :func:`pyramidviz.bins.bin_of`), ``index[i][j]``
          (the bin number) and ``boxes[bin]`` (``[stride box, field box]``, clipped).

    Examples
    --------
    >>> f = FieldInfo(size=(3, 3), stride=(16, 16), padding=(0, 0))
    >>> p = taps_payload(np.zeros((64, 64, 3), np.uint8), field=f, feature_size=(4, 4),
    ...                  stride=16, rates=(2,), kernel=3, spp_level=2)
    >>> [b["name"] for b in p["branches"]], p["spp"]["row_bin"], p["centres"]["rows"][:2]
    (['1x1', 'rate 2'], [0, 0, 1, 1], [1.0, 17.0])
    >>> b = p["branches"][1]["rows"]; b["pos"][0], b["on"][0], b["valid"][0], b["span"][0]
    ([-31.0, 1.0, 33.0], [False, True, True], 2, [0, 35])
    """
    h, w = feature_size
    image_hw = tuple(photo.shape[:2])
    branches = []
    for rate in (None, *map(int, rates)):
        k, r = (1, 1) if rate is None else (int(kernel), rate)
        branches.append({
            "name": "1x1" if rate is None else f"rate {rate}", "rate": rate, "k": k,
            "taps": k * k, "spacing": None if rate is None else rate * int(stride),
            "rows": _branch_axis(field, 0, h, r, k, image_hw),
            "cols": _branch_axis(field, 1, w, r, k, image_hw)})
    top = max(b["k"] for b in branches)
    payload = {
        "schema": SCHEMAS["taps"], "style": style(),
        "photo": photo_info or photo_payload(photo),
        "map": [int(h), int(w)], "stride": int(stride), "kernel": int(kernel),
        "centres": _centres(field, (h, w)), "bounds": _bounds(field, (h, w)),
        "branches": branches,
        "count": [[a * b for b in range(top + 1)] for a in range(top + 1)],
    }
    if spp_level is not None:
        n = int(spp_level)
        rows, cols = bin_edges(h, n), bin_edges(w, n)
        payload["spp"] = {
            "level": n,
            "row_bin": [bins.bin_of(u, h, n) for u in range(h)],
            "col_bin": [bins.bin_of(u, w, n) for u in range(w)],
            "index": [[i * n + j for j in range(n)] for i in range(n)],
            "boxes": [[_box(field.stride_box(r, c, image_size=image_hw)),
                       _box(field.block_box(r, c, image_size=image_hw))]
                      for r in rows for c in cols],
        }
    return payload


def taps_at(payload: dict, cell: tuple[int, int]) -> list[dict]:
    """The taps a taps view draws at ``cell``, read from the payload's tables as the view
    reads them: ``{"rate", "x", "y", "on_map"}`` per tap, branch by branch, row-major.

    Examples
    --------
    >>> f = FieldInfo(size=(3, 3), stride=(16, 16), padding=(0, 0))
    >>> p = taps_payload(np.zeros((64, 64, 3), np.uint8), field=f, feature_size=(4, 4),
    ...                  stride=16, rates=(2,), kernel=3)
    >>> taps_at(p, (0, 0))[0]
    {'rate': None, 'x': 1.0, 'y': 1.0, 'on_map': True}
    >>> taps_at(p, (0, 0))[6]
    {'rate': 2, 'x': 33.0, 'y': 1.0, 'on_map': True}
    """
    row, col = cell
    out = []
    for b in payload["branches"]:
        ys, xs = b["rows"]["pos"][row], b["cols"]["pos"][col]
        oy, ox = b["rows"]["on"][row], b["cols"]["on"][col]
        for y, fy in zip(ys, oy, strict=True):
            for x, fx in zip(xs, ox, strict=True):
                out.append({"rate": b["rate"], "x": x, "y": y, "on_map": fy and fx})
    return out


def kernel_payload(size: int, kernel: int, *, rate: int, padding: int, stride: int) -> dict:
    """The sliding dilated kernel: an input, its padding and the output, for the view.

    Returns
    -------
    dict
        Schema ``"pv.kernel/2"``, in cells of the padded input (``padded`` a side, the real
        input at ``[padding, padding + size)``): ``schema``, ``style``, ``size``, ``kernel``,
        ``rate``, ``padding``, ``stride``, ``padded``, ``out`` (the output side,
        :func:`pyramidviz.atrous.conv_output_size`), ``span`` (the dilated kernel's side,
        :func:`pyramidviz.atrous.effective_kernel_size`), and per output index ``o`` along
        either axis (the kernel is square): ``start[o]`` (the window's first cell),
        ``taps[o]`` (the ``k`` cells read), ``real[o]`` (whether each is real input) and
        ``valid[o]`` (how many); output ``(oy, ox)`` reads ``taps[oy] x taps[ox]``
        (:func:`pyramidviz.atrous.sliding_taps`), ``count[valid[oy]][valid[ox]]`` of them
        real.

    Raises
    ------
    ValueError
        When the dilated kernel does not fit (the output would be empty).

    Examples
    --------
    >>> p = kernel_payload(9, 3, rate=2, padding=2, stride=1)
    >>> p["out"], p["span"], p["taps"][0], p["real"][0], p["valid"][0]
    (9, 5, [0, 2, 4], [False, True, True], 2)
    """
    out = conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    if out < 1:
        raise ValueError(f"kernel {kernel} at rate {rate} does not fit a {size} input with "
                         f"padding {padding}: output size {out}")
    taps, real = [], []
    for o in range(out):
        cells, _ = sliding_taps(size, kernel, rate=rate, padding=padding, stride=stride,
                                     position=(o, 0))
        taps.append([int(r) for r in cells[::kernel, 0]])
        real.append([bool(padding <= r < padding + size) for r in cells[::kernel, 0]])
    return {"schema": SCHEMAS["kernel"], "style": style(), "size": int(size),
            "kernel": int(kernel), "rate": int(rate), "padding": int(padding),
            "stride": int(stride), "padded": int(size + 2 * padding), "out": int(out),
            "span": int(effective_kernel_size(kernel, rate)),
            "start": [t[0] for t in taps], "taps": taps, "real": real,
            "valid": [sum(r) for r in real],
            "count": [[a * b for b in range(kernel + 1)] for a in range(kernel + 1)]}


def gridding_payload(stacks: Sequence[Sequence[int]], kernel: int = 3) -> dict:
    """What the centre output of each stack of dilated convs reaches, layer by layer.

    Parameters
    ----------
    stacks : sequence of sequence of int
        Rates of each stack, e.g. ``[(2, 2, 2), (1, 2, 5)]``.
    kernel : int

    Returns
    -------
    dict
        Schema ``"pv.gridding/2"``: ``schema``, ``style``, ``kernel``, ``depth`` (the most
        layers of any stack) and ``stacks``: per stack its ``rates``, ``side`` (the span of
        the whole stack, in input offsets) and, after each layer ``i`` (the first ``i + 1``
        rates), ``layers[i]``: ``span`` (offsets a side), ``holes`` (never reached),
        ``total`` (``span * span``), ``inset`` (cells from the whole stack's edge to this
        layer's), ``offsets`` (the signed offset of each of its ``span`` columns / rows from
        the centre output; the centre is where it is 0) and a one-pixel-per-offset ``png``
        of the reached offsets (:func:`pyramidviz.atrous.stack_coverage`).

    Examples
    --------
    >>> g = gridding_payload([(2, 2, 2)])["stacks"][0]
    >>> [(x["span"], x["holes"]) for x in g["layers"]], g["layers"][0]["offsets"]
    ([(5, 16), (9, 56), (13, 120)], [-2, -1, 0, 1, 2])
    """
    colours = style()["colours"]
    reached, unreached = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], np.uint8)
                          for c in (colours["reached"], colours["unreached"]))
    out = []
    for rates in stacks:
        layers, side = [], stack_coverage(tuple(rates), kernel).span
        for i in range(1, len(rates) + 1):
            coverage = stack_coverage(tuple(rates[:i]), kernel)
            rgb = np.where(coverage.reach[..., None], reached, unreached)
            half = coverage.span // 2
            layers.append({"span": int(coverage.span), "holes": int(coverage.holes),
                           "total": int(coverage.span ** 2), "inset": int((side - coverage.span)
                                                                          // 2),
                           "offsets": list(range(-half, half + 1)), "png": png_uri(rgb)})
        out.append({"rates": [int(r) for r in rates], "side": int(side), "layers": layers})
    return {"schema": SCHEMAS["gridding"], "style": style(), "kernel": int(kernel),
            "depth": max((len(s["layers"]) for s in out), default=0), "stacks": out}


def payload_bytes(payload: dict) -> int:
    """Size in bytes of the payload as JSON (what the browser receives).

    Examples
    --------
    >>> payload_bytes({"a": [1, 2]})
    11
    """
    import json

    return len(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
