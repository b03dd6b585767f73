"""google-research/receptive_field's own test cases, ported to torch and checked three ways.

The reference implementation behind Araujo, Norris and Sim (Distill 2019) tests itself on
nine small TF-Slim graphs and a Keras twin (``receptive_field_computation_test.py``), on
the parameters it parses per layer (``parse_layer_parameters_test.py``) and publishes a
table of TF-Slim models (``README.md``). Each case here is rebuilt as a torch module (no
TensorFlow) and read through

(a) :func:`pyramidviz.tracing.layers_of` on the module,
(b) :func:`pyramidviz.networks.from_onnx` on a hand-built ONNX graph or the module's
    export, and
(c) a gradient: the input pixels an output cell depends on (positive weights, max pools
    measured as average pools of the same window), where that is cheap.

TF-Slim's padding words map to torch as: "VALID" = no padding; ``tf.pad`` / Keras
``ZeroPadding2D`` = ``nn.ZeroPad2d``; "SAME" = TF "SAME" (``backbones.Conv2dSame``, and
:class:`PoolSame` here: ``total // 2`` before, the rest after); ``conv2d_same`` (TF-Slim
ResNet's strided convs) = symmetric ``(k - 1) // 2``. Where the reference returns
``None`` (a "SAME" padding on an input of unknown size) pyramidviz refuses the file.
"""

from __future__ import annotations

import io
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from torch import nn

from pyramidviz import netmodels, networks
from pyramidviz.backbones import Conv2dSame
from pyramidviz.onnxgraph import OnnxError
from pyramidviz.receptive import FieldInfo, Layer, merge, receptive_field, step
from pyramidviz.tracing import layers_of


def export(module: nn.Module, hw: tuple[int, int], channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, channels, *hw),), buffer,
                          dynamo=False, input_names=["image"])
    return buffer.getvalue()


class PoolSame(nn.Module):
    """A pool with TF "SAME" padding (zeros: the geometry, not the values, matters here)."""

    def __init__(self, k: int, s: int, pool=nn.MaxPool2d) -> None:
        super().__init__()
        self.k, self.s, self.pool = k, s, pool(k, s)

    def forward(self, x):
        th, tw = (max((math.ceil(i / self.s) - 1) * self.s + self.k - i, 0)
                  for i in x.shape[-2:])
        return self.pool(F.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2)))


def conv(k, s=1, *, same: bool = False) -> nn.Module:
    return Conv2dSame(1, 1, k, stride=s) if same else nn.Conv2d(1, 1, k, s)


def pad_before(top_left: int = 1) -> nn.Module:
    """``tf.pad(x, [[0, 0], [1, 0], [1, 0], [0, 0]])``: one row on top, one column left."""
    return nn.ZeroPad2d((top_left, 0, top_left, 0))


class Add(nn.Module):
    """``relu(left(x) + right(x))``; ``check`` runs on the left branch's output only."""

    def __init__(self, left: nn.Module, right: nn.Module, check=None) -> None:
        super().__init__()
        self.left, self.right, self.check = left, right, check

    def forward(self, x):
        left = self.left(x)
        if self.check is not None:
            self.check(left)
        return torch.relu(left + self.right(x))


def _net_1(pool=nn.MaxPool2d, *, window=None, check=None, right_tail=()) -> nn.Module:
    """Test network 1: L1 (1x1 /4) beside pad-L2 (3x3 /2) -L3 (1x1 /2)."""
    window = window or (lambda k, s: conv(k, s))
    right = nn.Sequential(pad_before(), window(3, 2), window(1, 2), *right_tail)
    return Add(conv(1, 4), right, check)


def _assert_is_2(left):
    if left.shape[-1] != 2:  # the reference's tf.Assert on the left branch (an 8x8 input)
        raise AssertionError(left.shape)


