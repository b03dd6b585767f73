"""The lecture deck: every slide's words, pictures and notes, built once per photo and language.

:func:`deck_payload` computes what the browser deck (``pyramidviz/web/deck.js``) shows: for
each slide a title, one or two sentences, a picture (images as data URIs, and small tables
of boxes, lines, dots and chart points in the picture's own pixels) and speaker notes (what
to say, one question for the class). The browser only places what the payload holds, so a
slide change is a local redraw: no server, no rerun. :func:`export_html` writes the same deck
as one self-contained HTML file that opens from disk with no network; ``python -m
pyramidviz.deck photo.jpg --lang ko -o deck.html`` does it from a shell.

One map per module through the whole deck: stage7 (the last of EfficientNet-Lite0's stages,
:data:`pyramidviz.papers.LITE0_LAST_CHANNELS` channels) at output stride 32 for SPP, as
SPP-net pools the last conv map, and the same stage7 at output stride 16 for ASPP
(DeepLab v3's default). Every number in a sentence is filled from the computation or from
:func:`pyramidviz.papers.facts`. torch is imported only by the functions that compute
feature maps.

References
----------
.. [1] K. He et al., "Spatial Pyramid Pooling in Deep Convolutional Networks for Visual
   Recognition", TPAMI 2015 (Fig. 1: crop/warp; Fig. 3: the 4-2-1 pyramid).
.. [2] L.-C. Chen et al., "Rethinking Atrous Convolution for Semantic Image Segmentation",
   arXiv:1706.05587, 2017 (Sec. 3.3 rates; Fig. 4 valid weights).

Examples
--------
>>> scaled_photo_sizes((1200, 1600), (0.5, 0.75, 1.0))
((600, 800), (900, 1200), (1200, 1600))
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pyramidviz import i18n, papers, style
from pyramidviz.sizes import scaled_photo_sizes

__all__ = ["ASPP_OS", "DECK_SAMPLE", "LEVELS", "SCALES", "SLIDES", "SPP_OS", "TAP",
           "deck_payload", "export_html", "feature_maps", "main"]

SLIDES = ("title", "problem", "bins", "vector", "sizes", "taps", "field", "valid", "versus",
          "summary", "references")
"""The slides in order: bookends, the idea slides, a summary and the references."""
TAP = "stage7"
"""The one map of the deck: EfficientNet-Lite0's last stage."""
SPP_OS, ASPP_OS = 32, 16
"""Output stride of the map SPP pools (the plain network) and of ASPP's (DeepLab v3)."""
LEVELS = papers.FIG3_LEVELS
"""SPP's pyramid (He et al., Fig. 3)."""
KERNEL = 3
"""ASPP's atrous kernel side."""
SCALES = (0.5, 0.75, 1.0)
"""The photo's scales on the "any size" slide."""
PHOTO_SIDE = 1280
"""Longest side of the photo the deck shows (a projector's width is ~1920 px)."""
DECK_SAMPLE = "chelsea"
"""The deck's default photo: a wide one, so crop and warp differ from the whole photo."""
CURRENT_BIN = (1, 1)
"""The bin of the finest level the bins slide outlines (row, col)."""

Features = Callable[[str, int], np.ndarray]
"""``features(tap, output_stride) -> (C, h, w)`` float32 map of the deck's photo."""


def feature_maps(photo: np.ndarray) -> Features:
    """A ``features(tap, output_stride)`` that runs the pretrained backbone (torch) once per
    setting on ``photo``; the app passes its own cached one instead."""
    from pyramidviz.backbones import extract, load_backbone

    done: dict[tuple[str, int], np.ndarray] = {}

    def features(tap: str, output_stride: int) -> np.ndarray:
        if (tap, output_stride) not in done:
            done[tap, output_stride] = extract(load_backbone(output_stride=output_stride),
                                               photo, tap)
        return done[tap, output_stride]

    return features


# ---------------------------------------------------------------- context


