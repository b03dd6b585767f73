"""View payloads: what the browser-side views draw, computed once on the server.

Each builder is a pure function from numbers pyramidviz computed (feature maps, pooled
values, receptive fields) to one compact, JSON-serialisable dict: numbers, and maps and
photos encoded as small images (data URIs), never figures. The browser views
(``pyramidviz/web/*.js``) only place what is in the payload, so every overlay interaction (hover,
step, play, level and channel switch, moving a cell) runs in the browser with no server
round trip. Positions the views derive themselves follow formulas whose parameters the
payload carries, and those are checked against this package in the browser tests:

- a cell's centre ``u * stride - padding + (size - 1) / 2`` (:meth:`FieldInfo.center`);
- tap ``i`` of a ``k x k`` branch at rate ``r`` on cell ``u``: cell ``u + (i - (k-1)/2) r``
  (:func:`pyramidviz.atrous.tap_cells`), on the map when ``0 <= cell < h``;
- a block of cells ``[u0, u1)`` sees ``[u0 j - P, (u1 - 1) j - P + size)``, clipped to the
  photo (:meth:`FieldInfo.block_box`);
- entry ``(c, b)`` of an SPP level ``n`` sits at ``offset + c n^2 + b`` in the vector
  (:func:`pyramidviz.spp.spatial_pyramid_pool`, channel-major like ``flatten(1)``).

Labels are not part of a payload: the app adds its EN/KO strings beside it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from pyramidviz import style as palette  # the views helper moves to style.for_views()
from pyramidviz.atrous import stack_coverage, tap_cells
from pyramidviz.bins import bin_edges
from pyramidviz.receptive import Box, FieldInfo
from pyramidviz.sizes import conv_output_size

__all__ = ["PHOTO_SIDE", "bin_of", "expected_taps", "field_picture", "gridding_payload",
           "kernel_payload", "payload_bytes", "photo_payload", "spp_geometry_payload",
           "spp_payload", "taps_payload"]

PHOTO_SIDE = 720
"""Longest side of the photo a view shows (a JPEG of ~30-80 KB)."""

_SEQUENTIAL = np.array([  # Viridis, 9 stops (the figures' sequential scale)
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)], np.float64)


def _jpeg_uri(image: Image.Image, quality: int = 82) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _png_uri(rgb: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).save(buffer, format="PNG",
                                                              optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _colour(values: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
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
    return {"src": _jpeg_uri(image), "H": int(height), "W": int(width)}


def colours() -> dict:
    """The palette every view draws with (:mod:`pyramidviz.palette`): ``branches`` as
    ``[colour, marker]`` pairs in branch order, and the SPP view's named colours.

    Examples
    --------
    >>> colours()["branches"][:2]
    [['#0072b2', 'circle'], ['#d55e00', 'square']]
    """
    return {"branches": [[c, m] for c, m in zip(palette.BRANCH_COLORS, palette.BRANCH_MARKERS,
                                                strict=True)],
            "bin": palette.SPP_BIN, "winner": palette.SPP_BIN, "field": palette.FIELD,
            "stride": palette.STRIDE, "current": palette.CURRENT}


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
    return {"png": _png_uri(_colour(values, vmin, vmax)), "vmin": vmin, "vmax": vmax}


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


def _bin_geometry(feature_size: tuple[int, int], levels, field: FieldInfo,
                  image_hw: tuple[int, int]) -> tuple[dict, dict]:
    """Per level: the bins' cell edges, and each bin's [stride box, field box] on the photo."""
    (h, w), edges, boxes = feature_size, {}, {}
    for n in levels:
        rows, cols = bin_edges(h, n), bin_edges(w, n)
        edges[str(n)] = {"rows": [list(r) for r in rows], "cols": [list(c) for c in cols]}
        boxes[str(n)] = [[_box(field.stride_box(r, c, image_size=image_hw)),
                          _box(field.block_box(r, c, image_size=image_hw))]
                         for r in rows for c in cols]
    return edges, boxes


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
        ``map`` (h, w), ``levels``, ``edges`` (per level, half-open row and column cell
        ranges from :func:`pyramidviz.spp.bin_edges`), ``boxes`` (per level and bin, the
        stride box and the receptive field on the photo, ``[top, left, bottom, right]``),
        ``views`` (per channel view: a PNG, its range and ``[value, winner_row,
        winner_col]`` per level and bin), ``vector`` (a PNG strip, its length and each
        level's offset), ``photo`` and ``field``.

    Examples
    --------
    >>> info = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))
    >>> m = np.arange(12.0).reshape(3, 4)
    >>> p = spp_payload({"max": m}, np.zeros((3, 4, 3), np.uint8), np.zeros(5),
    ...                 levels=(2, 1), mode="max", channels=1, field=info)
    >>> p["edges"]["2"], p["views"][0]["bins"]["2"][3], p["vector"]["offsets"]
    ({'rows': [[0, 2], [1, 3]], 'cols': [[0, 2], [2, 4]]}, [11.0, 2, 3], [0, 4])
    """
    if not views:
        raise ValueError("views must name at least one channel view")
    first = np.asarray(next(iter(views.values())))
    h, w = first.shape
    edges, boxes = _bin_geometry((h, w), levels, field, tuple(photo.shape[:2]))
    view_list = []
    for name, values in views.items():
        values = np.asarray(values, np.float32)
        if values.shape != (h, w):
            raise ValueError(f"every view must be {h} x {w}, got {values.shape} for {name!r}")
        view_list.append({"name": str(name), **_map_image(values),
                          "bins": _pooled(values, levels, mode)})
    vector = np.asarray(vector, np.float64).ravel()
    offsets = np.concatenate([[0], np.cumsum([channels * n * n for n in levels])[:-1]])
    lo, hi = (np.percentile(vector, [1, 99]) if vector.size else (0.0, 1.0))
    return {
        "colours": colours(),
        "photo": photo_info or photo_payload(photo),
        "map": [int(h), int(w)],
        "field": _field(field),
        "levels": [int(n) for n in levels],
        "mode": mode,
        "channels": int(channels),
        "edges": edges,
        "boxes": boxes,
        "views": view_list,
        "colors": _SEQUENTIAL.astype(int).tolist(),
        "vector": {"png": _png_uri(_colour(vector[None, :], float(lo), float(hi))),
                   "length": int(vector.size), "offsets": [int(o) for o in offsets]},
    }