def _net_8(*, same: bool = False, keras: bool = False) -> nn.Module:
    """Test network 8 (9: every padding "SAME"; Keras: L3 "same")."""
    if same:
        first = Add(conv(1, 4, same=True), nn.Sequential(conv(3, 2, same=True),
                                                         conv(1, 2, same=True)))
        second = Add(conv(1, 2, same=True), conv(3, 2, same=True))
    else:
        first = Add(conv(1, 4), nn.Sequential(pad_before(), conv(3, 2), conv(1, 2, same=keras)))
        second = Add(conv(1, 2), nn.Sequential(pad_before(), conv(3, 2)))
    return nn.Sequential(first, second)


# name: (module builder, input size, expected (size, stride, padding) or an error code)
CASES = {
    "1 aligned": (lambda pool: _net_1(), (32, 32), ((3, 3), (4, 4), (1, 1))),
    "2 max pools": (lambda pool: _net_1(window=lambda k, s: pool(k, s)), (32, 32),
                    ((3, 3), (4, 4), (1, 1))),
    "3 misaligned": (lambda pool: Add(nn.Sequential(nn.ZeroPad2d((2, 1, 2, 1)), conv(5, 2)),
                                      nn.Sequential(conv(3), conv(3))), (8, 8), "misaligned"),
    "4 SAME at 9x9": (lambda pool: Add(conv(1, 4), nn.Sequential(conv(3, 2, same=True),
                                                                 conv(1, 2))), (9, 9),
                      ((3, 3), (4, 4), (1, 1))),
    "4 SAME at 8x8": (lambda pool: Add(conv(1, 4), nn.Sequential(conv(3, 2, same=True),
                                                                 conv(1, 2))), (8, 8),
                      "misaligned"),
    "5 non-square": (lambda pool: nn.Sequential(nn.Conv2d(1, 1, (3, 5), 2),
                                                nn.Conv2d(1, 1, (3, 1), 2), nn.ReLU()),
                     (33, 33), ((7, 5), (4, 4), (0, 0))),
    "6 dropout": (lambda pool: _net_1(right_tail=(nn.Dropout(),)), (32, 32),
                  ((3, 3), (4, 4), (1, 1))),
    "7 shape check": (lambda pool: _net_1(check=_assert_is_2), (8, 8),
                      ((3, 3), (4, 4), (1, 1))),
    "8 intermediate add": (lambda pool: _net_8(), (64, 64), ((11, 11), (8, 8), (5, 5))),
    "8 Keras": (lambda pool: _net_8(keras=True), (64, 64), ((11, 11), (8, 8), (5, 5))),
    "9 SAME at 17x17": (lambda pool: _net_8(same=True), (17, 17), ((11, 11), (8, 8), (5, 5))),
}
"""Test networks 1-9 and the Keras one of ``receptive_field_computation_test.py``, with
the numbers its tests assert. The reference reads them at an unknown input size; torch
runs them, so each gets a size where its branches' maps are the same size."""


def _routes(name: str):
    build, hw, expected = CASES[name]
    return build(nn.MaxPool2d), hw, expected


def _field(layers) -> tuple:
    f = receptive_field(layers)[-1]
    return f.size, f.stride, f.padding


@pytest.mark.parametrize("name", list(CASES))
def test_reference_network_through_layers_of(name):
    module, hw, expected = _routes(name)
    if isinstance(expected, str):
        with pytest.raises(OnnxError, match="not aligned") as info:
            layers_of(module, (1, 1, *hw))
        assert info.value.code == expected
    else:
        assert _field(layers_of(module, (1, 1, *hw))) == expected


@pytest.mark.parametrize("name", list(CASES))
def test_reference_network_through_an_onnx_export(name):
    module, hw, expected = _routes(name)
    if isinstance(expected, str):
        with pytest.raises(OnnxError) as info:
            networks.from_onnx(export(module, hw))
        assert info.value.code == expected
    else:
        assert _field(networks.from_onnx(export(module, hw))) == expected


@pytest.mark.parametrize("name", [n for n, case in CASES.items() if not isinstance(case[2],
                                                                                     str)])
