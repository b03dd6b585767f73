"""Tests for pyramidviz.receptive: hand cases, published networks, image -> cells.

The module tracing (``layers_of``) is tested in test_tracing.py; the published-network
tests here use it to get the layer chains of torch modules.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pyramidviz.receptive import (
    Box,
    FieldInfo,
    Layer,
    image_box_to_cells,
    receptive_field,
)
from pyramidviz.tracing import layers_of

# ---------------------------------------------------------------- hand cases

def test_single_3x3_conv_sees_3_pixels() -> None:
    (field,) = receptive_field([Layer(3, padding=1)])
    assert field == FieldInfo(size=(3, 3), stride=(1, 1), padding=(1, 1))
    assert field.center(0, 0) == (0.0, 0.0)
    assert field.cell_box(4, 7) == Box(3, 6, 6, 9)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40))
def test_k_stacked_3x3_convs_see_2k_plus_1(k: int) -> None:
    fields = receptive_field([Layer(3, padding=1)] * k)
    assert [f.size for f in fields] == [(2 * i + 1, 2 * i + 1) for i in range(1, k + 1)]
    assert fields[-1].center(5, 9) == (5.0, 9.0)  # "same" padding keeps cells on pixels


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 7), st.integers(1, 4), st.integers(1, 3)),
                min_size=1, max_size=8))
def test_jump_is_product_of_strides_and_size_closed_form(spec: list) -> None:
    fields = receptive_field([Layer(k, stride=s, dilation=d) for k, s, d in spec])
    jump, size = 1, 1
    for (k, s, d), field in zip(spec, fields, strict=True):
        size += d * (k - 1) * jump  # Araujo et al. (2019), eq. 2 with dilation
        jump *= s
        assert field.size == (size, size) and field.stride == (jump, jump)


def test_rectangular_kernels_and_asymmetric_pairs() -> None:
    fields = receptive_field([Layer((1, 7), stride=(1, 2), padding=(0, 3)), Layer((5, 1))])
    assert fields[-1] == FieldInfo(size=(5, 7), stride=(1, 2), padding=(0, 3))


def test_block_and_stride_boxes() -> None:
    field = FieldInfo(size=(5, 5), stride=(2, 2), padding=(2, 2))
    assert field.block_box((0, 3), (1, 2)) == Box(-2, 0, 7, 5)
    assert field.block_box((0, 3), (1, 2), image_size=(4, 4)) == Box(0, 0, 4, 4)
    # centres 2u (u j - P + (r - 1) / 2): cells 1-2 own [1, 5) rows, cells 0-1 [-1, 3) cols
    assert field.stride_box((1, 3), (0, 2)) == Box(1, -1, 5, 3)
    assert field.stride_box((1, 3), (0, 2), image_size=(5, 9)) == Box(1, 0, 5, 3)
    glob = FieldInfo(size=(9, 9), stride=(8, 8), padding=(0, 0), global_=True)
    assert glob.cell_box(0, 0, image_size=(100, 60)) == Box(0, 0, 100, 60)
    with pytest.raises(ValueError, match="non-empty"):
        field.block_box((2, 2), (0, 1))


def test_box_clip_keeps_empty_boxes_empty() -> None:
    assert Box(-5, 3, 2, 12).clip(10, 10) == Box(0, 3, 2, 10)
    clipped = Box(20, 20, 30, 30).clip(10, 10)
    assert (clipped.height, clipped.width) == (0, 0)


@pytest.mark.parametrize("bad", [0, -1, (3,), (3, 0), "3", 2.5, True])
def test_layer_rejects_bad_kernels(bad: object) -> None:
    with pytest.raises(ValueError, match="kernel"):
        Layer(bad)  # type: ignore[arg-type]


def test_receptive_field_rejects_non_layers() -> None:
    with pytest.raises(ValueError, match="Layer"):
        receptive_field([(3, 1, 1)])  # type: ignore[list-item]


# ---------------------------------------------------------------- published networks

def _vgg16(width: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    c = 3
    for convs in (2, 2, 3, 3, 3):
        for _ in range(convs):
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
            c = width
        layers.append(nn.MaxPool2d(2, 2))
    return nn.Sequential(*layers)


def test_vgg16_conv5_3_and_pool5_match_published_values() -> None:
    """VGG-16 pool5: r = 212, S = 32, P = 90 (Araujo et al., Distill 2019, Table 1)."""
    layers = layers_of(_vgg16(), (1, 3, 224, 224))
    assert len(layers) == 18
    fields = receptive_field(layers)
    conv5_3, pool5 = fields[-2], fields[-1]
    assert (conv5_3.size, conv5_3.stride) == ((196, 196), (16, 16))
    assert (pool5.size, pool5.stride, pool5.padding) == ((212, 212), (32, 32), (90, 90))
    assert conv5_3.center(0, 1) == (7.5, 23.5)  # conv5 cell u sits at 16u + 7.5


def test_alexnet_conv5_and_pool5_fields() -> None:
    """torchvision AlexNet layout: conv5 sees 163 pixels, pool5 195 (Distill 2019: 195)."""
    net = nn.Sequential(
        nn.Conv2d(3, 2, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(2, 2, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(2, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1),
        nn.Conv2d(2, 2, 3, padding=1), nn.MaxPool2d(3, 2),
    )
    fields = receptive_field(layers_of(net, (1, 3, 224, 224)))
    assert [f.size[0] for f in fields] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert (fields[-2].stride, fields[-1].stride) == ((16, 16), (32, 32))


# ---------------------------------------------------------------- image -> cells

def test_image_box_to_cells_hand_case() -> None:
    # S = 16: cell x' is centred on 16 x'; keep centres strictly inside the window
    assert image_box_to_cells(Box(0, 0, 64, 40), 16) == ((1, 4), (1, 3))
    assert image_box_to_cells(Box(5, 17, 20, 31), 16) == ((1, 2), (2, 2))  # cols empty
    assert image_box_to_cells(Box(0, 0, 640, 640), 16, feature_size=(20, 30)) == (
        (1, 20), (1, 30))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 500), st.integers(1, 300), st.integers(1, 40))
def test_image_box_to_cells_keeps_centres_strictly_inside(start: int, length: int,
                                                           stride: int) -> None:
    (r0, r1), _ = image_box_to_cells(Box(start, 0, start + length, 1), stride)
    inside = [u for u in range(0, (start + length) // stride + 2)
              if start < u * stride < start + length]
    assert list(range(r0, r1)) == inside


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 901).filter(lambda r: r % 2), jump=st.sampled_from([1, 2, 4, 8, 16, 32]),
       pad=st.integers(0, 500), u0=st.integers(0, 40), n=st.integers(1, 6))
def test_stride_box_is_centred_on_the_cell_centres(size, jump, pad, u0, n) -> None:
    field = FieldInfo(size=(size, size), stride=(jump, jump), padding=(pad, pad))
    box = field.stride_box((u0, u0 + n), (u0, u0 + n))
    first, last = field.center(u0, u0)[0], field.center(u0 + n - 1, u0 + n - 1)[0]
    assert box.height == n * jump
    assert abs((box.top + box.bottom) / 2 - (first + last + 1 * (jump == 1)) / 2) <= 0.5
    assert box.top <= first < box.top + jump and box.bottom - jump <= last < box.bottom


# ---------------------------------------------------------------- output stride change

@settings(max_examples=60, deadline=None)
@given(st.sampled_from([(32, 16), (16, 8), (8, 32), (16, 32), (8, 16)]),
       st.integers(64, 700), st.integers(64, 700), st.data())
def test_an_output_stride_change_keeps_the_point_over_the_same_pixel(strides, h, w, data):
    from pyramidviz.backbones import tap_info

    old, new = (tap_info(s, "stage7", (h, w)) for s in strides)
    fh, fw = old.feature_size
    cell = (data.draw(st.integers(0, fh - 1)), data.draw(st.integers(0, fw - 1)))
    y, x = old.field.center(*cell)
    moved = new.field.nearest_cell(y, x, new.feature_size)
    # Nearest: no cell of the new map has a centre closer to the old centre, per axis.
    for axis, (value, n) in enumerate(zip((y, x), new.feature_size, strict=True)):
        centres = [new.field.center(u, u)[axis] for u in range(n)]
        best = min(abs(c - value) for c in centres)
        assert abs(centres[moved[axis]] - value) == best
    if new.stride < old.stride:  # a finer map has a centre within half its stride
        cy, cx = new.field.center(*moved)
        assert abs(cy - y) <= new.stride / 2 and abs(cx - x) <= new.stride / 2
    # Keeping the index instead would move the point by up to the whole photo.
    assert new.field.nearest_cell(*new.field.center(*moved), new.feature_size) == moved


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([(32, 16), (16, 8), (8, 32), (16, 16)]),
       st.sampled_from(["stage4", "stage7"]), st.integers(64, 700), st.integers(64, 700))
def test_the_carry_tables_move_every_cell_to_its_nearest_cell(strides, tap, h, w):
    """What a browser view looks its cell up in equals nearest_cell of the cell's centre."""
    from pyramidviz.backbones import tap_info

    old, new = (tap_info(s, tap, (h, w)) for s in strides)
    rows, cols = old.field.carry(old.feature_size, new.field, new.feature_size)
    assert (len(rows), len(cols)) == old.feature_size
    for row in range(old.feature_size[0]):
        for col in range(0, old.feature_size[1], 3):
            moved = new.field.nearest_cell(*old.field.center(row, col), new.feature_size)
            assert (rows[row], cols[col]) == moved
    assert list(rows) == sorted(rows) and list(cols) == sorted(cols)  # order is kept
    if strides[0] == strides[1]:
        assert rows == tuple(range(len(rows))) and cols == tuple(range(len(cols)))


