"""Any decoded Pillow image flattened to 8-bit RGB.

Uploads arrive in every Pillow mode: 1-bit, palette with transparency, grey with
alpha, 16- and 32-bit integer or float greys, CMYK, YCbCr, LAB and more. The model
wants 8-bit RGB. :func:`flatten_to_rgb` converts (resizing in the cheapest mode on
the way), composites alpha over white and reports what it changed;
:func:`high_depth_to_l` scales deep greys to 8 bits without clipping. Used by
:func:`pyramidviz.images.load_image`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["flatten_to_rgb", "high_depth_to_l"]

_LUT16 = np.rint(np.arange(65536) * (255 / 65535)).astype(np.uint8)  # k * 257 -> k
_ALPHA_MODES = ("PA", "RGBa", "La")


def _compact(img: Image.Image) -> Image.Image:
    """One of L, LA, RGB, RGBA or CMYK, converting only where needed."""
    mode = img.mode
    if mode in ("1", "I", "F") or mode.startswith("I;"):
        return img.convert("L") if mode == "1" else high_depth_to_l(img)
    if mode in ("P", *_ALPHA_MODES) or "transparency" in img.info:
        has_alpha = mode in _ALPHA_MODES or "transparency" in img.info
        return img.convert("LA" if mode == "La" else "RGBA" if has_alpha else "RGB")
    if mode not in ("RGB", "L", "LA", "RGBA", "CMYK"):
        return img.convert("RGB")  # YCbCr, LAB, HSV, RGBX, ...
    return img


def flatten_to_rgb(image: Image.Image, size: tuple[int, int]
                   ) -> tuple[Image.Image, tuple[str, ...]]:
    """A new mode-``"RGB"`` image of ``size``, and notes saying what was converted.

    Deep greys are scaled (:func:`high_depth_to_l`), palettes and transparency
    expanded, the result resized with Lanczos while still in its compact mode (one
    channel for greys), then alpha composited over white and CMYK converted.

    Parameters
    ----------
    image : PIL.Image.Image
        Already loaded (``image.load()``), any mode.
    size : (int, int)
        Target ``(w, h)``; equal to ``image.size`` for no resizing.

    Returns
    -------
    image : PIL.Image.Image
        Mode ``"RGB"``, ``size``; never ``image`` itself.
    notes : tuple of str
        ``"converted_from_<mode>"`` unless ``image`` was RGB, then
        ``"alpha_composited"`` if there was an alpha channel.

    Raises
    ------
    ValueError
        If ``image`` is not a PIL image or ``size`` not two positive ints.

    Examples
    --------
    >>> la = Image.new("LA", (4, 2), (0, 0))
    >>> rgb, notes = flatten_to_rgb(la, (2, 1))
    >>> rgb.mode, rgb.size, rgb.getpixel((0, 0)), notes
    ('RGB', (2, 1), (255, 255, 255), ('converted_from_LA', 'alpha_composited'))
    """
    if not isinstance(image, Image.Image):
        raise ValueError(f"image must be a PIL image, got {type(image).__name__}")
    if len(size) != 2 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1
                             for s in size):
        raise ValueError(f"size must be two positive ints (w, h), got {size!r}")
    notes = [] if image.mode == "RGB" else [f"converted_from_{image.mode}"]
    img = _compact(image)
    if img.size != tuple(size):
        img = img.resize(tuple(size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    if img.mode in ("RGBA", "LA"):
        white = Image.new("RGB", img.size, (255, 255, 255))
        white.paste(img.convert("RGB"), mask=img.getchannel("A"))
        return white, (*notes, "alpha_composited")
    return img.convert("RGB"), tuple(notes)  # a new image even when already RGB


def high_depth_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float greys to 8 bits: nominal range scaled, never clipped.

    16-bit unsigned maps ``k * 257`` to ``k`` exactly. Other values keep the first
    nominal range they fit, ``[0, 1]`` (floats only), ``[0, 255]`` or ``[0, 65535]``,
    scaled to ``[0, 255]``; values outside all of them are stretched from min to max.
    NaN and infinities count as 0.

    Parameters
    ----------
    image : PIL.Image.Image
        Mode ``"I"``, ``"F"`` or ``"I;16"`` and its byte-order variants.

    Returns
    -------
    PIL.Image.Image
        Mode ``"L"``, same size.

    Examples
    --------
    >>> deep = Image.fromarray(np.array([[0, 257, 65535]], np.uint16))
    >>> np.asarray(high_depth_to_l(deep)).tolist()
    [[0, 1, 255]]
    >>> np.asarray(high_depth_to_l(Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32))))
    array([[  0, 128, 255]], dtype=uint8)
    """
    a = np.asarray(image)
    if a.dtype.kind == "u" and a.dtype.itemsize == 2:
        return Image.fromarray(_LUT16[a])
    a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(a.min()), float(a.max())
    if image.mode == "F" and lo >= 0 and hi <= 1:
        top = 1.0
    else:
        top = next((t for t in (255.0, 65535.0) if lo >= 0 and hi <= t), None)
    if top is None:  # outside any nominal range: stretch min..max
        a, top = a - lo, max(hi - lo, 1e-12)
    return Image.fromarray(np.rint(a * (255 / top)).clip(0, 255).astype(np.uint8))