def test_reference_network_against_the_gradient(name):
    """The centre cell's field box is where its gradient is non-zero (max pools measured
    as average pools of the same window)."""
    build, hw, expected = CASES[name]
    module = netmodels.randomize_(build(nn.AvgPool2d))
    field = FieldInfo(*expected)
    box, (h, w) = netmodels.measured_box(module, hw, in_channels=1)
    assert box == field.cell_box(h // 2, w // 2, image_size=hw)
    assert field.cell_box(h // 2, w // 2) == box  # inside the image: not clipped


def test_reference_network_4_on_an_input_of_unknown_size_is_refused():
    """The reference returns padding None; a file whose "SAME" depends on a size it does
    not fix is refused."""
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "H", "W"])
    weight = [helper.make_tensor(n, TensorProto.FLOAT, [1, 1, k, k], [1.0] * k * k)
              for n, k in (("w1", 1), ("w2", 3), ("w3", 1))]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["l1"], strides=[4, 4]),
             helper.make_node("Conv", ["x", "w2"], ["l2"], strides=[2, 2], auto_pad="SAME_UPPER"),
             helper.make_node("Conv", ["l2", "w3"], ["l3"], strides=[2, 2]),
             helper.make_node("Add", ["l1", "l3"], ["out"])]
    graph = helper.make_graph(nodes, "net4", [image], [helper.make_tensor_value_info(
        "out", TensorProto.FLOAT, None)], initializer=weight)
    with pytest.raises(OnnxError, match="SAME_UPPER") as info:
        networks.from_onnx(helper.make_model(graph).SerializeToString())
    assert info.value.code == "dynamic"


def test_reference_coordinates_round_trip():
    """``compute_feature_coordinates`` then ``compute_input_center_coordinates`` is the
    identity: here a cell's centre pixel maps back to the cell (network 1's field)."""
    field = receptive_field(layers_of(_net_1(), (1, 1, 400, 400)))[-1]
    for u in range(0, 100, 7):
        for v in range(0, 100, 11):
            assert field.nearest_cell(*field.center(u, v), (100, 100)) == (u, v)
    assert field.center(0, 0) == (0.0, 0.0)  # (r - 1) / 2 - P = 0: aligned at pixel 0


# ---------------------------------------------------------------- parse_layer_parameters_test


def _one(layer_module: nn.Module, hw: int) -> tuple[Layer, tuple[int, int]]:
    """The one Layer torch's module gives and its output size."""
    (layer,) = layers_of(layer_module, (1, 1, hw, hw))
    size = tuple(layer_module(torch.zeros(1, 1, hw, hw)).shape[-2:])
    return layer, size


def _cells(layer: Layer, hw: int, total: int) -> int:
    """Cells a layer leaves on ``hw`` pixels padded by ``total`` in all (before + after)."""
    return (hw + total - layer.effective_kernel[0]) // layer.stride[0] + 1


# (kernel, stride, padding before, total padding) at an input of 4 (even) and 5 (odd),
# the reference's tuples (x and y are equal in every case).
LAYER_PARAMETERS = {
    "L1 1x1 /4 VALID": (lambda: conv(1, 4), {4: (1, 4, 0, 0)}),
    "L2 3x3 /2 VALID": (lambda: conv(3, 2), {4: (3, 2, 0, 0)}),
    "L3 max pool 3x3 /2 SAME": (lambda: PoolSame(3, 2), {4: (3, 2, 0, 1), 5: (3, 2, 1, 2)}),
    "L5 1x1 /2 SAME": (lambda: conv(1, 2, same=True), {4: (1, 2, 0, 0)}),
    "L6 3x3 /2 SAME": (lambda: conv(3, 2, same=True), {4: (3, 2, 0, 1), 5: (3, 2, 1, 2)}),
}


@pytest.mark.parametrize("name", list(LAYER_PARAMETERS))
def test_reference_layer_parameters_through_layers_of(name):
    build, sizes = LAYER_PARAMETERS[name]
    for hw, (k, s, p, total) in sizes.items():
        layer, out = _one(build(), hw)
        assert (layer.kernel, layer.stride, layer.padding) == ((k, k), (s, s), (p, p))
        assert out == (_cells(layer, hw, total),) * 2, (name, hw)  # the padding after