@dataclass(frozen=True)
class _Deck:
    """What every slide builder reads: the photo, its maps and the words of one language."""

    lang: str
    name: str
    photo: np.ndarray
    spp: object  # backbones.TapInfo at SPP_OS
    aspp: object  # backbones.TapInfo at ASPP_OS
    spp_map: np.ndarray
    aspp_map: np.ndarray

    @property
    def hw(self) -> tuple[int, int]:
        return tuple(self.photo.shape[:2])

    def t(self, key: str, **values) -> str:
        return i18n.translate(self.lang, f"slides.{key}", **values)

    def notes(self, slide: str, **values) -> dict:
        return {"say": self.t(f"{slide}_say", **values), "ask": self.t(f"{slide}_ask", **values)}


def _box(box) -> list[int]:
    return [int(box.top), int(box.left), int(box.bottom), int(box.right)]


def _outline(box, colour: str, *, dash: bool = False, width: float = 1.0) -> dict:
    """A box to draw: ``[top, left, bottom, right]`` in the panel's pixels; ``width`` in
    thousandths of the panel's longer side."""
    return {"box": _box(box) if not isinstance(box, list) else box, "colour": colour,
            "dash": dash, "width": width}


def _cell_lines(field, feature_hw: tuple[int, int], image_hw: tuple[int, int]) -> dict:
    """Where the cells' stride tiles meet, in photo pixels (:meth:`FieldInfo.stride_box`)."""
    (h, w), (H, W) = feature_hw, image_hw
    ys = [field.stride_box((u, u + 1), (0, 1), image_size=(H, W)).top for u in range(1, h)]
    xs = [field.stride_box((0, 1), (u, u + 1), image_size=(H, W)).left for u in range(1, w)]
    return {"y": [int(y) for y in ys if 0 < y < H], "x": [int(x) for x in xs if 0 < x < W]}


def _bin_boxes(field, feature_hw, image_hw, n: int) -> list:
    from pyramidviz.bins import bin_edges

    h, w = feature_hw
    return [field.stride_box(r, c, image_size=image_hw)
            for r in bin_edges(h, n) for c in bin_edges(w, n)]


def _panel(image: str, size_wh: tuple[int, int], *, weight: float, caption: str = "",
           **extra) -> dict:
    W, H = size_wh
    return {"image": image, "view": [0, 0, int(W), int(H)], "place": [0, 0, int(W), int(H)],
            "weight": float(weight), "caption": caption, **extra}


def _panels(panels: list[dict], **extra) -> dict:
    """A row of panels; ``aspect`` is the row's width over its tallest panel's height."""
    tallest = max(p["weight"] * p["view"][3] / p["view"][2] for p in panels)
    return {"kind": "panels", "panels": panels,
            "aspect": sum(p["weight"] for p in panels) / tallest, **extra}


# ---------------------------------------------------------------- the slides


def _title(d: _Deck, images: dict) -> dict:
    H, W = d.hw
    return {"title": d.t("title_title"),
            "text": [d.t("title_sub"), d.t("title_network", name=d.name or "", w=W, h=H)],
            "picture": _panels([_panel("photo", (W, H), weight=1.0)]),
            "notes": d.notes("title")}


def _problem(d: _Deck, images: dict) -> dict:
    from PIL import Image

    from pyramidviz.images import crop_and_warp
    from pyramidviz.payloads import jpeg_uri

    H, W = d.hw
    s = papers.FIXED_INPUT
    crop, warp = crop_and_warp(d.photo, s)
    images["crop"] = jpeg_uri(Image.fromarray(crop))
    images["warp"] = jpeg_uri(Image.fromarray(warp))
    n = LEVELS[0]
    bins = [_outline(b, style.SPP_BIN, width=4) for b in
            _bin_boxes(d.spp.field, d.spp.feature_size, d.hw, n)]
    panels = [_panel("crop", (s, s), weight=1.0, caption=d.t("panel_crop", s=s)),
              _panel("warp", (s, s), weight=1.0, caption=d.t("panel_warp", s=s)),
              _panel("photo", (W, H), weight=W / H, caption=d.t("panel_spp", w=W, h=H, n=n),
                     boxes=bins)]
    body = "problem_body_square" if W == H else "problem_body"
    return {"title": d.t("problem_title"), "text": [d.t(body, s=s, w=W, h=H)],
            "picture": _panels(panels), "notes": d.notes("problem", s=s)}


