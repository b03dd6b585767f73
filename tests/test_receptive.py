"""Tests for pyramidviz.receptive: hand cases, published networks, gradients."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pyramidviz.receptive import (
    Box,
    FieldInfo,
    Layer,
    image_box_to_cells,
    layers_of,
    receptive_field,
)


class TFSameConv2d(nn.Conv2d):
    """TensorFlow "SAME" conv: pads total // 2 before, the extra pixel after, in forward."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, padding=0, **kwargs)

    def _totals(self, input_hw: tuple[int, int]) -> list[int]:
        return [
            max((math.ceil(i / s) - 1) * s + d * (k - 1) + 1 - i, 0)
            for i, s, k, d in zip(input_hw, self.stride, self.kernel_size, self.dilation,
                                  strict=True)
        ]

    def same_padding(self, input_hw: tuple[int, int]) -> tuple[int, int]:
        th, tw = self._totals(input_hw)
        return th // 2, tw // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        th, tw = self._totals(tuple(x.shape[-2:]))
        x = F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
        return super().forward(x)


# ---------------------------------------------------------------- hand cases

def test_single_3x3_conv_sees_3_pixels() -> None:
    (field,) = receptive_field([Layer(3, padding=1)])
    assert field == FieldInfo(size=(3, 3), jump=(1, 1), padding=(1, 1))
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
        assert field.size == (size, size) and field.jump == (jump, jump)


def test_rectangular_kernels_and_asymmetric_pairs() -> None:
    fields = receptive_field([Layer((1, 7), stride=(1, 2), padding=(0, 3)), Layer((5, 1))])
    assert fields[-1] == FieldInfo(size=(5, 7), jump=(1, 2), padding=(0, 3))


def test_block_and_stride_boxes() -> None:
    field = FieldInfo(size=(5, 5), jump=(2, 2), padding=(2, 2))
    assert field.block_box((0, 3), (1, 2)) == Box(-2, 0, 7, 5)
    assert field.block_box((0, 3), (1, 2), image_size=(4, 4)) == Box(0, 0, 4, 4)
    assert field.stride_box((1, 3), (0, 2), image_size=(5, 9)) == Box(2, 0, 5, 4)
    glob = FieldInfo(size=(9, 9), jump=(8, 8), padding=(0, 0), global_=True)
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
    assert (conv5_3.size, conv5_3.jump) == ((196, 196), (16, 16))
    assert (pool5.size, pool5.jump, pool5.padding) == ((212, 212), (32, 32), (90, 90))
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
    assert (fields[-2].jump, fields[-1].jump) == ((16, 16), (32, 32))


# ---------------------------------------------------------------- layers_of

@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_layers_of_equals_hand_typed_list() -> None:
    net = nn.Sequential(
        nn.ZeroPad2d((1, 2, 3, 4)),
        nn.Conv2d(3, 4, (3, 5), stride=2, padding=(1, 2), dilation=(1, 2)),
        nn.Sequential(nn.Conv2d(4, 4, 4, padding="same"), nn.BatchNorm2d(4), nn.ReLU()),
        nn.MaxPool2d(3),
        nn.AvgPool2d(2, stride=1, padding=1),
        nn.AdaptiveAvgPool2d(1),
    )
    assert layers_of(net, (2, 3, 40, 50)) == [
        Layer(1, padding=(3, 1), name="0"),
        Layer((3, 5), stride=2, padding=(1, 2), dilation=(1, 2), name="1"),
        Layer(4, padding=1, name="2.0"),  # torch "same": total 3, 1 before
        Layer(3, stride=3, name="3"),
        Layer(2, padding=1, name="4"),
        Layer(9, stride=9, name="5", global_pool=True),  # 40x50 -> 47x53 -> 24x25 -> 8x8 -> 9x9
    ]


def test_layers_of_adaptive_pool_uses_widest_window() -> None:
    layers = layers_of(nn.AdaptiveMaxPool2d((3, 2)), (1, 1, 5, 8))
    # bins of 5 into 3: [0,2) [1,4) [3,5) -> widest 3; 8 into 2: exact 4
    assert layers == [Layer((3, 4), stride=(1, 4), name="")]
    assert not layers[0].global_pool


def test_layers_of_uses_same_padding_protocol() -> None:
    net = nn.Sequential(TFSameConv2d(3, 2, 3, stride=2), TFSameConv2d(2, 2, 5))
    assert layers_of(net, (1, 3, 224, 224)) == [
        Layer(3, stride=2, padding=0, name="0"),  # total 1: nothing before, 1 after
        Layer(5, padding=2, name="1"),
    ]
    assert layers_of(net, (1, 3, 225, 224))[0].padding == (1, 0)  # total 2 on rows


