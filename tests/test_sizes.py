"""Tests for pyramidviz.sizes: conv and SAME output sizes, scaled photos, the sizes table."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import sizes
from pyramidviz.bins import bin_edges
from pyramidviz.images import crop_and_warp, load_image

from conftest import ROOT

SPP_SCALES = ["0.5", "0.75", "1", "1.5"]  # the SPP page's scales
MAX_PIXELS = inspect.signature(load_image).parameters["max_pixels"].default  # 2 MP
MIN_SIDE = 32  # ui.MIN_SIDE: the smallest photo side the pages accept


def test_the_sizes_load_without_torch():
    code = "import sys, pyramidviz.sizes; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


# ---------------------------------------------------------------- conv and SAME sizes


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000), st.sampled_from([8, 16, 32]))
def test_backbone_map_is_the_ceiling(h, w, stride):
    assert sizes.backbone_map_hw((h, w), stride) == (math.ceil(h / stride), math.ceil(w / stride))


def test_backbone_map_matches_the_backbone():
    from pyramidviz.backbones import EfficientNetLite0, tap_info

    for stride in (32, 16, 8):
        model = EfficientNetLite0(output_stride=stride)
        for hw in ((300, 451), (97, 131)):
            assert tap_info(model, "stage7", hw).feature_size == sizes.backbone_map_hw(hw, stride)


@pytest.mark.parametrize("hw", [(37, 61), (64, 64), (113, 90)])
def test_backbone_map_matches_the_real_feature_map_of_every_tap(hw):
    """The SPP page's sizes section reads map sizes from here instead of running the net."""
    from pyramidviz.backbones import TAPS, EfficientNetLite0, extract, tap_info

    model = EfficientNetLite0().eval()
    for tap in TAPS:
        stride = tap_info(model, tap, hw).stride
        features = extract(model, np.zeros((*hw, 3), np.uint8), tap)
        assert features.shape[1:] == sizes.backbone_map_hw(hw, stride), tap
    assert [tap_info(model, tap, hw).stride for tap in ("stem", "stage3", "stage7")] == [2, 8, 32]


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.sampled_from([1, 3, 5]), st.integers(1, 3), st.integers(1, 3))
def test_same_padding_gives_the_ceiling_like_tensorflow(size, kernel, stride, dilation):
    """TF "SAME": pad ``total`` so that a plain conv gives ``ceil(i / s)`` outputs."""
    total = sizes.same_padding_total(size, kernel, stride, dilation)
    out = sizes.conv_output_size(size + total, kernel, stride=stride, dilation=dilation)
    assert out == sizes.same_output_size(size, stride) == math.ceil(size / stride)
    assert total >= 0 and (total == 0 or total < dilation * (kernel - 1) + stride)


def test_same_sizes_by_hand():
    assert [sizes.same_output_size(i, 2) for i in (0, 1, 2, 3, 224, 225)] == [0, 1, 1, 2, 112, 113]
    assert sizes.same_padding_total(224, 3, 2) == 1  # EfficientNet's stem: extra pixel after
    assert sizes.conv_output_size(224, 11, padding=2, stride=4) == 55  # AlexNet conv1


# ---------------------------------------------------------------- scaled photos (issue 22.5)


def test_a_1600_by_1200_upload_gives_four_different_sizes():
    """The bug: copies capped at 1 MP made 0.75x, 1x and 1.5x all 1155 x 866."""
    got = sizes.scaled_photo_sizes((1200, 1600), SPP_SCALES)
    assert got == ((600, 800), (900, 1200), (1200, 1600), (1800, 2400))
    rows = sizes.size_table((1200, 1600), SPP_SCALES, fixed=224, channels=320, stride=32,
                            levels=(4, 2, 1))
    assert [r.photo_hw for r in rows[:4]] == list(got)
    assert [r.map_hw for r in rows[:4]] == [(19, 25), (29, 38), (38, 50), (57, 75)]
    assert {r.spp for r in rows[:4]} == {6720}


