"""Tests for pyramidviz.rgb: every Pillow mode to 8-bit RGB, checked against Pillow itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz.rgb import flatten_to_rgb, high_depth_to_l

WHITE = (255, 255, 255)


def test_sixteen_bit_maps_k_times_257_to_k() -> None:
    k = np.arange(256, dtype=np.uint16)
    out = np.asarray(high_depth_to_l(Image.fromarray((k * 257)[None, :])))
    assert out.dtype == np.uint8 and out.tolist() == [k.tolist()]
    every = np.asarray(high_depth_to_l(Image.fromarray(np.arange(65536, dtype=np.uint16)[None])))
    assert np.all(np.diff(every.astype(int)) >= 0) and every[0, -1] == 255


@pytest.mark.parametrize(("values", "mode", "expected"), [
    ([0, 100, 255], "I", [0, 100, 255]),  # fits [0, 255]: kept
    ([0, 256, 65535], "I", [0, 1, 255]),  # fits [0, 65535]: scaled by 255 / 65535
    ([-10, 0, 10], "I", [0, 128, 255]),  # negative: stretched min..max
    ([0.0, 0.25, 1.0], "F", [0, 64, 255]),  # float in [0, 1]
    ([0.0, 2.0, 255.0], "F", [0, 2, 255]),  # float beyond 1: the [0, 255] range
    ([float("nan"), float("inf"), 1.0], "F", [0, 0, 255]),  # NaN and inf count as 0
])
def test_high_depth_ranges(values: list, mode: str, expected: list[int]) -> None:
    image = Image.fromarray(np.array([values], np.float32 if mode == "F" else np.int32))
    assert image.mode == mode
    assert np.asarray(high_depth_to_l(image)).tolist() == [expected]


@pytest.mark.parametrize("mode", ["1", "L", "P", "CMYK", "YCbCr", "LAB", "HSV", "I;16"])
def test_opaque_modes_match_pillow_convert(mode: str) -> None:
    rng = np.random.default_rng(0)
    source = Image.fromarray(rng.integers(0, 256, (6, 9, 3), np.uint8))
    image = source.convert(mode) if mode != "I;16" else Image.fromarray(
        rng.integers(0, 256, (6, 9), np.uint8).astype(np.uint16) * 257)
    rgb, notes = flatten_to_rgb(image, image.size)
    reference = image.convert("RGB") if mode != "I;16" else Image.fromarray(
        (np.asarray(image) // 257).astype(np.uint8)).convert("RGB")
    assert rgb.mode == "RGB" and notes == (f"converted_from_{mode}",)
    np.testing.assert_array_equal(np.asarray(rgb), np.asarray(reference))


def test_rgb_input_is_copied_and_not_noted() -> None:
    image = Image.new("RGB", (3, 2), (1, 2, 3))
    rgb, notes = flatten_to_rgb(image, (3, 2))
    assert rgb is not image and notes == () and rgb.getpixel((2, 1)) == (1, 2, 3)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA"])
def test_alpha_is_composited_over_white(mode: str) -> None:
    rgba = Image.new("RGBA", (3, 1))
    for x, alpha in enumerate((0, 255, 128)):
        rgba.putpixel((x, 0), (255, 0, 0, alpha) if mode == "RGBA" else (0, 0, 0, alpha))
    image = rgba if mode == "RGBA" else rgba.convert(mode)
    rgb, notes = flatten_to_rgb(image, image.size)
    assert notes == (f"converted_from_{mode}", "alpha_composited")
    colour = (255, 0, 0) if mode == "RGBA" else (0, 0, 0)
    half = (255, 127, 127) if mode == "RGBA" else (127, 127, 127)
    assert [rgb.getpixel((x, 0)) for x in range(3)] == [WHITE, colour, half]


def test_palette_transparency_counts_as_alpha() -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 255, 0, 255, 0])
    image.putpixel((1, 0), 1)
    image.info["transparency"] = 0
    rgb, notes = flatten_to_rgb(image, (2, 1))
    assert notes == ("converted_from_P", "alpha_composited")
    assert [rgb.getpixel((0, 0)), rgb.getpixel((1, 0))] == [WHITE, (0, 255, 0)]


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 40), st.integers(1, 40))
def test_resizing_is_pillow_lanczos_in_the_compact_mode(w: int, h: int, nw: int, nh: int) -> None:
    grey = Image.fromarray(np.random.default_rng(w * h).integers(0, 256, (h, w), np.uint8))
    rgb, notes = flatten_to_rgb(grey, (nw, nh))
    expected = grey.resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=3.0).convert("RGB")
    assert rgb.size == (nw, nh) and notes == ("converted_from_L",)
    np.testing.assert_array_equal(np.asarray(rgb), np.asarray(expected))


@pytest.mark.parametrize(("image", "size"), [
    (np.zeros((2, 2, 3), np.uint8), (2, 2)), (Image.new("RGB", (2, 2)), (0, 2)),
    (Image.new("RGB", (2, 2)), (2,)), (Image.new("RGB", (2, 2)), (2.0, 2)),
    (Image.new("RGB", (2, 2)), (True, 2)),
])
def test_bad_arguments_are_rejected(image: object, size: tuple) -> None:
    with pytest.raises(ValueError, match="image|size"):
        flatten_to_rgb(image, size)  # type: ignore[arg-type]