def test_layers_of_leaves_module_untouched() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout())
    net[2].eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    layers_of(net, (1, 3, 9, 9))
    assert net.training and not net[2].training and net[1].training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert not net[0]._forward_hooks


def test_layers_of_removes_hooks_when_forward_fails() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(5, 4, 3))  # channel mismatch
    with pytest.raises(RuntimeError):
        layers_of(net, (1, 3, 9, 9))
    assert not net[0]._forward_hooks and not net[1]._forward_hooks


def test_layers_of_rejects_bad_shape() -> None:
    with pytest.raises(ValueError, match="input_shape"):
        layers_of(nn.Conv2d(3, 3, 3), (3, 9, 9))


# ---------------------------------------------------------------- gradient check

_LAYER = st.tuples(
    st.integers(1, 5),  # kernel
    st.integers(1, 3),  # stride (capped at the kernel below)
    st.integers(1, 3),  # dilation
    st.booleans(),  # TF-SAME (asymmetric) or torch symmetric padding
    st.integers(0, 6),  # torch padding, capped at (k_eff - 1) // 2
)


def _build(spec: list, hw: tuple[int, int]) -> tuple[nn.Sequential, bool] | None:
    """Conv/avg-pool stack, and whether its field has no holes; None if output is empty."""
    mods, (h, w), r, j, solid = [], hw, 1, 1, True
    for i, (k, s, d, same, p) in enumerate(spec):
        s, keff = min(s, k), d * (k - 1) + 1
        solid &= d * j <= r  # neighbouring taps' fields touch: no holes
        if same:
            mods.append(TFSameConv2d(2 if i else 1, 2, k, stride=s, dilation=d))
            h, w = -(-h // s), -(-w // s)
        else:
            p = min(p, (keff - 1) // 2)
            mods.append(nn.Conv2d(2 if i else 1, 2, k, stride=s, padding=p, dilation=d))
            h, w = (h + 2 * p - keff) // s + 1, (w + 2 * p - keff) // s + 1
        r, j = r + (keff - 1) * j, j * s
        if min(h, w) < 1:
            return None
    return nn.Sequential(*mods).double(), solid


def _support(net: nn.Module, hw: tuple[int, int], row: int, col: int) -> torch.Tensor:
    torch.manual_seed(0)
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)  # positive: no accidental cancellation
            nn.init.zeros_(m.bias)
    x = torch.randn(1, 1, *hw, dtype=torch.float64, requires_grad=True)
    net(x)[0, :, row, col].sum().backward()
    return x.grad[0, 0] != 0


@settings(max_examples=60, deadline=None)
@given(st.lists(_LAYER, min_size=1, max_size=4), st.integers(8, 40), st.integers(8, 40))
def test_gradient_support_matches_cell_box(spec: list, h: int, w: int) -> None:
    built = _build(spec, (h, w))
    if built is None:
        return
    net, solid = built
    field = receptive_field(layers_of(net, (1, 1, h, w)))[-1]
    out_h, out_w = net(torch.zeros(1, 1, h, w, dtype=torch.float64)).shape[-2:]
    for row, col in {(0, 0), (out_h // 2, out_w // 2), (out_h - 1, out_w - 1)}:
        support = _support(net, (h, w), row, col)
        box = field.cell_box(row, col, image_size=(h, w))
        inside = torch.zeros_like(support)
        inside[box.top:box.bottom, box.left:box.right] = True
        assert not (support & ~inside).any(), "gradient outside the receptive field"
        unclipped = field.cell_box(row, col)
        if solid and unclipped == box or solid and (row, col) == (0, 0):
            assert torch.equal(support, inside), "field box not filled"


def test_gradient_check_sees_tf_same_offset() -> None:
    """The TF-SAME extra pixel is after: a stride-2 3x3 cell 0 sees rows [0, 2), not [-1, 2)."""
    net = nn.Sequential(TFSameConv2d(1, 1, 3, stride=2)).double()
    field = receptive_field(layers_of(net, (1, 1, 8, 8)))[-1]
    assert field.cell_box(1, 1) == Box(2, 2, 5, 5)
    assert field.center(3, 0) == (7.0, 1.0)
    support = _support(net, (8, 8), 1, 1)
    assert support.nonzero().amin(0).tolist() == [2, 2]
    assert support.nonzero().amax(0).tolist() == [4, 4]


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
