"""Helpers shared by the figure tests: synthetic photos and features, traces back to boxes."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from pyramidviz.receptive import FieldInfo

RULES = {"rows": "rows {a}", "cols": "cols {a}", "adaptive": "adaptive", "paper": "paper",
         "wrong": "wrong", "uncovered": "uncovered", "zero": "stride 0",
         "count": "{got} windows (n = {n})", "left": ", never pooled: {k}"}
STAGE7 = FieldInfo(size=(851, 851), stride=(32, 32), padding=(414, 423))  # chelsea, traced
PIXEL = FieldInfo(size=(1, 1), stride=(1, 1), padding=(0, 0))


def rng_features(c: int = 6, h: int = 10, w: int = 15, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(c, h, w)).astype(np.float32)


def photo(h: int = 300, w: int = 451, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def rectangles(trace) -> list[tuple[float, float, float, float]]:
    """Closed paths of a boxes trace back to (top, left, bottom, right)."""
    xs, ys, boxes = list(trace.x), list(trace.y), []
    for start in range(0, len(xs), 6):
        x, y = xs[start:start + 5], ys[start:start + 5]
        boxes.append((min(y), min(x), max(y), max(x)))
    return boxes


def decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