def spp_geometry_payload(photo: np.ndarray, *, feature_size: tuple[int, int],
                         levels: Sequence[int], field: FieldInfo,
                         photo_info: dict | None = None) -> dict:
    """The SPP bins view's payload for a map known only by its geometry (no weights).

    Same fields as :func:`spp_payload`, so the same view draws it, but nothing is pooled:
    the one channel view ``"cells"`` is a checkerboard of the ``h x w`` cells, each bin's
    "value" is the number of cells it spans (``[count, None, None]``: no winner) and the
    vector has one entry per bin (``channels = 1``), coloured by that count.

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
    edges, boxes = _bin_geometry((h, w), levels, field, tuple(photo.shape[:2]))
    counts = {str(n): [[(r[1] - r[0]) * (c[1] - c[0]), None, None]
                       for r in bin_edges(h, n) for c in bin_edges(w, n)] for n in levels}
    checker = (np.add.outer(np.arange(h), np.arange(w)) % 2).astype(np.float64)
    rgb = np.where(checker[..., None] > 0, np.array([205, 205, 205], np.uint8),
                   np.array([150, 150, 150], np.uint8))
    sizes = np.array([v[0] for n in levels for v in counts[str(n)]], np.float64)
    offsets = np.concatenate([[0], np.cumsum([n * n for n in levels])[:-1]])
    vmax = float(sizes.max()) if sizes.size else 1.0
    return {
        "photo": photo_info or photo_payload(photo),
        "map": [int(h), int(w)],
        "field": _field(field),
        "levels": [int(n) for n in levels],
        "mode": "geometry",
        "channels": 1,
        "edges": edges,
        "boxes": boxes,
        "views": [{"name": "cells", "png": _png_uri(rgb), "vmin": 0.0, "vmax": vmax,
                   "bins": counts}],
        "colors": _SEQUENTIAL.astype(int).tolist(),
        "vector": {"png": _png_uri(_colour(sizes[None, :], 0.0, vmax)),
                   "length": int(sizes.size), "offsets": [int(o) for o in offsets]},
    }


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
        Pixels between neighbouring cells (the output stride for the last stages).
    rates : sequence of int
        Atrous rates; the view adds the 1x1 branch first.
    kernel : int
        Odd kernel size ``k`` of the atrous branches.
    spp_level : int, optional
        For the Compare view: the finest SPP level, whose bin containing the cell is drawn.
        Adds ``spp`` with the bin of each row and column (:func:`bin_of`) and each bin's
        stride box and field.
    photo_info : dict, optional
        A :func:`photo_payload` already made.

    Returns
    -------
    dict
        ``photo``, ``map`` (h, w), ``field``, ``stride``, ``kernel``, ``branches``
        (``[{"name": "1x1", "rate": None}, {"name": "rate 6", "rate": 6}, ...]``) and, with
        ``spp_level``, ``spp``.

    Examples
    --------
    >>> f = FieldInfo(size=(3, 3), stride=(16, 16), padding=(0, 0))
    >>> p = taps_payload(np.zeros((64, 64, 3), np.uint8), field=f, feature_size=(4, 4),
    ...                  stride=16, rates=(2,), kernel=3, spp_level=2)
    >>> [b["name"] for b in p["branches"]], p["spp"]["row_bin"]
    (['1x1', 'rate 2'], [0, 0, 1, 1])
    """
    h, w = feature_size
    branches = [{"name": "1x1", "rate": None}] + [{"name": f"rate {int(r)}", "rate": int(r)}
                                                  for r in rates]
    payload = {
        "photo": photo_info or photo_payload(photo),
        "map": [int(h), int(w)],
        "field": _field(field),
        "stride": int(stride),
        "kernel": int(kernel),
        "branches": branches,
        "colours": colours(),
    }
    if spp_level is not None:
        image_hw = tuple(photo.shape[:2])
        rows, cols = bin_edges(h, spp_level), bin_edges(w, spp_level)
        payload["spp"] = {
            "level": int(spp_level),
            "row_bin": [bin_of(u, rows) for u in range(h)],
            "col_bin": [bin_of(u, cols) for u in range(w)],
            "boxes": [[_box(field.stride_box(r, c, image_size=image_hw)),
                       _box(field.block_box(r, c, image_size=image_hw))]
                      for r in rows for c in cols],
        }
    return payload