@pytest.mark.parametrize("name", list(LAYER_PARAMETERS))
def test_reference_layer_parameters_through_onnx_nodes(name):
    """The same layers as single ONNX nodes, "SAME" written as ``auto_pad=SAME_UPPER``."""
    build, sizes = LAYER_PARAMETERS[name]
    op = "MaxPool" if "pool" in name else "Conv"
    for hw, (k, s, p, _total_padding) in sizes.items():
        auto = "SAME_UPPER" if "SAME" in name else "VALID"
        image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, hw, hw])
        inputs = ["x"] if op == "MaxPool" else ["x", "w"]
        node = helper.make_node(op, inputs, ["y"], kernel_shape=[k, k], strides=[s, s],
                                auto_pad=auto)
        inits = [] if op == "MaxPool" else [helper.make_tensor("w", TensorProto.FLOAT,
                                                               [1, 1, k, k], [1.0] * k * k)]
        graph = helper.make_graph([node], "g", [image], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], initializer=inits)
        (layer,) = networks.from_onnx(helper.make_model(graph).SerializeToString())
        assert (layer.kernel, layer.stride, layer.padding) == ((k, k), (s, s), (p, p))


def test_reference_layer_parameters_pad_and_relu():
    """``L2_pad`` (kernel 1, stride 1, padding 1, total 1) joins the conv after it; the
    ReLU (``L4_relu``: 1, 1, 0, 0) is no layer at all."""
    module = nn.Sequential(pad_before(), nn.ReLU(), conv(3, 2))
    (layer,) = layers_of(module, (1, 1, 8, 8))
    assert (layer.kernel, layer.stride, layer.padding) == ((3, 3), (2, 2), (1, 1))
    alone = layers_of(nn.Sequential(pad_before(), nn.ReLU()), (1, 1, 8, 8))
    assert [(x.kernel, x.stride, x.padding) for x in alone] == [((1, 1), (1, 1), (1, 1))]


def _parse_test_network(*, keras: bool = False, pool=nn.MaxPool2d) -> nn.Module:
    """The whole network of ``parse_layer_parameters_test.py`` (L1 ... L7_add)."""
    first = Add(conv(1, 4), nn.Sequential(pad_before(), conv(3, 2), PoolSame(3, 2, pool)))
    second = Add(conv(1, 2, same=True), conv(3, 2, same=True))
    return nn.Sequential(first, second)


def test_the_parse_test_network_aligns_only_where_its_same_pool_pads_1_before():
    """At 224 the "SAME" pool pads 0 before on its 112 x 112 input and the branches are
    centred 2 pixels apart (refused, as the reference refuses misaligned graphs); at 226 it
    pads 1 before on 113 x 113 and the graph is aligned: 15 / 8 / 7, as the gradient shows."""
    with pytest.raises(OnnxError, match="not aligned") as info:
        layers_of(_parse_test_network(), (1, 1, 224, 224))
    assert info.value.code == "misaligned"
    field = receptive_field(layers_of(_parse_test_network(), (1, 1, 226, 226)))[-1]
    assert (field.size, field.stride, field.padding) == ((15, 15), (8, 8), (7, 7))
    assert field == receptive_field(networks.from_onnx(export(_parse_test_network(),
                                                              (226, 226))))[-1]
    module = netmodels.randomize_(_parse_test_network(pool=nn.AvgPool2d))
    box, _ = netmodels.measured_box(module, (226, 226), (14, 14), in_channels=1)
    assert box == field.cell_box(14, 14)


# ---------------------------------------------------------------- README table (TF-Slim)


class SlimBottleneck(nn.Module):
    """TF-Slim ``resnet_v1`` bottleneck: 1x1, 3x3 ``conv2d_same`` (stride), 1x1; the
    shortcut is a 1x1 projection in a block's first unit, else a 1x1 max pool of the
    unit's stride ("subsample"), else the identity."""

    def __init__(self, c: int, stride: int, first: bool, pool) -> None:
        super().__init__()
        self.conv1, self.conv3 = nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 1)
        self.conv2 = nn.Conv2d(c, c, 3, stride, 1)
        self.shortcut = (nn.Conv2d(c, c, 1, stride) if first else
                         pool(1, stride) if stride > 1 else nn.Identity())

    def forward(self, x):
        y = self.conv3(torch.relu(self.conv2(torch.relu(self.conv1(x)))))
        return torch.relu(y + self.shortcut(x))


