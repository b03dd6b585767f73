"""Tests for pyramidviz.images: every bad input ends as RGB or as ImageLoadError.

safe_filename is tested in test_filenames.py, mode flattening in test_rgb.py and
content sniffing in test_sniffing.py; here they are seen through load_image.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import pickle
import struct
import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile, ImageOps

from pyramidviz.images import (
    ERROR_CODES,
    ImageLoadError,
    LoadedImage,
    fit_within,
    image_digest,
    load_image,
    resize_to,
    to_array,
)

from badinputs import BOMB_CASES, CASE_NAMES, PHOTO_SIZE, VALID_PIXELS, bad_inputs

pytestmark = pytest.mark.filterwarnings("error")  # no warning may escape load_image
LOSSY = ("JPEG", "MPO")


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_the_case_names_are_the_corpus() -> None:
    assert CASE_NAMES == tuple(sorted(bad_inputs()))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_every_bad_input_is_rgb_or_the_expected_error(name: str) -> None:
    data, expected = bad_inputs()[name]
    if expected is not None:
        with pytest.raises(ImageLoadError) as info:
            load_image(data)
        assert type(info.value) is ImageLoadError and info.value.code == expected
        assert str(info.value).endswith((".", ")")) and len(str(info.value)) > 20
        return
    loaded = load_image(data)
    assert loaded.image.mode == "RGB"
    assert loaded.image.width * loaded.image.height <= 2_000_000
    assert loaded.resized == (loaded.image.size[::-1] != loaded.original_hw)
    if not loaded.resized:
        assert loaded.image.size[::-1] == loaded.original_hw
    tolerance = 12 if loaded.format in LOSSY else 1
    for xy, rgb in VALID_PIXELS.get(name, {}).items():
        got = loaded.image.getpixel(xy)
        assert max(abs(g - e) for g, e in zip(got, rgb, strict=True)) <= tolerance, (xy, got)


def test_corpus_covers_every_error_code_reachable_from_bytes() -> None:
    expected = {code for _, code in bad_inputs().values()} - {None}
    assert expected == set(ERROR_CODES) - {"file_too_large", "too_small", "out_of_memory"}


def test_sixteen_bit_gradient_is_scaled_not_clipped() -> None:
    row = to_array(load_image(bad_inputs()["png_16bit_gradient"][0]).image)[0, :, 0].astype(int)
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row) >= 0) and len(np.unique(row)) == 256
    assert np.abs(row - np.arange(256)).max() <= 1  # 65535 * k / 255 maps back to k


def test_exif_rotation_matches_pillow_exif_transpose() -> None:
    data = bad_inputs()["jpeg_exif_rotated"][0]
    loaded = load_image(data)
    with Image.open(io.BytesIO(data)) as raw:
        assert raw.size == (64, 32)
        reference = ImageOps.exif_transpose(raw).convert("RGB")
    assert loaded.original_hw == (64, 32) and "exif_rotated" in loaded.notes
    assert np.array_equal(to_array(loaded.image), to_array(reference))
    assert loaded.image.info == {} and ImageOps.exif_transpose(loaded.image) == loaded.image
    arr = to_array(loaded.image).astype(int)
    assert arr[:16, 16:, 0].mean() > 240 and arr[:16, 16:, 1].mean() < 15  # red now top-right
    assert arr[:16, :12].std() < 3 and abs(arr[:16, :12].mean() - 128) < 3  # grey stays left


def test_animated_gif_keeps_first_frame_and_counts_frames() -> None:
    loaded = load_image(bad_inputs()["gif_animated"][0])
    assert loaded.frames == 3 and "first_frame" in loaded.notes
    assert set(map(tuple, to_array(loaded.image).reshape(-1, 3))) == {(255, 0, 0)}


def test_notes_report_conversions() -> None:
    assert "converted_from_CMYK" in load_image(bad_inputs()["jpeg_cmyk"][0]).notes
    assert "alpha_composited" in load_image(bad_inputs()["png_palette_transparency"][0]).notes
    assert "metadata_ignored" in load_image(bad_inputs()["jpeg_broken_exif"][0]).notes
    assert load_image(bad_inputs()["tiny_1x1"][0]).notes == ()


def test_100mp_photo_loads_resized_with_bounded_memory(tmp_path: Path) -> None:
    data = bad_inputs()["jpeg_100mp_photo"][0]
    loaded = load_image(data)
    w, h = loaded.image.size
    assert loaded.original_hw == PHOTO_SIZE[::-1] and loaded.resized and "resized" in loaded.notes
    assert w * h <= 2_000_000 and w * h > 1_990_000
    assert abs(w / h - PHOTO_SIZE[0] / PHOTO_SIZE[1]) < 2e-3
    arr = to_array(loaded.image).astype(int)
    left, right = arr[:, :20].mean((0, 1)), arr[:, -20:].mean((0, 1))
    assert left[0] > 150 and left[2] < 30 and right[2] > 220 and right[0] < 30
    path = tmp_path / "photo.jpg"
    path.write_bytes(data)
    script = textwrap.dedent(f"""
        import re
        from pyramidviz.images import load_image

        def kib(key):
            return int(re.search(key + r":\\s+(\\d+)", open("/proc/self/status").read())[1])

        data = open({str(path)!r}, "rb").read()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the peak RSS (VmHWM) to the current RSS
        before = kib("VmRSS")
        load_image(data)
        print(kib("VmHWM") - before)
    """)
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("peak-RSS reset needs Linux /proc/self/clear_refs")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    peak_mib = int(out.stdout.split()[-1]) / 1024
    print(f"\npeak extra RSS loading the {PHOTO_SIZE} JPEG: {peak_mib:.1f} MiB "
          f"(its full-size pixels alone: {PHOTO_SIZE[0] * PHOTO_SIZE[1] * 3 / 2**20:.0f} MiB)")
    assert peak_mib < 150  # draft() decodes at 1/4 scale; a full decode peaks near 380 MiB


@pytest.fixture
def decode_spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for owner, attr in ((Image.Image, "load"), (ImageFile.ImageFile, "load"),
                        (Image, "_getdecoder")):
        original = getattr(owner, attr)

        def spy(*args, _original=original, _name=attr, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, attr, spy)
    return calls


@pytest.mark.parametrize("name", BOMB_CASES)
def test_bombs_are_refused_before_any_decoding(name: str, decode_spy: list[str]) -> None:
    with pytest.raises(ImageLoadError, match="megapixels") as info:
        load_image(bad_inputs()[name][0])
    assert info.value.code == "bomb" and decode_spy == []


def test_decode_spy_sees_ordinary_decoding(decode_spy: list[str]) -> None:
    load_image(bad_inputs()["png_1bit"][0])
    assert "_getdecoder" in decode_spy and "load" in decode_spy


def test_limits_are_inclusive() -> None:
    data = _png(Image.new("RGB", (100, 100)))
    assert load_image(data, max_decode_pixels=10_000).image.size == (100, 100)
    with pytest.raises(ImageLoadError, match=r"10,000 pixels; limit 9,999 pixels") as info:
        load_image(data, max_decode_pixels=9_999)
    assert info.value.code == "bomb"
    assert load_image(data, max_bytes=len(data)).format == "PNG"
    with pytest.raises(ImageLoadError) as info:
        load_image(data, max_bytes=len(data) - 1)
    assert info.value.code == "file_too_large"


@pytest.mark.parametrize("name", ["tiny_1x1", "tall_1x3000", "wide_3000x1"])
def test_min_side_refuses_tiny_images(name: str) -> None:
    assert load_image(bad_inputs()[name][0]).image.mode == "RGB"
    with pytest.raises(ImageLoadError, match="at least 32 pixels") as info:
        load_image(bad_inputs()[name][0], min_side=32)
    assert info.value.code == "too_small"


def test_shrinking_an_extreme_aspect_keeps_min_side() -> None:
    data = _png(Image.new("L", (40, 100_000), 9))
    loaded = load_image(data, max_pixels=100_000, min_side=32)
    assert loaded.image.size == (32, 3125) and loaded.original_hw == (100_000, 40)


def test_global_state_is_left_alone() -> None:
    filters, limit = list(warnings.filters), Image.MAX_IMAGE_PIXELS
    names = [n for n in CASE_NAMES if n != "jpeg_100mp_photo"] * 4

    def attempt(name: str) -> str | None:
        try:
            return load_image(bad_inputs()[name][0]).format
        except ImageLoadError as err:
            return err.code

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(attempt, names))
    assert results[: len(results) // 4] * 4 == results  # same answer from every thread
    assert warnings.filters == filters and Image.MAX_IMAGE_PIXELS == limit


@pytest.mark.parametrize(("exc", "code"), [
    (struct.error("unpack requires a buffer of 4 bytes"), "corrupt"),
    (SyntaxError("broken PNG file"), "corrupt"),
    (EOFError(), "truncated"),
    (OSError("image file is truncated (3 bytes not processed)"), "truncated"),
    (ValueError("Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK"), "bomb"),
    (MemoryError(), "out_of_memory"),
    (RecursionError(), "corrupt"),
    (KeyError("MPO"), "corrupt"),
])
def test_any_decoder_exception_is_wrapped(exc: Exception, code: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise exc

    monkeypatch.setattr(Image, "open", broken)
    with pytest.raises(ImageLoadError) as info:
        load_image(b"\x89PNG not really")
    assert info.value.code == code and info.value.__cause__ is exc


def test_decoder_warnings_become_errors_but_metadata_warnings_are_noted(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data, original = bad_inputs()["bmp"][0], ImageFile.ImageFile.load
    for message, outcome in (("Palette trouble", "corrupt"), ("Corrupt EXIF data.", "noted")):
        def noisy(self, _message=message):
            warnings.warn(_message, UserWarning, stacklevel=1)
            return original(self)

        monkeypatch.setattr(ImageFile.ImageFile, "load", noisy)
        if outcome == "noted":
            assert "metadata_ignored" in load_image(data).notes
        else:
            with pytest.raises(ImageLoadError) as info:
                load_image(data)
            assert info.value.code == "corrupt" and "Palette" in str(info.value.__cause__)


def test_image_load_error_pickles_and_validates_its_code() -> None:
    err = pickle.loads(pickle.dumps(ImageLoadError("Too big.", code="bomb")))
    assert (type(err), err.code, str(err)) == (ImageLoadError, "bomb", "Too big.")
    assert isinstance(err, ValueError)
    with pytest.raises(ValueError, match="code must be one of"):
        ImageLoadError("x", code="oops")


def test_loaded_image_is_frozen() -> None:
    loaded = load_image(bad_inputs()["tiny_1x1"][0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.resized = True  # type: ignore[misc]
    assert isinstance(loaded, LoadedImage) and loaded.frames == 1 and loaded.format == "PNG"


@pytest.mark.parametrize("kwargs", [
    {"data": "not bytes"}, {"max_pixels": 0}, {"max_bytes": -1}, {"max_decode_pixels": 1.5},
    {"min_side": True}, {"min_side": 2000, "max_pixels": 1000},
])
def test_bad_arguments_raise_plain_value_error(kwargs: dict) -> None:
    data = kwargs.pop("data", bad_inputs()["tiny_1x1"][0])
    with pytest.raises(ValueError) as info:
        load_image(data, **kwargs)
    assert type(info.value) is ValueError


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_raise_only_image_load_error(data: bytes) -> None:
    try:
        loaded = load_image(data)
    except ImageLoadError as err:
        assert err.code in ERROR_CODES
    else:
        assert loaded.image.mode == "RGB"


def _small_valid() -> list[str]:
    return sorted(n for n, (d, e) in bad_inputs().items() if e is None and len(d) < 100_000)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.deferred(lambda: st.sampled_from(_small_valid())), st.data())
def test_damaged_valid_files_raise_only_image_load_error(name: str, draw: st.DataObject) -> None:
    data = bytearray(bad_inputs()[name][0])
    cut = draw.draw(st.integers(1, len(data)))
    flips = draw.draw(st.lists(st.tuples(st.integers(0, cut - 1), st.integers(1, 255)),
                               max_size=4))
    for pos, mask in flips:
        data[pos] ^= mask
    try:
        loaded = load_image(bytes(data[:cut]), max_decode_pixels=1_000_000)
    except ImageLoadError as err:
        assert err.code in ERROR_CODES
    else:
        assert loaded.image.mode == "RGB" and min(loaded.image.size) >= 1


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.integers(1, 10**7), st.integers(1, 64))
def test_fit_within_bounds_and_aspect(w: int, h: int, max_pixels: int, min_side: int) -> None:
    nw, nh = fit_within((w, h), max_pixels, min_side=min_side)
    floor_w, floor_h = min(w, min_side), min(h, min_side)
    assert floor_w <= nw <= w and floor_h <= nh <= h
    if w * h <= max_pixels:
        assert (nw, nh) == (w, h)
        return
    if min_side**2 <= max_pixels:  # what load_image guarantees
        assert max_pixels - nw - nh - 1 <= nw * nh <= max_pixels
    if nw > floor_w and nh > floor_h:  # no floor hit: aspect kept up to rounding
        assert math.isclose(nw / nh, w / h, rel_tol=2 / nw + 2 / nh)


def test_fit_within_hand_cases() -> None:
    assert fit_within((12000, 8400), 2_000_000) == (1690, 1183)
    assert fit_within((3_000_000, 1), 2_000_000) == (2_000_000, 1)
    assert fit_within((40, 100_000), 100_000, min_side=32) == (32, 3125)
    with pytest.raises(ValueError, match="positive"):
        fit_within((0, 5), 10)


def test_resize_to_short_side_and_size() -> None:
    img = Image.new("RGB", (300, 200), (9, 8, 7))
    assert resize_to(img, short_side=100).size == (150, 100)
    assert resize_to(Image.new("RGB", (5, 4000)), short_side=10).size == (10, 8000)
    assert resize_to(img, size=(30, 70)).getpixel((3, 3)) == (9, 8, 7)
    for bad in ({}, {"short_side": 5, "size": (1, 1)}, {"short_side": 0}, {"size": (0, 3)}):
        with pytest.raises(ValueError):
            resize_to(img, **bad)


def test_to_array_is_writable_uint8_hwc() -> None:
    arr = to_array(Image.new("L", (3, 2), 200))
    assert arr.shape == (2, 3, 3) and arr.dtype == np.uint8 and arr.flags.writeable
    assert np.all(arr == 200)
    with pytest.raises(ValueError, match="PIL image"):
        to_array(np.zeros((2, 2, 3)))  # type: ignore[arg-type]


def test_image_digest_is_sha256() -> None:
    assert image_digest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert image_digest(b"abc").startswith("ba7816bf8f01cfea")
    assert image_digest(bytearray(b"abc")) == image_digest(b"abc")


def test_every_coded_error_shares_one_base_and_pickles_with_its_code() -> None:
    import pickle

    from pyramidviz.aspp import RatesError
    from pyramidviz.bins import LevelsError
    from pyramidviz.checks import CodedError
    from pyramidviz.onnxgraph import OnnxError
    from pyramidviz.specs import SpecError

    errors = [ImageLoadError("empty file", code="empty"), RatesError("bad", code="syntax"),
              LevelsError("range", "too big", value=40), SpecError("unknown", "x", token="x",
                                                                    item=2),
              OnnxError("not_onnx", "random bytes", detail="protobuf")]
    for error in errors:
        again = pickle.loads(pickle.dumps(error))
        assert isinstance(again, CodedError) and type(again) is type(error)
        assert (again.code, str(again), again.details) == (error.code, str(error), error.details)
        with pytest.raises(ValueError, match="code must be one of"):  # each lists its codes
            CodedError.__init__(type(error).__new__(type(error)), "m", code="nope")
    assert errors[2].value == 40 and errors[3].item == 2 and errors[4].detail == "protobuf"