def _bins(d: _Deck, images: dict) -> dict:
    from pyramidviz.backbones import STAGES
    from pyramidviz.bins import bin_edges
    from pyramidviz.channel_views import channel_map
    from pyramidviz.payloads import png_uri, sequential_rgb

    H, W = d.hw
    (h, w), field, n = d.spp.feature_size, d.spp.field, LEVELS[0]
    values = channel_map(d.spp_map, "max")
    images["map"] = png_uri(sequential_rgb(values, float(values.min()), float(values.max())))
    rows, cols = bin_edges(h, n), bin_edges(w, n)
    r, c = rows[CURRENT_BIN[0]], cols[CURRENT_BIN[1]]
    own = field.stride_box(r, c, image_size=d.hw)
    seen = field.block_box(r, c, image_size=d.hw)
    whole = (seen.top, seen.left, seen.bottom, seen.right) == (0, 0, H, W)
    photo_boxes = ([_outline(b, style.SPP_BIN, width=3) for b in
                    _bin_boxes(field, (h, w), d.hw, n)]
                   + [_outline(seen, style.FIELD, dash=True, width=9),
                      _outline(own, style.STRIDE, width=9)])
    map_boxes = [_outline([r0, c0, r1, c1], style.SPP_BIN, width=6)
                 for r0, r1 in rows for c0, c1 in cols]
    map_boxes.append(_outline([r[0], c[0], r[1], c[1]], style.STRIDE, width=12))
    panels = [_panel("photo", (W, H), weight=W / H, boxes=photo_boxes,
                     lines=_cell_lines(field, (h, w), d.hw),
                     caption=d.t("bins_photo", n=n)),
              _panel("map", (w, h), weight=(W / H) * 0.8, boxes=map_boxes, pixelated=True,
                     caption=d.t("bins_map", h=h, w=w, c=d.spp.channels))]
    own_size = (own.right - own.left, own.bottom - own.top)
    legend = [{"colour": style.STRIDE, "dash": False,
               "text": d.t("bins_own", w=own_size[0], h=own_size[1])},
              {"colour": style.FIELD, "dash": True,
               "text": d.t("bins_seen_whole" if whole else "bins_seen",
                           w=seen.right - seen.left, h=seen.bottom - seen.top)}]
    stages = len(STAGES)
    text = d.t("bins_body", tap=TAP, stages=stages, c=d.spp.channels, h=h, w=w,
               s=d.spp.stride, os=SPP_OS, levels="-".join(map(str, LEVELS)))
    return {"title": d.t("bins_title"), "text": [text],
            "picture": _panels(panels, legend=legend),
            "notes": d.notes("bins", tap=TAP, os=SPP_OS)}