def slim_resnet(units: tuple[int, ...], *, pool=nn.MaxPool2d, c: int = 1) -> nn.Module:
    """``resnet_v1_<depth>``: the stride of blocks 2-4 sits in the last unit of the block
    before (TF-Slim), the root is a 7x7/2 ``conv2d_same`` and a 3x3/2 "SAME" max pool."""
    layers: list[nn.Module] = [nn.Conv2d(1, c, 7, 2, 3), PoolSame(3, 2, pool)]
    for block, count in enumerate(units):
        for i in range(count):
            stride = 2 if i == count - 1 and block < len(units) - 1 else 1
            layers.append(SlimBottleneck(c, stride, i == 0, pool))
    return nn.Sequential(*layers)


def slim_chain(layers: list[Layer], pool=nn.MaxPool2d, *, same_pools=()) -> nn.Module:
    """A single-path TF-Slim net: convs as given, the named layers as "SAME" max pools."""
    modules = [PoolSame(x.kernel[0], x.stride[0], pool) if x.name in same_pools else
               nn.Conv2d(1, 1, x.kernel, x.stride, x.padding, x.dilation) for x in layers]
    return nn.Sequential(*modules)


def _alexnet_v2():
    layers = networks.alexnet()
    return [Layer(11, 4, 0, name="conv1"), *layers[1:]]  # VALID conv1


def _mobilenet_v1_same():
    """Every MobileNetV1 conv is TF "SAME": at 224 a 3x3/2 pads 0 before, a 3x3/1 pads 1."""
    return [Layer(x.kernel, x.stride, x.padding, name=x.name)
            for x in networks.mobilenet_v1(same_padding=True)]


TABLE = {
    "alexnet_v2": (lambda pool: slim_chain(_alexnet_v2()), (195, 32, 64)),
    "vgg_16": (lambda pool: slim_chain(networks.vgg16()), (212, 32, 90)),
    "mobilenet_v1": (lambda pool: slim_chain(_mobilenet_v1_same()), (315, 32, 126)),
    "mobilenet_v1_075": (lambda pool: slim_chain(_mobilenet_v1_same()), (315, 32, 126)),
    "resnet_v1_50": (lambda pool: slim_resnet((3, 4, 6, 3), pool=pool), (483, 32, 239)),
    "resnet_v1_101": (lambda pool: slim_resnet((3, 4, 23, 3), pool=pool), (1027, 32, 511)),
    "resnet_v1_152": (lambda pool: slim_resnet((3, 8, 36, 3), pool=pool), (1507, 32, 751)),
    "resnet_v1_200": (lambda pool: slim_resnet((3, 24, 36, 3), pool=pool), (1763, 32, 879)),
}
"""The README's table of TF-Slim models at 224 x 224 (receptive field, effective stride,
effective padding; mobilenet_v1_075 only has fewer channels). The Inception models of
the table are not ported."""


@pytest.mark.parametrize("name", list(TABLE))
def test_readme_table_through_layers_of_and_onnx(name):
    build, expected = TABLE[name]
    module = build(nn.MaxPool2d)
    for layers in (layers_of(module, (1, 1, 224, 224)),
                   networks.from_onnx(export(module, (224, 224)))):
        size, stride, padding = _field(layers)
        assert (size[0], stride[0], padding[0]) == expected, name
        assert size[0] == size[1] and padding[0] == padding[1]