@st.composite
def accepted_photo_hw(draw):
    """A working photo the app can hold: sides >= MIN_SIDE, at most MAX_PIXELS pixels."""
    h = draw(st.integers(MIN_SIDE, MAX_PIXELS // MIN_SIDE))
    w = draw(st.integers(MIN_SIDE, MAX_PIXELS // h))
    return (h, w) if draw(st.booleans()) else (w, h)


@settings(max_examples=300, deadline=None)
@given(accepted_photo_hw())
def test_every_accepted_photo_gets_really_different_sizes(photo_hw):
    got = sizes.scaled_photo_sizes(photo_hw, SPP_SCALES)
    assert len(set(got)) == len(SPP_SCALES)
    assert got[SPP_SCALES.index("1")] == photo_hw  # 1x is the page's photo, never a copy
    for (h, w), scale in zip(got, SPP_SCALES, strict=True):
        assert abs(h - float(scale) * photo_hw[0]) <= 0.5
        assert abs(w - float(scale) * photo_hw[1]) <= 0.5
    assert [h for h, _ in got] == sorted(h for h, _ in got)
    assert [w for _, w in got] == sorted(w for _, w in got)
    rows = sizes.size_table(photo_hw, SPP_SCALES, fixed=224, channels=320, stride=32,
                            levels=(4, 2, 1))
    assert {r.spp for r in rows if r.kind == "scaled"} == {320 * 21}  # same length out


def test_scaled_sizes_refuse_bad_scales_and_collisions():
    with pytest.raises(ValueError, match="scale must be positive"):
        sizes.scaled_photo_sizes((10, 10), [0])
    with pytest.raises(ValueError, match="repeated sizes"):
        sizes.scaled_photo_sizes((10, 10), ["0.1", "0.2"])  # both clamp to 8 x 8
    assert sizes.scaled_photo_hw((32, 40), 0.1) == (8, 8)


def test_size_table_for_the_cat_at_stage7():
    """451 x 300 px at stride 32; 320 channels; 4-2-1 pyramid (21 bins)."""
    rows = sizes.size_table((300, 451), ["0.5", "1", "1.5"], fixed=224, channels=320, stride=32,
                            levels=(4, 2, 1))
    assert [(r.kind, r.scale) for r in rows] == [("scaled", "0.5"), ("scaled", "1"),
                                                 ("scaled", "1.5"), ("crop", None),
                                                 ("warp", None)]
    assert [r.photo_hw for r in rows] == [(150, 226), (300, 451), (450, 676), (224, 224),
                                          (224, 224)]
    assert [r.map_hw for r in rows] == [(5, 8), (10, 15), (15, 22), (7, 7), (7, 7)]
    assert [r.flat for r in rows] == [320 * 40, 320 * 150, 320 * 330, 320 * 49, 320 * 49]
    assert [r.spp for r in rows] == [6720] * 3 + [None, None]  # the length never changes


# ---------------------------------------------------------------- crop, warp, cells, bins


def test_centre_crop_and_the_pixels_crop_and_warp_make():
    assert sizes.centre_crop((300, 600), 224) == ((224, 448), (0, 112))
    assert sizes.centre_crop((600, 300), 224) == ((448, 224), (112, 0))
    image = np.zeros((300, 600, 3), np.uint8)
    image[:, 150:450] = 255  # the centre square survives the crop; the warp squeezes it
    crop, warp = crop_and_warp(image)
    assert crop.shape == warp.shape == (224, 224, 3)
    assert crop[112, 5].min() > 200 and crop[112, 218].min() > 200
    assert warp[112, 20].max() < 50 and warp[112, 112].min() > 200


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400), st.sampled_from([8, 16, 32]),
       st.integers(1, 6))
def test_bin_boxes_tile_the_photo_like_the_map_bins(h, w, stride, level):
    xs, ys = sizes.cell_lines((h, w), stride)
    fh, fw = sizes.backbone_map_hw((h, w), stride)
    assert (len(ys), len(xs)) == (fh + 1, fw + 1) and (ys[-1], xs[-1]) == (h, w)
    boxes = sizes.bin_pixel_boxes((h, w), stride, level)
    assert len(boxes) == level * level
    rows, cols = bin_edges(fh, level), bin_edges(fw, level)
    for (top, left, bottom, right), ((r0, r1), (c0, c1)) in zip(
            boxes, [(r, c) for r in rows for c in cols], strict=True):
        assert (top, left, bottom, right) == (ys[r0], xs[c0], ys[r1], xs[c1])
