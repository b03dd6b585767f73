"""The bad-input corpus, generated in code (no stored binaries).

``bad_inputs()`` maps a case name to ``(file bytes, expected)``: ``expected`` is
``None`` when the bytes must load as a valid RGB image, otherwise the
``ImageLoadError.code`` that ``pyramidviz.images.load_image`` must raise.
``VALID_PIXELS`` records what the valid cases must look like after loading, and
``markup_filenames()`` lists hostile upload names for ``pyramidviz.filenames.safe_filename``.
Everything is deterministic; the two expensive files (a 100-megapixel JPEG and a
real 121-megapixel PNG bomb) are built without holding their pixels in memory
and cached.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zlib

import numpy as np
from PIL import Image

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
PHOTO_SIZE = (12000, 8400)  # 100.8 megapixels
EXIF_ORIENTATION = 0x0112


def _save(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _patch_png_size(data: bytes, w: int, h: int) -> bytes:
    """Rewrite the IHDR width and height, with a correct CRC."""
    assert data[12:16] == b"IHDR"
    return data[:8] + _png_chunk(b"IHDR", struct.pack(">II", w, h) + data[24:29]) + data[33:]


def _jpeg_segments(data: bytes) -> tuple[int, int]:
    """Offsets of the SOF segment and of the first entropy-coded byte after SOS."""
    i, sof = 2, -1
    while True:
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            sof = i
        if marker == 0xDA:
            return sof, i + 2 + length
        i += 2 + length


def _patch_jpeg_size(data: bytes, w: int, h: int) -> bytes:
    sof, _ = _jpeg_segments(data)
    out = bytearray(data)
    struct.pack_into(">HH", out, sof + 5, h, w)
    return bytes(out)


def _noise(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


@functools.lru_cache(maxsize=1)
def photo_100mp() -> bytes:
    """A 12000 x 8400 baseline JPEG (about 8 MB) built from one 12000 x 128 strip.

    The strip is encoded with a restart marker after every MCU row (16 pixel rows),
    so each row of MCUs is a self-contained, byte-aligned interval; the big file is
    the strip's header with the height patched, then 525 intervals cycled from the
    strip. Colour runs from red (left) to blue (right).
    """
    w, h = PHOTO_SIZE
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, 128, dtype=np.float32)[:, None]
    red = 255 * (1 - x) * (0.7 + 0.3 * np.cos(6 * np.pi * y))
    green = 110 + 90 * np.sin(40 * np.pi * x) * np.sin(2 * np.pi * y)
    blue = 255 * x + 0 * y
    strip = np.clip(np.stack([red, green, blue], -1), 0, 255).astype(np.uint8)
    src = _save(Image.fromarray(strip), "JPEG", quality=85, restart_marker_rows=1)
    _, scan = _jpeg_segments(src)
    intervals = re.split(rb"\xff[\xd0-\xd7]", src[scan:-2])  # stuffed 0xFF00 never matches
    out = io.BytesIO()
    out.write(_patch_jpeg_size(src[:scan], w, h))
    for k in range(h // 16):
        if k:
            out.write(bytes([0xFF, 0xD0 + (k - 1) % 8]))
        out.write(intervals[k % len(intervals)])
    out.write(b"\xff\xd9")
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def png_bomb_121mp() -> bytes:
    """A valid, all-black 1-bit PNG of 11000 x 11000 pixels that weighs about 15 kB."""
    side = 11000
    row = bytes(1 + (side + 7) // 8)  # filter byte 0 then packed zero bits
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 1000) for _ in range(side // 1000)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _exif_rotated_jpeg() -> bytes:
    """Stored 64 x 32 grey with a red 16 x 16 square top-left; EXIF orientation 6."""
    img = Image.new("RGB", (64, 32), (128, 128, 128))
    img.paste(RED, (0, 0, 16, 16))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    return _save(img, "JPEG", quality=95, exif=exif.tobytes())


def _palette_png() -> bytes:
    """12 x 4: transparent | opaque blue | half-transparent red bands."""
    img = Image.new("P", (12, 4))
    img.putpalette([0, 0, 0, *BLUE, *RED])
    img.paste(1, (4, 0, 8, 4))
    img.paste(2, (8, 0, 12, 4))
    return _save(img, "PNG", transparency=bytes([0, 255, 128]))


def _alpha_png(mode: str) -> bytes:
    """3 x 1 black pixels with alpha 0, 255 and 128."""
    img = Image.new(mode, (3, 1))
    for x, alpha in enumerate((0, 255, 128)):
        img.putpixel((x, 0), (0, alpha) if mode == "LA" else (0, 0, 0, alpha))
    return _save(img, "PNG")


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (10, 10), c) for c in (RED, (0, 255, 0), BLUE)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _halves(fmt: str, **params) -> bytes:
    """16 x 8: red left half, blue right half."""
    img = Image.new("RGB", (16, 8), RED)
    img.paste(BLUE, (8, 0, 16, 8))
    return _save(img, fmt, **params)


def _valid_inputs() -> dict[str, bytes]:
    gradient16 = np.tile(np.linspace(0, 65535, 256).round().astype(np.uint16), (4, 1))
    cmyk = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # red
    cmyk.paste((255, 255, 0, 0), (8, 0, 16, 8))  # blue
    return {
        "tiny_1x1": _save(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG"),
        "tall_1x3000": _save(Image.new("L", (1, 3000), 77), "PNG"),
        "wide_3000x1": _save(Image.new("RGB", (3000, 1), BLUE), "PNG"),
        "png_16bit_gradient": _save(Image.fromarray(gradient16), "PNG"),
        "jpeg_cmyk": _save(cmyk, "JPEG", quality=95),
        "png_palette_transparency": _palette_png(),
        "png_la": _alpha_png("LA"),
        "png_rgba": _alpha_png("RGBA"),
        "png_1bit": _save(Image.fromarray(np.indices((8, 8)).sum(0) % 2 == 1), "PNG"),
        "gif_animated": _animated_gif(),
        "jpeg_exif_rotated": _exif_rotated_jpeg(),
        "jpeg_broken_exif": _save(Image.new("RGB", (8, 8), RED), "JPEG",
                                  exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12"),
        "webp": _halves("WEBP", lossless=True),
        "tiff": _halves("TIFF", compression="tiff_deflate"),
        "tiff_float32": _save(Image.fromarray(np.tile(np.linspace(0, 1, 64, dtype=np.float32),
                                                      (2, 1))), "TIFF"),
        "bmp": _halves("BMP"),
        "mpo_two_frames": _save(Image.new("RGB", (16, 16), RED), "MPO", save_all=True,
                                append_images=[Image.new("RGB", (16, 16), BLUE)]),
        "jpeg_100mp_photo": photo_100mp(),
    }


def _invalid_inputs() -> dict[str, tuple[bytes, str]]:
    png = _save(_noise(64, 48), "PNG")
    jpeg = _save(_noise(64, 48), "JPEG")
    broken = bytearray(png)
    broken[png.find(b"IDAT") + 20] ^= 0xFF
    svg = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
           b'height="10"><rect width="10" height="10" fill="red"/></svg>\n')
    return {
        "empty": (b"", "empty"),
        "random_bytes": (np.random.default_rng(1).bytes(4096), "not_image"),
        "text_renamed": ("Shopping list\n- milk\n- 달걀\n".encode(), "not_image"),
        "svg_renamed": (svg, "not_image"),
        "html_renamed": (b"<!DOCTYPE html>\n<html><body><img src=x></body></html>", "not_image"),
        "heic_renamed": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64),
                         "unsupported_format"),
        "png_truncated": (png[: len(png) // 2], "truncated"),
        "jpeg_truncated": (jpeg[: len(jpeg) * 3 // 5], "truncated"),
        "png_corrupt_data": (bytes(broken), "corrupt"),
        "png_zero_width": (_patch_png_size(png, 0, 48), "no_pixels"),
        "png_bomb_header_40000": (_patch_png_size(png, 40000, 40000), "bomb"),
        "png_bomb_121mp": (png_bomb_121mp(), "bomb"),
        "jpeg_bomb_header_65000": (_patch_jpeg_size(jpeg, 65000, 65000), "bomb"),
        "jpeg_bomb_header_130mp": (_patch_jpeg_size(jpeg, 11400, 11400), "bomb"),
    }


@functools.lru_cache(maxsize=1)
def _corpus() -> tuple[tuple[str, tuple[bytes, str | None]], ...]:
    cases: dict[str, tuple[bytes, str | None]] = {k: (v, None) for k, v in _valid_inputs().items()}
    cases.update(_invalid_inputs())
    return tuple(cases.items())


def bad_inputs() -> dict[str, tuple[bytes, str | None]]:
    """Case name -> (file bytes, None if it must load else the expected error code).

    Built on first call (not at collection) and kept; :data:`CASE_NAMES` names the cases
    for ``parametrize`` without building them.
    """
    return dict(_corpus())


CASE_NAMES = (
    'bmp',
    'empty',
    'gif_animated',
    'heic_renamed',
    'html_renamed',
    'jpeg_100mp_photo',
    'jpeg_bomb_header_130mp',
    'jpeg_bomb_header_65000',
    'jpeg_broken_exif',
    'jpeg_cmyk',
    'jpeg_exif_rotated',
    'jpeg_truncated',
    'mpo_two_frames',
    'png_16bit_gradient',
    'png_1bit',
    'png_bomb_121mp',
    'png_bomb_header_40000',
    'png_corrupt_data',
    'png_la',
    'png_palette_transparency',
    'png_rgba',
    'png_truncated',
    'png_zero_width',
    'random_bytes',
    'svg_renamed',
    'tall_1x3000',
    'text_renamed',
    'tiff',
    'tiff_float32',
    'tiny_1x1',
    'webp',
    'wide_3000x1',
)
"""Every case of :func:`bad_inputs`, sorted (``tests/test_images.py`` checks they agree)."""


BOMB_CASES = ("png_bomb_header_40000", "png_bomb_121mp", "jpeg_bomb_header_65000",
              "jpeg_bomb_header_130mp")

# What valid cases must look like: (x, y) in the loaded image -> RGB, within JPEG tolerance.
VALID_PIXELS: dict[str, dict[tuple[int, int], tuple[int, int, int]]] = {
    "tiny_1x1": {(0, 0): (10, 200, 30)},
    "tall_1x3000": {(0, 0): (77, 77, 77), (0, 2999): (77, 77, 77)},
    "wide_3000x1": {(0, 0): BLUE, (2999, 0): BLUE},
    "png_16bit_gradient": {(0, 0): (0, 0, 0), (255, 3): WHITE, (128, 0): (128, 128, 128)},
    "jpeg_cmyk": {(2, 4): RED, (13, 4): BLUE},
    "png_palette_transparency": {(1, 1): WHITE, (5, 1): BLUE, (10, 1): (255, 127, 127)},
    "png_la": {(0, 0): WHITE, (1, 0): (0, 0, 0), (2, 0): (127, 127, 127)},
    "png_rgba": {(0, 0): WHITE, (1, 0): (0, 0, 0), (2, 0): (127, 127, 127)},
    "png_1bit": {(0, 0): (0, 0, 0), (1, 0): WHITE, (0, 1): WHITE},
    "gif_animated": {(5, 5): RED},
    "jpeg_exif_rotated": {(24, 8): RED, (8, 8): (128, 128, 128), (24, 56): (128, 128, 128)},
    "jpeg_broken_exif": {(4, 4): RED},
    "webp": {(2, 4): RED, (13, 4): BLUE},
    "tiff": {(2, 4): RED, (13, 4): BLUE},
    "tiff_float32": {(0, 0): (0, 0, 0), (63, 1): WHITE},
    "bmp": {(2, 4): RED, (13, 4): BLUE},
    "mpo_two_frames": {(8, 8): RED},
}


def markup_filenames() -> list[str]:
    """Upload names that try markup, bidi tricks, control characters or sheer length.

    Used by test_filenames.py (``safe_filename``) and test_browser_uploads.py.
    """
    return [
        "<img src=x onerror=alert(1)>.png",
        "<script>alert('x')</script>.jpg",
        "**bold** _it_ [link](javascript:alert(1)).png",
        "`code` $x^2$ &lt;b&gt;.png",
        "photo\u202egnp.exe",  # right-to-left override: shows as "photoexe.png"
        "zero\u200bwidth\ufeff.png",
        "tab\tnew\nline\r\x00nul\x1b[31m.png",
        "../../etc/passwd",
        "C:\\Users\\student\\cat.jpg",
        "사진 (1).png",
        "e\u0301" + "\u0301" * 30 + ".png",  # Zalgo-style stacked accents
        "a" * 300 + ".jpeg",
        "",
        " . ",
    ]