@pytest.mark.parametrize("name", ["alexnet_v2", "vgg_16", "mobilenet_v1", "resnet_v1_50"])
def test_readme_table_against_the_gradient(name):
    """The centre cell's gradient spans the published field along a tall input's rows
    (224 wide: the TF-"SAME" paddings of the table's input along the columns)."""
    build, (r, j, p) = TABLE[name]
    height = r + 4 * j + 32 * 7  # a multiple of 32 above 224: "SAME" pads as at 224
    height += (224 - height) % 32
    module = netmodels.randomize_(build(nn.AvgPool2d))
    field = receptive_field(layers_of(build(nn.MaxPool2d), (1, 1, height, 224)))[-1]
    assert (field.size[0], field.stride[0], field.padding[0]) == (r, j, p)
    box, (h, w) = netmodels.measured_box(module, (height, 224), in_channels=1)
    expected = field.cell_box(h // 2, w // 2)
    assert (box.top, box.bottom) == (expected.top, expected.bottom), name
    assert 0 <= expected.top and expected.bottom <= height


# ---------------------------------------------------------------- random two-branch graphs


_ODD_MOSTLY = st.sampled_from([1, 3, 5, 1, 3, 2, 4])
_CONV = st.tuples(_ODD_MOSTLY, _ODD_MOSTLY, st.integers(1, 2), st.booleans(),
                  st.integers(0, 3), st.integers(0, 3))


def _branch_conv(spec) -> tuple[nn.Module, Layer]:
    """A stride-1 conv that keeps the map's size: ``ZeroPad2d`` before (centred, or
    shifted by the drawn amounts), the rest after, then a VALID conv."""
    kh, kw, d, centred, sh, sw = spec
    spans = (d * (kh - 1), d * (kw - 1))
    top, left = ((s // 2 for s in spans) if centred else
                 (min(sh, spans[0]), min(sw, spans[1])))
    pad = nn.ZeroPad2d((left, spans[1] - left, top, spans[0] - top))
    return (nn.Sequential(pad, nn.Conv2d(1, 1, (kh, kw), dilation=d)),
            Layer((kh, kw), 1, (top, left), d))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stem=st.tuples(st.integers(1, 5), st.integers(1, 2)),
       a=st.lists(_CONV, min_size=1, max_size=2), b=st.lists(_CONV, min_size=0, max_size=2),
       tail=st.tuples(st.integers(1, 3), st.integers(1, 2)))
@example(stem=(3, 2), a=[(1, 7, 1, True, 0, 0)], b=[(5, 1, 1, True, 0, 0)], tail=(3, 1))
def test_hypothesis_two_branch_graphs_merge_per_axis_as_the_gradient_shows(stem, a, b, tail):
    """stem -> (branch a + branch b) -> tail: the field is the per-axis merge of the two
    paths' chains, or a refusal exactly when their centres differ; the gradient agrees."""
    (ks, ss), (kt, st_) = stem, tail
    a_mods, a_layers = zip(*map(_branch_conv, a), strict=True)
    b_mods, b_layers = (zip(*map(_branch_conv, b), strict=True) if b else ((), ()))
    stem_layer, tail_layer = Layer(ks, ss, (ks - 1) // 2), Layer(kt, st_, (kt - 1) // 2)
    module = nn.Sequential(
        nn.Conv2d(1, 1, ks, ss, (ks - 1) // 2),
        Add(nn.Sequential(*a_mods), nn.Sequential(*b_mods)),
        nn.Conv2d(1, 1, kt, st_, (kt - 1) // 2))
    branches = [receptive_field([stem_layer, *chain])[-1] for chain in (a_layers, b_layers)
                if chain] + ([] if b else [receptive_field([stem_layer])[-1]])
    hw = (72, 72)
    try:
        expected = step(merge(branches, name="add"), tail_layer)
    except ValueError:
        event("misaligned")
        for route in (lambda: layers_of(module, (1, 1, *hw)),
                      lambda: networks.from_onnx(export(module, hw))):
            with pytest.raises(OnnxError, match="not aligned"):
                route()
        return
    (f, g) = branches if len(branches) == 2 else branches * 2
    event("aligned, winners differ per axis" if (f.size[0] - g.size[0]) * (
        f.size[1] - g.size[1]) < 0 else "aligned")
    assert receptive_field(layers_of(module, (1, 1, *hw)))[-1] == expected
    assert receptive_field(networks.from_onnx(export(module, hw)))[-1] == expected
    box, (h, w) = netmodels.measured_box(netmodels.randomize_(module), hw, in_channels=1)
    cell = (h // 2, w // 2)
    assert box == expected.cell_box(*cell, image_size=hw)
    if expected.cell_box(*cell) == expected.cell_box(*cell, image_size=hw):
        assert box == expected.cell_box(*cell)