def _vector(d: _Deck, images: dict) -> dict:
    from pyramidviz.bins import bin_count, vector_length
    from pyramidviz.channel_views import channel_map, spp_vector, view_grids
    from pyramidviz.payloads import png_uri, sequential_rgb

    c = d.spp.channels
    grids = view_grids(channel_map(d.spp_map, "max"), LEVELS, "max")
    lo = float(min(g.min() for g in grids))
    hi = float(max(g.max() for g in grids))
    panels = []
    for i, (n, grid) in enumerate(zip(LEVELS, grids, strict=True)):
        key = f"grid{n}"
        images[key] = png_uri(sequential_rgb(grid, lo, hi))
        frame = _outline([0, 0, n, n], style.BRANCH_COLORS[i], width=30)
        lines = {"x": list(range(1, n)), "y": list(range(1, n))}
        panels.append(_panel(key, (n, n), weight=1.0, pixelated=True, boxes=[frame],
                             lines=lines, caption=d.t("vector_level", n=n, bins=n * n, c=c,
                                                      len=c * n * n)))
    vector = spp_vector(d.spp_map, LEVELS, "max")
    v_lo, v_hi = np.percentile(vector, [1, 99])
    images["vector"] = png_uri(sequential_rgb(vector[None, :], float(v_lo), float(v_hi)))
    total = vector_length(c, LEVELS)
    starts = np.cumsum([0, *[c * n * n for n in LEVELS]]) / total
    segments = [{"from": float(a), "to": float(b), "colour": style.BRANCH_COLORS[i]}
                for i, (a, b) in enumerate(zip(starts[:-1], starts[1:], strict=True))]
    strip = {"image": "vector", "segments": segments,
             "caption": d.t("vector_strip", c=c, bins=bin_count(LEVELS), n=total)}
    text = d.t("vector_body", c=c, bins=bin_count(LEVELS), n=total)
    return {"title": d.t("vector_title"), "text": [text],
            "picture": _panels(panels, strip=strip), "notes": d.notes("vector", n=total)}


def _sizes(d: _Deck, images: dict) -> dict:
    from pyramidviz.backbones import tap_info
    from pyramidviz.bins import vector_length

    n, total = LEVELS[0], vector_length(d.spp.channels, LEVELS)
    panels, maps = [], []
    for size in scaled_photo_sizes(d.hw, SCALES):
        info = tap_info(SPP_OS, TAP, size)
        fh, fw = info.feature_size
        maps.append(info.feature_size)
        bins = [_outline(b, style.SPP_BIN, width=5)
                for b in _bin_boxes(info.field, (fh, fw), size, n)]
        panels.append(_panel("photo", (size[1], size[0]), weight=size[1], boxes=bins,
                             lines=_cell_lines(info.field, (fh, fw), size),
                             caption=d.t("size_panel", w=size[1], h=size[0], fh=fh, fw=fw,
                                         n=total)))
    text = d.t("sizes_body", maps=", ".join(f"{a} × {b}" for a, b in maps),
               levels="-".join(map(str, LEVELS)), n=total)
    return {"title": d.t("sizes_title"), "text": [text],
            "picture": _panels(panels, align="end"), "notes": d.notes("sizes", n=total)}


def _branches(d: _Deck) -> list[tuple[str, int | None]]:
    rates = papers.DEEPLAB_V3_RATES[ASPP_OS]
    return [(d.t("branch_1x1"), None), *((d.t("branch_rate", r=r), r) for r in rates)]


