"""Safe decoding of uploaded images into small RGB pictures.

:func:`load_image` turns untrusted bytes into a :class:`LoadedImage` or raises
:class:`ImageLoadError`, never anything else. The size in the file header is
checked against ``max_decode_pixels`` before a single pixel is decoded, JPEGs are
decoded at a reduced DCT scale (``Image.draft``), every mode is flattened to RGB
(alpha over white, 16-bit scaled, CMYK converted), EXIF orientation is applied
and the result is shrunk to ``max_pixels``. Pillow warnings raised while decoding
become errors, except metadata warnings (corrupt EXIF or TIFF tags), which Pillow
recovers from: those are ignored and noted as ``"metadata_ignored"``.

Helpers with their own concept live beside it: :mod:`pyramidviz.rgb` (any Pillow mode
to 8-bit RGB), :mod:`pyramidviz.sniffing` (what undecodable bytes look like) and
:mod:`pyramidviz.filenames` (:func:`safe_filename`, re-exported here).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import math
import re
import threading
import warnings
from collections.abc import Iterator

import numpy as np
from PIL import Image

from pyramidviz.checks import CodedError
from pyramidviz.filenames import safe_filename
from pyramidviz.rgb import flatten_to_rgb
from pyramidviz.sizes import centre_crop
from pyramidviz.sniffing import sniff

__all__ = [  # safe_filename is re-exported from pyramidviz.filenames (app.py imports it here)
    "ALLOWED_FORMATS", "ERROR_CODES", "ImageLoadError", "LoadedImage", "fit_within",
    "crop_and_warp", "image_digest", "load_image", "resize_photo", "resize_to", "safe_filename",
    "to_array",
]

ERROR_CODES = (
    "empty", "file_too_large", "not_image", "unsupported_format", "truncated",
    "corrupt", "bomb", "no_pixels", "too_small", "out_of_memory",
)
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP")  # JPEG includes MPO
_PLEASE = "Please upload a PNG, JPEG, GIF, WebP, TIFF or BMP image."
_NOT_IMAGE = {  # sniffed kind -> (message, code)
    "heif": ("This looks like an HEIC/HEIF photo (the iPhone's default format), which we "
             "cannot read. Please export it as JPEG or PNG and upload that.",
             "unsupported_format"),
    "pdf": (f"This looks like a PDF document, not an image. {_PLEASE}", "unsupported_format"),
    "png_no_pixels": ("This PNG image has no pixels (a side of 0).", "no_pixels"),
}
_TEXT_LOOKS = {"svg": "text/SVG, a vector drawing rather than pixels",
               "html": "text/HTML, a web page", "text": "text"}
_TRANSPOSE = {  # EXIF orientation -> operation, as in PIL.ImageOps.exif_transpose
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}
_METADATA_WARNING = r".*(exif|metadata|tag |xmp|malformed mpo|invalid apng)"
_LOCK = threading.Lock()  # warnings.catch_warnings edits process-wide state


class ImageLoadError(CodedError):
    """An upload that cannot be shown, with a message for students and a ``code``.

    Parameters
    ----------
    message : str
        English explanation, safe to show as plain text.
    code : str
        One of :data:`ERROR_CODES`; the app maps it to its own (EN, KO) strings.

    Examples
    --------
    >>> err = ImageLoadError("The file is empty.", code="empty")
    >>> err.code, str(err)
    ('empty', 'The file is empty.')
    """

    CODES = ERROR_CODES


@dataclasses.dataclass(frozen=True)
class LoadedImage:
    """A decoded upload ready for the model.

    Attributes
    ----------
    image : PIL.Image.Image
        Mode ``"RGB"``, at most ``max_pixels`` pixels, upright.
    original_hw : tuple of int
        ``(h, w)`` as stored in the file, after EXIF orientation (the package's order;
        Pillow's ``image.size`` is ``(w, h)``).
    resized : bool
        Whether ``image`` is smaller than ``original_hw``.
    format : str
        Pillow's format name, e.g. ``"PNG"``.
    frames : int
        Frame count (1 for stills); only the first frame is kept.
    notes : tuple of str
        Codes such as ``"exif_rotated"``, ``"resized"``, ``"first_frame"``,
        ``"alpha_composited"``, ``"converted_from_CMYK"``, ``"metadata_ignored"``.
    """

    image: Image.Image
    original_hw: tuple[int, int]
    resized: bool
    format: str
    frames: int
    notes: tuple[str, ...]


def load_image(
    data: bytes, *, max_pixels: int = 2_000_000, max_decode_pixels: int = 120_000_000,
    max_bytes: int = 20 * 2**20, min_side: int = 1,
) -> LoadedImage:
    """Decode untrusted image bytes into an upright RGB image of bounded size.

    Parameters
    ----------
    data : bytes
        The uploaded file. Formats: :data:`ALLOWED_FORMATS` (SVG, HEIC, PDF are refused).
    max_pixels : int
        Working size: larger images are shrunk (aspect kept, Lanczos) to at most this.
    max_decode_pixels : int
        Files whose header claims more pixels are refused before decoding (Pillow's
        own hard limit, ``2 * Image.MAX_IMAGE_PIXELS``, applies too).
    max_bytes : int
        Largest accepted file.
    min_side : int
        Shortest accepted side; a shrunk image keeps sides of at least this, which
        squeezes the aspect ratio only beyond ``max_pixels / min_side**2`` to one.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageLoadError
        For any problem with ``data``; ``.code`` says which (see :data:`ERROR_CODES`).
    ValueError
        For bad limits or a ``data`` that is not bytes.

    Notes
    -----
    Calls are serialised by a lock because ``warnings.catch_warnings`` changes
    process-wide state; a warning raised by another thread during a call is
    affected too. ``ImageFile.LOAD_TRUNCATED_IMAGES`` is respected, not changed.
    Images of extreme aspect ratio (e.g. 1 x 3000) are accepted.

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> Image.new("LA", (40, 10), (0, 0)).save(buf, "PNG")
    >>> loaded = load_image(buf.getvalue(), max_pixels=100)
    >>> loaded.image.size, loaded.image.getpixel((0, 0)), loaded.resized
    ((20, 5), (255, 255, 255), True)
    """
    data = _validated(data, max_pixels, max_decode_pixels, max_bytes, min_side)
    if not data:
        raise ImageLoadError("This file is empty (0 bytes). Please choose an image.", code="empty")
    if len(data) > max_bytes:
        raise ImageLoadError(
            f"This file is too large to open ({len(data) / 2**20:.1f} MB; "
            f"limit {max_bytes / 2**20:.1f} MB).", code="file_too_large")
    with _strict_warnings() as caught:
        try:
            loaded = _decode(data, max_pixels, max_decode_pixels, min_side)
        except ImageLoadError:
            raise
        except Exception as exc:  # every failure becomes an ImageLoadError
            raise _classify(exc, data, max_decode_pixels) from exc
    if caught and "metadata_ignored" not in loaded.notes:
        loaded = dataclasses.replace(loaded, notes=(*loaded.notes, "metadata_ignored"))
    return loaded


def _validated(data: bytes, *limits: int) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    for value in limits:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"limits must be positive integers, got {value!r}")
    max_pixels, min_side = limits[0], limits[3]
    if min_side * min_side > max_pixels:
        raise ValueError(f"min_side**2 must not exceed max_pixels, got {min_side!r}")
    return bytes(data)


@contextlib.contextmanager
def _strict_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with _LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.filterwarnings("always", message=_METADATA_WARNING, category=UserWarning)
        # Our own header check replaces Pillow's global soft limit (its hard limit stays).
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        yield caught


def _decode(data: bytes, max_pixels: int, max_decode_pixels: int, min_side: int) -> LoadedImage:
    with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
        w, h = img.size
        _check_header_size(w, h, max_decode_pixels, min_side)
        fmt, frames = str(img.format), int(getattr(img, "n_frames", 1))
        target = fit_within((w, h), max_pixels, min_side=min_side)
        if frames > 1:
            img.seek(0)
        if fmt in ("JPEG", "MPO") and target != (w, h):
            img.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale, still >= target
        img.load()  # decoding errors surface here, before EXIF (PNG's may follow IDAT)
        orientation, notes = _orientation(img)
        notes += ["first_frame"] if frames > 1 else []
        rgb, converted = flatten_to_rgb(img, target)
        notes += converted
    if orientation in _TRANSPOSE:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
        notes.append("exif_rotated")
        w, h = (h, w) if orientation >= 5 else (w, h)
    if rgb.size != (w, h):
        notes.append("resized")
    rgb.info = {}  # drop copied metadata: a stale EXIF orientation would rotate it twice
    return LoadedImage(rgb, (h, w), rgb.size != (w, h), fmt, frames, tuple(notes))


def _check_header_size(w: int, h: int, max_decode_pixels: int, min_side: int) -> None:
    if w < 1 or h < 1:
        raise ImageLoadError(f"This image has no pixels ({w} x {h}).", code="no_pixels")
    if w * h > max_decode_pixels:
        raise _bomb_error(w * h, max_decode_pixels)
    if min(w, h) < min_side:
        raise ImageLoadError(
            f"The image is too small ({w} x {h} pixels); each side must be at least "
            f"{min_side} pixels.", code="too_small")


def _bomb_error(pixels: int | None, limit: int) -> ImageLoadError:
    def count(n: int) -> str:
        return f"{n / 1e6:.1f} megapixels" if n >= 100_000 else f"{n:,} pixels"

    claim = count(pixels) if pixels else "too many pixels"
    return ImageLoadError(
        f"The image is too large to open safely ({claim}; limit {count(limit)}).", code="bomb")


def _orientation(img: Image.Image) -> tuple[int, list[str]]:
    try:
        value = img.getexif().get(0x0112, 1)
        return (value if value in _TRANSPOSE else 1), []
    except Exception:  # broken EXIF: show the image unrotated
        return 1, ["metadata_ignored"]


def _classify(exc: Exception, data: bytes, max_decode_pixels: int) -> ImageLoadError:
    text = str(exc)
    if isinstance(exc, Image.DecompressionBombError) or "Decompressed data too large" in text:
        claimed = re.search(r"\((\d+) pixels\)", text)
        return _bomb_error(int(claimed.group(1)) if claimed else None, max_decode_pixels)
    if isinstance(exc, MemoryError):
        return ImageLoadError(
            "We ran out of memory while opening this image. Please try a smaller one.",
            code="out_of_memory")
    if isinstance(exc, Image.UnidentifiedImageError) or "identif" in text:
        return _not_image(data)
    if isinstance(exc, EOFError) or "truncated" in text:
        return ImageLoadError(
            "This image file is incomplete (truncated); it may not have finished uploading. "
            "Please try the file again.", code="truncated")
    return ImageLoadError("This image file is damaged and could not be decoded.", code="corrupt")


def _not_image(data: bytes) -> ImageLoadError:
    """The error for bytes Pillow cannot identify, named after what they look like."""
    kind = sniff(data)
    if kind in _NOT_IMAGE:
        message, code = _NOT_IMAGE[kind]
        return ImageLoadError(message, code=code)
    looks = f" (it looks like {_TEXT_LOOKS[kind]})" if kind else ""
    return ImageLoadError(f"This file is not an image we can read{looks}. {_PLEASE}",
                          code="not_image")


def fit_within(size: tuple[int, int], max_pixels: int, *, min_side: int = 1) -> tuple[int, int]:
    """Largest ``(w, h)`` with the same aspect and at most ``max_pixels`` pixels.

    Sides never shrink below ``min(min_side, side)``; for extreme aspect ratios that
    floor wins and the long side alone is shortened.

    Examples
    --------
    >>> fit_within((4000, 3000), 1_200_000), fit_within((10, 10), 500)
    ((1264, 948), (10, 10))
    >>> fit_within((1, 3_000_000), 2_000_000)
    (1, 2000000)
    """
    w, h = size
    if w < 1 or h < 1 or max_pixels < 1 or min_side < 1:
        raise ValueError(f"size, max_pixels and min_side must be positive, got {size!r}, "
                         f"{max_pixels!r}, {min_side!r}")
    if w * h <= max_pixels:
        return w, h
    scale = math.sqrt(max_pixels / (w * h))
    floor_w, floor_h = min(w, min_side), min(h, min_side)
    nw, nh = max(floor_w, math.floor(w * scale)), max(floor_h, math.floor(h * scale))
    if nw * nh > max_pixels:  # one side sits on its floor: shorten only the other
        if nw == floor_w:
            nh = max(floor_h, min(h, max_pixels // nw))
        else:
            nw = max(floor_w, min(w, max_pixels // nh))
    return nw, nh


def resize_to(
    image: Image.Image, *, short_side: int | None = None, size: tuple[int, int] | None = None,
) -> Image.Image:
    """Resize with Lanczos to a given short side (aspect kept) or to an exact ``size``.

    Examples
    --------
    >>> resize_to(Image.new("RGB", (300, 200)), short_side=100).size
    (150, 100)
    >>> resize_to(Image.new("RGB", (300, 200)), size=(7, 5)).size
    (7, 5)
    """
    if (short_side is None) == (size is None):
        raise ValueError(f"give exactly one of short_side or size, got {short_side!r}, {size!r}")
    if size is None:
        if not isinstance(short_side, int) or short_side < 1:
            raise ValueError(f"short_side must be a positive integer, got {short_side!r}")
        w, h = image.size
        scale = short_side / min(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
    elif len(size) != 2 or min(size) < 1:
        raise ValueError(f"size must be two positive integers (w, h), got {size!r}")
    return image.resize(tuple(size), Image.Resampling.LANCZOS, reducing_gap=3.0)


def to_array(image: Image.Image) -> np.ndarray:
    """A writable ``uint8`` array of shape ``(H, W, 3)`` (other modes converted to RGB).

    Examples
    --------
    >>> to_array(Image.new("RGB", (4, 2), (1, 2, 3))).shape
    (2, 4, 3)
    """
    if not isinstance(image, Image.Image):
        raise ValueError(f"image must be a PIL image, got {type(image).__name__}")
    return np.array(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)


def image_digest(data: bytes) -> str:
    """SHA-256 hex digest of the raw bytes, for cache keys.

    Examples
    --------
    >>> image_digest(b"")[:12]
    'e3b0c44298fc'
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    return hashlib.sha256(data).hexdigest()


def resize_photo(photo: np.ndarray, photo_hw: tuple[int, int]) -> np.ndarray:
    """``photo`` resized (bilinear, aspect not kept) to ``photo_hw`` = ``(h, w)``.

    Examples
    --------
    >>> resize_photo(np.zeros((300, 451, 3), np.uint8), (150, 226)).shape
    (150, 226, 3)
    """
    image = Image.fromarray(np.ascontiguousarray(photo))
    return np.asarray(image.resize((photo_hw[1], photo_hw[0]), Image.Resampling.BILINEAR))


def crop_and_warp(photo: np.ndarray, side: int = 224) -> tuple[np.ndarray, np.ndarray]:
    """What a fixed-input CNN does: short side to ``side`` + centre crop, or warp to a square.

    The crop is :func:`pyramidviz.sizes.centre_crop`'s (He et al. 2015, Fig. 1).

    Examples
    --------
    >>> [a.shape for a in crop_and_warp(np.zeros((300, 451, 3), np.uint8))]
    [(224, 224, 3), (224, 224, 3)]
    """
    resized_hw, (top, left) = centre_crop(photo.shape[:2], side)
    crop = resize_photo(photo, resized_hw)[top:top + side, left:left + side]
    return np.ascontiguousarray(crop), resize_photo(photo, (side, side))
