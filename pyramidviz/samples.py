"""The sample photos and data files shipped inside the package (``pyramidviz/data``).

Everything the library reads at run time lives here, so an installed wheel works from
any directory: the five sample photos (freely licensed, see ``data/samples/SOURCES.md``)
and the ImageNet class names. Nothing is downloaded.

Examples
--------
>>> load_sample("chelsea").shape
(300, 451, 3)
>>> sorted(SAMPLES)[:2]
['astronaut', 'camera']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["DATA_DIR", "SAMPLES", "load_sample", "sample_bytes", "sample_path"]

DATA_DIR = Path(__file__).resolve().parent / "data"
SAMPLES = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "camera": "camera.png",
    "rocket.jpg": "rocket.jpg",
}
"""Sample name (as the app's picker and links spell it) -> file in ``data/samples``.

The app's default comes first: the 512 x 512 astronaut, the size of DeepLab's 513 x 513
training crops, on which SPP's bins and ASPP's rates show their lesson at first sight."""


def sample_path(name: str) -> Path:
    """Path of the bundled sample ``name`` (a key of :data:`SAMPLES`).

    Raises
    ------
    KeyError
        For a name that is not a bundled sample.
    """
    if name not in SAMPLES:
        raise KeyError(f"no bundled sample {name!r}; the samples are {sorted(SAMPLES)}")
    return DATA_DIR / "samples" / SAMPLES[name]


def sample_bytes(name: str) -> bytes:
    """The file bytes of the bundled sample ``name``, as an upload would send them."""
    return sample_path(name).read_bytes()


def load_sample(name: str) -> np.ndarray:
    """The bundled sample ``name`` decoded to an ``(H, W, 3)`` uint8 RGB array."""
    with Image.open(sample_path(name)) as image:
        return np.asarray(image.convert("RGB"))