def test_whole_image_cells_equal_a_count_over_every_cell_box():
    from pyramidviz.backbones import tap_info
    from pyramidviz.receptive import Box

    for (H, W), expected in (((512, 512), (441, 1024)), ((427, 640), (338, 1080)),
                             ((1200, 1600), None)):
        info = tap_info(16, "stage7", (H, W))
        h, w = info.feature_size
        brute = sum(info.field.cell_box(i, j, image_size=(H, W)) == Box(0, 0, H, W)
                    for i in range(h) for j in range(w))
        assert info.field.whole_image_cells((h, w), (H, W)) == brute
        if expected:
            assert (brute, h * w) == expected
        else:
            assert brute == 0  # a large upload: no cell sees the whole photo


def test_stride_box_is_centred_on_the_cell_centre_under_tf_same_padding():
    """Issue 12, item 6: at stride 32 the naive tile [u j, (u + 1) j) sits off the cell centre
    (13.5 px across, 4.5 px down on Chelsea); the stride box is centred on it (to half a
    pixel)."""
    from pyramidviz.backbones import tap_info

    info = tap_info(32, "stage7", (300, 451))
    h, w = info.feature_size
    offsets = set()
    for u in range(h):
        for v in range(w):
            box = info.field.stride_box((u, u + 1), (v, v + 1))
            cy, cx = info.field.center(u, v)
            assert abs((box.top + box.bottom - 1) / 2 - cy) <= 0.5
            assert abs((box.left + box.right - 1) / 2 - cx) <= 0.5
            assert (box.height, box.width) == (32, 32)
            offsets.add((cy - (u * 32 + 15.5), cx - (v * 32 + 15.5)))  # naive tile's middle
    assert offsets == {(-4.5, -13.5)}