def kernel_payload(size: int, kernel: int, *, rate: int, padding: int, stride: int) -> dict:
    """The sliding dilated kernel: an input, its padding and the output, for the view.

    The view steps through the ``o x o`` output positions in the browser; output ``(oy, ox)``
    reads padded cells ``(oy s + a d, ox s + b d)`` (:func:`pyramidviz.atrous.sliding_taps`,
    checked against the view in a browser test).

    Returns
    -------
    dict
        ``size``, ``kernel``, ``rate``, ``padding``, ``stride`` and ``out`` (the output side,
        :func:`pyramidviz.atrous.conv_output_size`).

    Raises
    ------
    ValueError
        When the dilated kernel does not fit (the output would be empty).

    Examples
    --------
    >>> kernel_payload(9, 3, rate=2, padding=2, stride=1)["out"]
    9
    """
    out = conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    if out < 1:
        raise ValueError(f"kernel {kernel} at rate {rate} does not fit a {size} input with "
                         f"padding {padding}: output size {out}")
    return {"size": int(size), "kernel": int(kernel), "rate": int(rate), "padding": int(padding),
            "stride": int(stride), "out": int(out)}


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
        ``stacks``: per stack its ``rates`` and, after each layer ``i`` (the first ``i``
        rates), ``layers[i]``: ``span``, ``holes`` and a one-pixel-per-offset PNG of the
        reached offsets (:func:`pyramidviz.atrous.stack_coverage`).

    Examples
    --------
    >>> g = gridding_payload([(2, 2, 2)])["stacks"][0]
    >>> [(x["span"], x["holes"]) for x in g["layers"]]
    [(5, 16), (9, 56), (13, 120)]
    """
    out = []
    for rates in stacks:
        layers = []
        for i in range(1, len(rates) + 1):
            coverage = stack_coverage(tuple(rates[:i]), kernel)
            rgb = np.where(coverage.reach[..., None], np.array([0, 114, 178], np.uint8),
                           np.array([221, 221, 221], np.uint8))
            layers.append({"span": int(coverage.span), "holes": int(coverage.holes),
                           "png": _png_uri(rgb)})
        out.append({"rates": [int(r) for r in rates], "layers": layers})
    return {"kernel": int(kernel), "stacks": out}


def bin_of(cell: int, edges: Sequence[tuple[int, int]]) -> int:
    """Index of the first bin of ``edges`` (half-open ranges) that contains ``cell``.

    Examples
    --------
    >>> [bin_of(c, bin_edges(7, 4)) for c in range(7)]
    [0, 0, 1, 1, 2, 2, 3]
    """
    for index, (start, end) in enumerate(edges):
        if start <= cell < end:
            return index
    raise ValueError(f"cell {cell} lies in no bin of {list(edges)}")


def expected_taps(payload: dict, cell: tuple[int, int]) -> list[dict]:
    """The taps a taps view must draw at ``cell``, computed by pyramidviz (the test oracle).

    Returns
    -------
    list of dict
        ``{"rate": r or None, "x": px, "y": py, "on_map": bool}`` per tap, branch by branch,
        row-major, in photo pixels (:meth:`FieldInfo.center`, :func:`atrous.tap_cells`).
    """
    f = payload["field"]
    field = FieldInfo(tuple(f["size"]), tuple(f["stride"]), tuple(f["padding"]), f["global"])
    out = []
    for branch in payload["branches"]:
        rate, kernel = branch["rate"], payload["kernel"]
        cells, inside = (tap_cells(tuple(payload["map"]), cell, rate=1, kernel=1)
                         if rate is None else
                         tap_cells(tuple(payload["map"]), cell, rate=rate, kernel=kernel))
        for (row, col), on in zip(cells.tolist(), inside.tolist(), strict=True):
            y, x = field.center(row, col)
            out.append({"rate": rate, "x": float(x), "y": float(y), "on_map": bool(on)})
    return out


def payload_bytes(payload: dict) -> int:
    """Size in bytes of the payload as JSON (what the browser receives).

    Examples
    --------
    >>> payload_bytes({"a": [1, 2]})
    11
    """
    import json

    return len(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