def _taps(d: _Deck, images: dict) -> dict:
    from pyramidviz.atrous import branch_taps

    H, W = d.hw
    (h, w), field = d.aspp.feature_size, d.aspp.field
    centre = (h // 2, w // 2)
    radius = max(H, W) / 70
    dots, legend = [], []
    for i, (label, rate) in enumerate(_branches(d)):
        taps = branch_taps(field, (h, w), centre, rate=rate or 1,
                           kernel=KERNEL if rate else 1, photo_hw=d.hw)
        colour = style.BRANCH_COLORS[i]
        for (y, x), inside in zip(taps.pixels.tolist(), taps.inside.tolist(), strict=True):
            if not (0 <= y < H and 0 <= x < W) and not inside:
                continue  # off the photo too: nothing to point at
            dots.append({"x": float(x), "y": float(y), "r": float(radius * (1.3 if rate is None
                                                                            else 1.0)),
                         "colour": colour, "hollow": not inside})
        spacing = d.t("taps_spacing", px=(rate or 0) * d.aspp.stride) if rate else ""
        legend.append({"colour": colour, "dot": True, "text": f"{label}{spacing}"})
    legend.append({"colour": "#444444", "dot": True, "hollow": True, "text": d.t("taps_off")})
    dots.sort(key=lambda dot: dot["r"])  # the 1x1 branch's larger centre dot on top
    r = papers.DEEPLAB_V3_RATES[ASPP_OS][0]
    text = d.t("taps_body", tap=TAP, os=ASPP_OS, h=h, w=w, s=d.aspp.stride, k=KERNEL,
               r=r, px=r * d.aspp.stride, kk=KERNEL * KERNEL)
    panel = _panel("photo", (W, H), weight=1.0, dots=dots,
                   lines=_cell_lines(field, (h, w), d.hw))
    return {"title": d.t("taps_title"), "text": [text],
            "picture": _panels([panel], legend=legend), "notes": d.notes("taps", r=r)}


def _field_boxes(d: _Deck) -> list[tuple[str, int | None, object]]:
    """Each branch's theoretical field around the centre cell, unclipped, from the
    receptive-field arithmetic over the backbone and one more dilated layer."""
    from pyramidviz.backbones import backbone_layers
    from pyramidviz.receptive import Layer, receptive_field

    (h, w), layers = d.aspp.feature_size, backbone_layers(ASPP_OS, TAP, d.hw)
    centre, out = (h // 2, w // 2), []
    for label, rate in _branches(d):
        extra = (Layer(KERNEL, 1, rate * (KERNEL // 2), rate) if rate else Layer(1))
        field = receptive_field([*layers, extra])[-1]
        out.append((label, rate, field.cell_box(*centre)))
    return out


def _field(d: _Deck, images: dict) -> dict:
    H, W = d.hw
    boxes = _field_boxes(d)
    top = min(0, *(b.top for _, _, b in boxes))
    left = min(0, *(b.left for _, _, b in boxes))
    bottom = max(H, *(b.bottom for _, _, b in boxes))
    right = max(W, *(b.right for _, _, b in boxes))
    outlines, legend = [], []
    for i, (label, _rate, box) in enumerate(boxes):
        colour = style.BRANCH_COLORS[i]
        outlines.append(_outline(box, colour, width=5))
        legend.append({"colour": colour, "text": d.t("field_size", name=label,
                                                     w=box.right - box.left,
                                                     h=box.bottom - box.top)})
    outlines.append(_outline([0, 0, H, W], "#222222", dash=True, width=4))
    legend.append({"colour": "#222222", "dash": True, "text": d.t("field_photo", w=W, h=H)})
    clipped = [b.clip(H, W) for _, _, b in boxes]
    whole = all((b.top, b.left, b.bottom, b.right) == (0, 0, H, W) for b in clipped)
    view = [left, top, right - left, bottom - top]
    panel = {"image": "photo", "view": [int(v) for v in view], "place": [0, 0, W, H],
             "weight": 1.0, "caption": "", "boxes": outlines, "shade": True}
    text = d.t("field_body_whole" if whole else "field_body", f=d.aspp.field.size[0],
               k1=KERNEL - 1, s=d.aspp.stride, w=W, h=H)
    return {"title": d.t("field_title"), "text": [text],
            "picture": {**_panels([panel]), "legend": legend},
            "notes": d.notes("field", f=d.aspp.field.size[0], w=W, h=H)}


def _valid(d: _Deck, images: dict) -> dict:
    from pyramidviz.atrous import valid_weights_table

    (h, w), rates = d.aspp.feature_size, papers.DEEPLAB_V3_RATES[ASPP_OS]
    table = valid_weights_table((h, w), kernel=KERNEL, max_rate=max(h, w, *rates) + 2)
    counts = list(table.counts)
    full = KERNEL * KERNEL
    series = []
    for i, (count, key) in enumerate(((full, "valid_all"), (1, "valid_centre"))):
        share = (table.share[:, counts.index(count)] if count in counts
                 else np.zeros(len(table.rates)))
        series.append({"label": d.t(key, kk=full), "colour": style.BRANCH_COLORS[i + 1],
                       "dash": i == 1, "y": [round(float(v), 4) for v in share]})
    x = [int(r) for r in table.rates]
    chart = {"kind": "chart", "x": x, "series": series, "marks": list(rates),
             "x_label": d.t("valid_x"), "y_label": d.t("valid_y"),
             "x_ticks": [r for r in x if r == 1 or r % 10 == 0],
             "y_ticks": [0, 0.25, 0.5, 0.75, 1.0],
             "y_tick_labels": ["0 %", "25 %", "50 %", "75 %", "100 %"],
             "mark_labels": [d.t("branch_rate", r=r) for r in rates]}
    only_centre = series[1]["y"]
    r1 = next((r for r, share in zip(x, only_centre, strict=True) if share == 1.0), x[-1])
    text = d.t("valid_body", h=h, w=w, k=KERNEL, kk=full, r1=r1)
    return {"title": d.t("valid_title"), "text": [text], "picture": chart,
            "notes": d.notes("valid", h=h, w=w, os=ASPP_OS)}


def _versus(d: _Deck, images: dict) -> dict:
    from pyramidviz.bins import vector_length
    from pyramidviz.compare import aspp_preview_grid
    from pyramidviz.payloads import png_uri, sequential_rgb

    H, W = d.hw
    (h, w), rates = d.aspp.feature_size, papers.DEEPLAB_V3_RATES[ASPP_OS]
    grid = aspp_preview_grid(d.aspp_map, rates, kernel=KERNEL)
    images["aspp"] = png_uri(sequential_rgb(grid, float(grid.min()), float(grid.max())))
    n, total = LEVELS[0], vector_length(d.spp.channels, LEVELS)
    bins = [_outline(b, style.SPP_BIN, width=5)
            for b in _bin_boxes(d.spp.field, d.spp.feature_size, d.hw, n)]
    panels = [_panel("photo", (W, H), weight=1.0, boxes=bins,
                     caption=d.t("versus_spp", n=total, levels="-".join(map(str, LEVELS)))),
              _panel("photo", (W, H), weight=1.0, overlay="aspp",
                     lines=_cell_lines(d.aspp.field, (h, w), d.hw),
                     caption=d.t("versus_aspp", h=h, w=w))]
    strip = {"image": "vector", "segments": [], "caption": d.t("versus_strip", n=total),
             "under": 0}
    text = d.t("versus_body", c=d.spp.channels, n=total, bins=n, h=h, w=w)
    return {"title": d.t("versus_title"), "text": [text],
            "picture": _panels(panels, strip=strip), "notes": d.notes("versus")}


def _summary(d: _Deck, images: dict) -> dict:
    from pyramidviz.bins import vector_length

    (h, w) = d.aspp.feature_size
    items = [d.t("summary_1", s=papers.FIXED_INPUT),
             d.t("summary_2", levels="-".join(map(str, LEVELS)), c=d.spp.channels,
                 n=vector_length(d.spp.channels, LEVELS)),
             d.t("summary_3", k=KERNEL, rates=", ".join(map(str,
                                                            papers.DEEPLAB_V3_RATES[ASPP_OS])),
                 os=ASPP_OS),
             d.t("summary_4"), d.t("summary_5", h=h, w=w)]
    return {"title": d.t("summary_title"), "text": [],
            "picture": {"kind": "list", "items": items}, "notes": d.notes("summary")}


REFERENCES = (
    "K. He, X. Zhang, S. Ren, J. Sun. Spatial Pyramid Pooling in Deep Convolutional Networks "
    "for Visual Recognition. IEEE TPAMI, 2015.",
    "L.-C. Chen, G. Papandreou, I. Kokkinos, K. Murphy, A. L. Yuille. DeepLab: Semantic Image"
    " Segmentation with Deep Convolutional Nets, Atrous Convolution, and Fully Connected "
    "CRFs. IEEE TPAMI, 2017 (DeepLab v2).",
    "L.-C. Chen, G. Papandreou, F. Schroff, H. Adam. Rethinking Atrous Convolution for "
    "Semantic Image Segmentation. arXiv:1706.05587, 2017 (DeepLab v3).",
    "W. Luo, Y. Li, R. Urtasun, R. Zemel. Understanding the Effective Receptive Field in Deep"
    " Convolutional Neural Networks. NeurIPS, 2016.",
    "A. Araujo, W. Norris, J. Sim. Computing Receptive Fields of Convolutional Neural "
    "Networks. Distill, 2019.",
    "P. Wang, P. Chen, Y. Yuan, D. Liu, Z. Huang, X. Hou, G. Cottrell. Understanding "
    "Convolution for Semantic Segmentation. WACV, 2018.",
    "M. Tan, Q. V. Le. EfficientNet: Rethinking Model Scaling for Convolutional Neural "
    "Networks. ICML, 2019.",
)
"""The references slide (paper titles verbatim, in every language)."""


def _references(d: _Deck, images: dict) -> dict:
    return {"title": d.t("references_title"), "text": [],
            "picture": {"kind": "list", "items": list(REFERENCES), "small": True},
            "notes": d.notes("references")}


BUILDERS = {"title": _title, "problem": _problem, "bins": _bins, "vector": _vector,
            "sizes": _sizes, "taps": _taps, "field": _field, "valid": _valid,
            "versus": _versus, "summary": _summary, "references": _references}
UI_LABELS = ("counter", "presenter", "presenter_title", "this_slide", "next_slide", "notes",
             "ask", "timer", "end", "fullscreen", "deck_label")


def deck_payload(photo: np.ndarray, *, lang: str = "en", name: str = "",
                 features: Features | None = None) -> dict:
    """Everything the deck shows, for one photo and one language.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8
        The lecture's photo (any size the app accepts).
    lang : {"en", "ko"}
    name : str
        The photo's name, shown on the title slide.
    features : callable, optional
        ``features(tap, output_stride) -> (C, h, w)`` of ``photo`` (the app passes its
        cached maps); by default the pretrained backbone runs here (:func:`feature_maps`).

    Returns
    -------
    dict
        ``lang``; ``images`` (name -> data URI: the photo as a JPEG at most
        :data:`PHOTO_SIDE` px long, crop, warp, maps and vector as PNGs);
        ``labels`` (the deck's own UI words); ``slides``: per slide ``id``, ``title``,
        ``text`` (sentences), ``picture`` and ``notes`` (``say``, ``ask``). A picture is
        ``{"kind": "panels", "panels": [...], "aspect": row width / height}`` (each panel:
        ``image``, ``view`` ``[x, y, w, h]`` and ``place`` of the image in the panel's
        pixels, ``weight`` (flex share), ``caption``, optional ``boxes`` ``[top, left,
        bottom, right]``, ``lines``, ``dots``; optional ``legend`` and ``strip``),
        ``{"kind": "chart", ...}`` or ``{"kind": "list", "items": [...]}``.

    Examples
    --------
    >>> from pyramidviz.samples import load_sample
    >>> p = deck_payload(load_sample("chelsea"), lang="en", name="chelsea")
    >>> [s["id"] for s in p["slides"]][:3], len(p["slides"])
    (['title', 'problem', 'bins'], 11)
    """
    from pyramidviz.backbones import tap_info
    from pyramidviz.payloads import photo_payload

    if lang not in i18n.LANGUAGES:
        raise ValueError(f"language must be one of {i18n.LANGUAGES}, got {lang!r}")
    photo = np.ascontiguousarray(photo, np.uint8)
    if photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must have shape (H, W, 3), got {photo.shape}")
    features = features or feature_maps(photo)
    hw = tuple(photo.shape[:2])
    deck = _Deck(lang, name, photo, tap_info(SPP_OS, TAP, hw), tap_info(ASPP_OS, TAP, hw),
                 np.asarray(features(TAP, SPP_OS)), np.asarray(features(TAP, ASPP_OS)))
    images = {"photo": photo_payload(photo, side=PHOTO_SIDE)["src"]}
    slides = []
    for slide in SLIDES:
        built = BUILDERS[slide](deck, images)
        slides.append({"id": slide, **built})
    labels = {key: deck.t(f"ui_{key}") for key in UI_LABELS}
    return {"lang": lang, "images": images, "labels": labels, "slides": slides,
            "colours": {"bin": style.SPP_BIN, "field": style.FIELD,
                        "stride": style.STRIDE}}


# ---------------------------------------------------------------- the one-file export


FONT_STACK = ('system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK KR", '
              '"Apple SD Gothic Neo", "Malgun Gothic", "Nanum Gothic", Roboto, sans-serif')
"""System fonts only; the Korean faces a laptop has (macOS, Windows, Linux)."""

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title>
<style>
html, body {{ margin: 0; height: 100%; background: #ffffff; }}
body {{ font-family: {fonts}; }}
{css}
</style>
</head>
<body class="pv-deck-file">
<main id="pv-deck-root" aria-label="{title}"></main>
<script type="application/json" id="pv-deck-data">{data}</script>
<script type="module">
{js}
</script>
</body>
</html>
"""


def export_html(photo: np.ndarray | None = None, *, lang: str = "en", name: str = "",
                features: Features | None = None, payload: dict | None = None) -> str:
    """The whole deck as one self-contained HTML page (no request to any host).

    All JS (the deck's modules joined by :func:`pyramidviz.bundle.bundle`), CSS and data
    are inline, images as data URIs, fonts from the system; ``<html lang>`` is the deck's
    language. Opened from disk it has every slide, the keys, full screen, the notes and the
    presenter view; the browser's Print gives one slide per page.

    Parameters
    ----------
    photo : ndarray, shape (H, W, 3), uint8, optional
        Defaults to the :data:`DECK_SAMPLE` sample.
    lang, name, features
        As for :func:`deck_payload`.
    payload : dict, optional
        A :func:`deck_payload` already built (then ``photo`` is not used).

    Returns
    -------
    str

    Examples
    --------
    >>> page = export_html(lang="ko")
    >>> page.startswith("<!DOCTYPE html>"), '<html lang="ko">' in page, "<link" in page
    (True, True, False)
    """
    from pyramidviz import bundle

    if payload is None:
        if photo is None:
            from pyramidviz.samples import load_sample

            photo, name = load_sample(DECK_SAMPLE), name or DECK_SAMPLE
        payload = deck_payload(photo, lang=lang, name=name, features=features)
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c")  # no "</script>" can end the data early
    title = html.escape(payload["slides"][0]["title"])
    return _PAGE.format(lang=payload["lang"], title=title, fonts=FONT_STACK,
                        css=bundle.stylesheet("deck.css"), data=data,
                        js=bundle.bundle("deck_file.js"))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pyramidviz.deck photo.jpg --lang ko -o deck.html``."""
    parser = argparse.ArgumentParser(prog="python -m pyramidviz.deck",
                                     description="Write the SPP/ASPP lecture deck as one "
                                                 "HTML file that needs no server.")
    parser.add_argument("photo", nargs="?", help="the lecture's photo (default: a sample)")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="en")
    parser.add_argument("-o", "--output", default="deck.html", help="file to write")
    args = parser.parse_args(argv)
    photo, name = None, ""
    if args.photo:
        from pyramidviz.images import load_image, to_array

        path = Path(args.photo)
        photo, name = to_array(load_image(path.read_bytes(), min_side=32).image), path.name
    Path(args.output).write_text(export_html(photo, lang=args.lang, name=name),
                                 encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
