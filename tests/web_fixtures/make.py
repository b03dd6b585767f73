"""The payloads the views' node tests (pyramidviz/web/*.test.js) lay out, and what pyramidviz's
core says each must show, as JSON. ``python tests/web_fixtures/make.py`` writes them;
tests/test_web_node.py fails when the files differ from what the builders make now."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from pyramidviz import atrous, bins, payloads  # noqa: E402
from pyramidviz.bins import bin_edges  # noqa: E402
from pyramidviz.receptive import FieldInfo  # noqa: E402
from pyramidviz.spp import spatial_pyramid_pool  # noqa: E402

FIELD = FieldInfo(size=(35, 35), stride=(8, 8), padding=(13, 13))
MAP, PHOTO = (6, 8), np.zeros((48, 64, 3), np.uint8)
CELLS = [(0, 0), (2, 3), (5, 7), (1, 6)]


def _box(box) -> list[int]:
    return [box.top, box.left, box.bottom, box.right]


def taps(spp_level: int | None) -> dict:
    payload = payloads.taps_payload(PHOTO, field=FIELD, feature_size=MAP, stride=8,
                                    rates=(1, 2, 4), kernel=3, spp_level=spp_level)
    expected = []
    for cell in CELLS:
        branches = [atrous.branch_taps(FIELD, MAP, cell, rate=r, kernel=k, photo_hw=(48, 64))
                    for r, k in ((1, 1), (1, 3), (2, 3), (4, 3))]
        drawn = []
        for b, rate in zip(branches, (None, 1, 2, 4), strict=True):
            drawn += [{"rate": rate, "x": x, "y": y, "on_map": bool(on)}
                      for (y, x), on in zip(b.pixels.tolist(), b.inside.tolist(), strict=True)]
        entry = {"cell": list(cell), "taps": drawn,
                 "valid": [int(b.inside.sum()) for b in branches],
                 "boxes": [_box(b.field) for b in branches],
                 "centre": list(FIELD.center(*cell))}
        if spp_level is not None:
            rows, cols = bin_edges(MAP[0], spp_level), bin_edges(MAP[1], spp_level)
            i, j = bins.bin_of(cell[0], MAP[0], spp_level), bins.bin_of(cell[1], MAP[1], spp_level)
            entry["spp_bin"] = i * spp_level + j
            entry["spp_boxes"] = [_box(FIELD.stride_box(rows[i], cols[j], image_size=(48, 64))),
                                  _box(FIELD.block_box(rows[i], cols[j], image_size=(48, 64)))]
        expected.append(entry)
    pixels = [(-20.0, -20.0), (0.0, 0.0), (14.5, 30.5), (15.0, 31.0), (47.0, 63.0), (900.0, 3.0)]
    nearest = [{"y": y, "x": x, "cell": list(FIELD.nearest_cell(y, x, MAP))} for y, x in pixels]
    return {"payload": payload, "expected": expected, "nearest": nearest}


def spp() -> dict:
    import torch

    rng = np.random.default_rng(4)
    features = rng.normal(size=(3, *MAP)).astype(np.float32)
    levels = (3, 2, 1)
    vector = spatial_pyramid_pool(torch.from_numpy(features)[None], levels).vector[0].numpy()
    views = {"max": features.max(0), "mean": features.mean(0), "1": features[1]}
    payload = payloads.spp_payload(views, PHOTO, vector, levels=levels, mode="max",
                                   channels=3, field=FIELD)
    shown = torch.from_numpy(features.max(0))[None, None]
    result = spatial_pyramid_pool(shown, levels)
    expected = []
    for i, n in enumerate(levels):
        rows, cols = bin_edges(MAP[0], n), bin_edges(MAP[1], n)
        for b in range(n * n):
            r, c = divmod(b, n)
            expected.append({
                "level": n, "bin": b, "rows": list(rows[r]), "cols": list(cols[c]),
                "value": float(result.pooled[i][0, 0, r, c]),
                "winner": result.argmax[i][0, 0, r, c].tolist(),
                "stride_box": _box(FIELD.stride_box(rows[r], cols[c], image_size=(48, 64))),
                "field_box": _box(FIELD.block_box(rows[r], cols[c], image_size=(48, 64))),
                "entries": [int(payload["vector"]["offsets"][i] + ch * n * n + b)
                            for ch in range(3)]})
    cells = [{"level": n, "cell": [u, v], "bin": bins.bin_of(u, MAP[0], n) * n
              + bins.bin_of(v, MAP[1], n)}
             for n in levels for u, v in ((0, 0), (3, 4), (5, 7), (2, 6))]
    return {"payload": payload, "expected": expected, "cells": cells}


def kernel() -> dict:
    size, k, rate, pad, stride = 7, 3, 2, 1, 2
    payload = payloads.kernel_payload(size, k, rate=rate, padding=pad, stride=stride)
    expected = []
    for position in ((0, 0), (0, 1), (1, 0), (1, 1)):
        cells, real = atrous.sliding_taps(size, k, rate=rate, padding=pad, stride=stride,
                                          position=position)
        expected.append({"position": list(position), "taps": [
            [r, c, bool(x)] for (r, c), x in zip(cells.tolist(), real.tolist(), strict=True)]})
    return {"payload": payload, "expected": expected}


def gridding() -> dict:
    stacks = [(2, 2, 2), (1, 2, 5)]
    payload = payloads.gridding_payload(stacks)
    expected = [{"layer": i, "holes": [atrous.stack_coverage(s[:i]).holes for s in stacks]}
                for i in (1, 2, 3)]
    return {"payload": payload, "expected": expected}


def fixtures() -> dict[str, dict]:
    return {"taps": taps(None), "compare": taps(2), "spp": spp(), "kernel": kernel(),
            "gridding": gridding()}


def text(data: dict) -> str:
    return json.dumps(data, indent=None, separators=(",", ":"), sort_keys=True) + "\n"


if __name__ == "__main__":
    for name, data in fixtures().items():
        (HERE / f"{name}.json").write_text(text(data), encoding="utf-8")
        print(name, len(text(data)))
