"""Tests for pyramidviz.tracing: layers_of against hand-typed lists and gradients."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from pyramidviz import receptive
from pyramidviz.receptive import Box, Layer, receptive_field
from pyramidviz.tracing import layers_of

from conftest import ROOT


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
    assert layers_of(net, (2, 3, 40, 50)) == [  # the pad joins the conv after it
        Layer((3, 5), stride=2, padding=(1 + 3, 2 + 1), dilation=(1, 2), name="1"),
        Layer(4, padding=1, name="2.0"),  # torch "same": total 3, 1 before
        Layer(3, stride=3, name="3"),
        Layer(2, padding=1, name="4"),
        Layer(9, stride=9, name="5", global_pool=True),  # 40x50 -> 47x53 -> 24x25 -> 8x8 -> 9x9
    ]


def test_layers_of_adaptive_pool_exact_where_sizes_divide_and_refused_elsewhere() -> None:
    layers = layers_of(nn.AdaptiveMaxPool2d((3, 2)), (1, 1, 6, 8))
    assert layers == [Layer((2, 4), stride=(2, 4), name="")]  # bins of 2 rows, 4 columns
    # 5 rows into 3 bins: [0,2) [1,4) [3,5) have no one stride; no field describes them
    with pytest.raises(ValueError, match=r"torch cannot export .* \(1, 1, 5, 8\)") as info:
        layers_of(nn.AdaptiveMaxPool2d((3, 2)), (1, 1, 5, 8))
    assert "[" not in str(info.value) and len(str(info.value)) < 400


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


def _reached(layers: list, sizes: list, cell: int, axis: int) -> tuple[int, int]:
    """Input pixels an undilated chain's output ``cell`` reads, pulled back layer by layer.

    Each layer reads positions ``[lo s - p, (hi - 1) s - p + k)`` of its input, clipped to
    the ``n`` positions that exist: padding is no pixel, and a stride that does not fit
    leaves the last ``(n + pads - k) % s`` pixels unread (an 8-pixel input, 3 x 3 stride 3:
    pixels 6 and 7). This is the exact support when every kernel is dense (``s <= k``).
    """
    lo, hi = cell, cell + 1
    for layer, size in zip(reversed(layers), reversed(sizes), strict=True):
        k, s, p = layer.kernel[axis], layer.stride[axis], layer.padding[axis]
        lo, hi = max(0, lo * s - p), min(size[axis], (hi - 1) * s - p + k)
    return lo, hi


def _input_sizes(net: nn.Sequential, hw: tuple[int, int]) -> list[tuple[int, int]]:
    sizes, x = [], torch.zeros(1, 1, *hw, dtype=torch.float64)
    for module in net:
        sizes.append(tuple(x.shape[-2:]))
        x = module(x)
    return sizes


@settings(max_examples=60, deadline=None)
@given(st.lists(_LAYER, min_size=1, max_size=4), st.integers(8, 40), st.integers(8, 40))
def test_gradient_support_matches_cell_box(spec: list, h: int, w: int) -> None:
    built = _build(spec, (h, w))
    if built is None:
        return
    net, solid = built
    layers = layers_of(net, (1, 1, h, w))
    field = receptive_field(layers)[-1]
    out_h, out_w = net(torch.zeros(1, 1, h, w, dtype=torch.float64)).shape[-2:]
    undilated = all(d == 1 for _, _, d, _, _ in spec)
    for row, col in {(0, 0), (out_h // 2, out_w // 2), (out_h - 1, out_w - 1)}:
        support = _support(net, (h, w), row, col)
        box = field.cell_box(row, col, image_size=(h, w))
        inside = torch.zeros_like(support)
        inside[box.top:box.bottom, box.left:box.right] = True
        assert not (support & ~inside).any(), "gradient outside the receptive field"
        if undilated:  # dense kernels: the support is the box less what no layer reads
            (top, bottom), (left, right) = (
                _reached(layers, _input_sizes(net, (h, w)), c, axis)
                for axis, c in enumerate((row, col)))
            reached = torch.zeros_like(support)
            reached[top:bottom, left:right] = True
            assert torch.equal(support, reached), "support is not the reached part of the box"
        elif solid and field.cell_box(row, col) == box:  # dilated, no holes, inside the image
            assert torch.equal(support, inside), "field box not filled"


@pytest.mark.parametrize("dropped", [False, True])
def test_pixels_a_stride_leaves_unread_are_outside_the_support(dropped: bool) -> None:
    """The saved counterexample: 3 x 3 stride 3 on 8 pixels reads 0-5; 9 pixels read all."""
    size = 8 if dropped else 9
    net = nn.Sequential(nn.Conv2d(1, 2, 3, stride=3), nn.Conv2d(2, 2, 4, padding=1)).double()
    layers = layers_of(net, (1, 1, size, size))
    box = receptive_field(layers)[-1].cell_box(0, 0, image_size=(size, size))
    assert (box.top, box.bottom) == (0, size)  # the field box covers the whole input
    support = _support(net, (size, size), 0, 0)
    rows = support.any(1).nonzero().flatten().tolist()
    assert rows == list(range(6 if dropped else 9))
    assert _reached(layers, _input_sizes(net, (size, size)), 0, 0) == (0, len(rows))


def test_gradient_check_sees_tf_same_offset() -> None:
    """The TF-SAME extra pixel is after: a stride-2 3x3 cell 0 sees rows [0, 2), not [-1, 2)."""
    net = nn.Sequential(TFSameConv2d(1, 1, 3, stride=2)).double()
    field = receptive_field(layers_of(net, (1, 1, 8, 8)))[-1]
    assert field.cell_box(1, 1) == Box(2, 2, 5, 5)
    assert field.center(3, 0) == (7.0, 1.0)
    support = _support(net, (8, 8), 1, 1)
    assert support.nonzero().amin(0).tolist() == [2, 2]
    assert support.nonzero().amax(0).tolist() == [4, 4]


# ---------------------------------------------------------------- imports

def test_receptive_alone_loads_neither_tracing_nor_torch() -> None:
    code = ("import sys, pyramidviz.receptive\n"
            "print('torch' in sys.modules, 'pyramidviz.tracing' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr
    assert not hasattr(receptive, "layers_of")  # one home: pyramidviz.tracing


def test_layers_of_an_element_wise_module_is_empty_and_the_field_one_pixel() -> None:
    assert layers_of(nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3)), (1, 3, 8, 8)) == []
    assert layers_of(nn.Identity(), (1, 3, 8, 8)) == []


def test_layers_of_follows_the_graph_not_the_call_order() -> None:
    """The strided 1x1 shortcut runs after the main path: the old hook trace appended it
    and multiplied the stride again (9 / 16 / 4 for reference network 1, not 3 / 4 / 1)."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pad, self.l2 = nn.ZeroPad2d((1, 0, 1, 0)), nn.Conv2d(1, 1, 3, 2)
            self.l3, self.l1 = nn.Conv2d(1, 1, 1, 2), nn.Conv2d(1, 1, 1, 4)

        def forward(self, x):
            return self.l3(self.l2(self.pad(x))) + self.l1(x)

    layers = layers_of(Net(), (1, 1, 32, 32))
    assert [x.name for x in layers] == ["l2", "l3"]
    field = receptive_field(layers)[-1]
    assert (field.size, field.stride, field.padding) == ((3, 3), (4, 4), (1, 1))
