"""The network catalogue: published receptive fields, and formula = gradient measurement.

Published values: Araujo, Norris, Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019, Table 1 (TF-Slim models at 224 x 224; the same numbers, with every
end-point and at 321 x 321 too, are in google-research/receptive_field,
receptive_field/RECEPTIVE_FIELD_TABLE.md). Where TF-Slim's layout differs from torchvision's
(alexnet_v2's VALID conv1, TF-Slim ResNet's stride in the last unit of a block and its
"SAME" max pool, MobileNetV1's "SAME" stride-2 convs) the TF-Slim variant is rebuilt from
the same functions and must reproduce the table exactly.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import networks
from pyramidviz.receptive import Layer, receptive_field


def last(layers: list[Layer]) -> tuple[int, int, int]:
    """(field, stride, padding) of the last layer, along the rows."""
    field = receptive_field(layers)[-1]
    assert field.size[0] == field.size[1] and field.stride[0] == field.stride[1]
    return field.size[0], field.stride[0], field.padding[0]


def at(layers: list[Layer], names: list[str]) -> list[tuple[int, int, int]]:
    fields = dict(zip([layer.name for layer in layers], receptive_field(layers), strict=True))
    return [(fields[n].size[0], fields[n].stride[0], fields[n].padding[0]) for n in names]


# ---------------------------------------------------------------- the API the issue names


def test_catalogue_names_and_types():
    nets = networks.catalogue()
    assert {"alexnet", "vgg16", "resnet50", "resnet101", "mobilenet_v2",
            "efficientnet_lite0", "resnet50_os16", "resnet50_os8", "resnet101_os16",
            "resnet101_os8"} <= set(nets)
    for name, layers in nets.items():
        assert layers and all(isinstance(layer, Layer) for layer in layers), name
        assert all(layer.name for layer in layers), name
    nets["vgg16"].clear()  # a fresh copy each call: callers may not spoil the catalogue
    assert len(networks.catalogue()["vgg16"]) == 18


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown network 'resnet18'"):
        networks.network_layers("resnet18")


# ---------------------------------------------------------------- published (Distill Table 1)


def test_vgg16_matches_table_1_at_every_end_point():
    layers = networks.catalogue()["vgg16"]
    assert last(layers) == (212, 32, 90)  # Table 1: vgg_16 212 / 32 / 90
    assert at(layers, ["conv1_1", "pool1", "conv2_1", "pool2", "conv3_2", "pool3", "conv4_2",
                       "pool4", "conv5_2"]) == [
        (3, 1, 1), (6, 2, 2), (10, 2, 4), (16, 4, 6), (32, 4, 14), (44, 8, 18), (76, 8, 34),
        (100, 16, 42), (164, 16, 74)]  # RECEPTIVE_FIELD_TABLE.md, vgg_16 end-points


def test_alexnet_field_and_stride_match_and_valid_conv1_gives_the_published_padding():
    layers = networks.catalogue()["alexnet"]
    assert last(layers) == (195, 32, 66)  # torchvision pads conv1 by 2: 2 + 64
    slim = [dataclasses.replace(layers[0], padding=0), *layers[1:]]  # alexnet_v2: VALID conv1
    assert last(slim) == (195, 32, 64)  # Table 1: alexnet_v2 195 / 32 / 64
    assert at(slim, ["conv1", "pool1", "conv2", "conv3", "conv4", "conv5"]) == [
        (11, 4, 0), (19, 8, 0), (51, 8, 16), (99, 16, 32), (131, 16, 48), (163, 16, 64)]


@pytest.mark.parametrize(("depth", "table"), [
    (50, {224: [(35, 8, 15), (99, 16, 47), (291, 32, 143), (483, 32, 239)],
          321: [(35, 8, 17), (99, 16, 49), (291, 32, 145), (483, 32, 241)]}),
    (101, {224: [(35, 8, 15), (99, 16, 47), (835, 32, 415), (1027, 32, 511)],
           321: [(35, 8, 17), (99, 16, 49), (835, 32, 417), (1027, 32, 513)]}),
])
def test_tf_slim_resnet_layout_reproduces_the_table_at_224_and_321(depth, table):
    """TF-Slim strides in the last unit of blocks 1-3; its "SAME" 3x3/2 max pool pads 0
    before on the 112 x 112 map of a 224 input, 1 on the 161 x 161 map of a 321 input."""
    for size, pool_padding in ((224, 0), (321, 1)):
        layers = networks.resnet_layers(depth, stride_in="last", pool_padding=pool_padding)
        units = networks.RESNET_DEPTHS[depth]
        ends = [f"layer{s}.{n - 1}.conv3" for s, n in enumerate(units, start=1)]
        assert at(layers, ends) == table[size], (depth, size)


def test_torchvision_resnets_stride_first_so_their_fields_are_smaller():
    """torchvision (v1.5) strides in the first unit: 427 and 971, not 483 and 1027."""
    assert last(networks.catalogue()["resnet50"]) == (427, 32, 213)
    assert last(networks.catalogue()["resnet101"]) == (971, 32, 485)


def test_mobilenet_v1_matches_table_1_with_tf_same_padding():
    assert last(networks.mobilenet_v1(same_padding=True)) == (315, 32, 126)  # Table 1
    assert last(networks.catalogue()["mobilenet_v1"]) == (315, 32, 157)  # padding=1 in torch
    slim = networks.mobilenet_v1(same_padding=True)
    assert at(slim, ["Conv2d_0", "Conv2d_1_pointwise", "Conv2d_2_pointwise",
                     "Conv2d_3_pointwise", "Conv2d_9_pointwise"]) == [
        (3, 2, 0), (7, 2, 2), (11, 4, 2), (19, 4, 6), (155, 16, 62)]  # table, 224


def test_mobilenet_v2_by_hand():
    """Sandler et al. Table 2: 17 depthwise 3x3 convs; the strided ones at jumps 2, 4, 8, 16."""
    layers = networks.catalogue()["mobilenet_v2"]
    assert sum(layer.kernel == (3, 3) for layer in layers) == 18  # stem + 17 depthwise
    assert last(layers) == (491, 32, 245)


@pytest.mark.parametrize("depth", [50, 101])
def test_deeplab_output_strides_keep_every_field_and_change_only_the_jump(depth):
    base = receptive_field(networks.catalogue()[f"resnet{depth}"])
    for stride in (16, 8):
        fields = receptive_field(networks.catalogue()[f"resnet{depth}_os{stride}"])
        assert [f.size for f in fields] == [f.size for f in base]
        assert fields[-1].stride == (stride, stride)
    dilations = [layer.dilation[0] for layer in networks.catalogue()[f"resnet{depth}_os8"]]
    assert max(dilations) == 4 and dilations[-2] == 4  # stage 4 at rate 4 (DeepLab v3)


def test_efficientnet_comes_from_the_backbone_module():
    from pyramidviz.backbones import backbone_layers

    assert networks.catalogue()["efficientnet_lite0"] == backbone_layers(32, "head", (224, 224))
    assert networks.network_layers("efficientnet_lite0_os16", (96, 64)) == backbone_layers(
        16, "head", (96, 64))


# ---------------------------------------------------------------- formula vs measured


def _long_sizes(name: str) -> list[tuple[int, int]]:
    """Two inputs, each with one axis long enough that the centre cell's field lies inside
    the image (measured exactly there) and one short axis (the field is clipped there)."""
    r, j, _ = last(networks.network_layers(name))  # r + 4 j: a few cells either side
    return [(r + 4 * j + 37, 67), (71, r + 4 * j + 70)]


def _check_measured(name: str, hw: tuple[int, int]) -> None:
    import torch

    from pyramidviz import netmodels

    # EfficientNet has 17 spatial convs (path products ~1e-19): float32 is enough, and its
    # full-width convs run ~5x faster than in float64; the 100-layer ResNets need float64.
    dtype = torch.float32 if name.startswith("efficientnet") else torch.float64
    net = netmodels.randomize_(netmodels.build(name), seed=len(name), dtype=dtype)
    field = receptive_field(networks.network_layers(name, hw))[-1]
    long_axis = 0 if hw[0] > hw[1] else 1
    box, size = netmodels.measured_box(net, hw)
    centre = (size[0] // 2, size[1] // 2)
    expected = field.cell_box(*centre)
    spans = ((box.top, box.bottom), (box.left, box.right))
    wanted = ((expected.top, expected.bottom), (expected.left, expected.right))
    assert spans[long_axis] == wanted[long_axis], (name, hw, box, expected)
    assert 0 <= wanted[long_axis][0] and wanted[long_axis][1] <= hw[long_axis]  # unclipped
    clipped = field.cell_box(*centre, image_size=hw)  # short axis: inside the clipped box
    short = 1 - long_axis
    c_spans = ((clipped.top, clipped.bottom), (clipped.left, clipped.right))
    assert c_spans[short][0] <= spans[short][0] and spans[short][1] <= c_spans[short][1]
    step = (1, 0) if long_axis == 0 else (0, 1)  # the neighbouring cell: one jump further
    next_box, _ = netmodels.measured_box(net, hw, (centre[0] + step[0], centre[1] + step[1]))
    moved = (next_box.top - box.top) if long_axis == 0 else (next_box.left - box.left)
    assert moved == field.stride[long_axis], (name, hw, moved, field.stride)


FAST = ["alexnet", "vgg16", "mobilenet_v1", "mobilenet_v2", "resnet50", "resnet50_os16"]
SLOW = [n for n in networks.CATALOGUE if n not in FAST]


@pytest.mark.parametrize("name", FAST)
def test_formula_equals_gradient_measurement(name):
    for hw in _long_sizes(name):
        _check_measured(name, hw)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_formula_equals_gradient_measurement_deep_nets(name):
    for hw in _long_sizes(name):
        _check_measured(name, hw)


def test_single_path_nets_trace_back_to_their_specs():
    """``layers_of`` on the torch chain records exactly the catalogue's layers."""
    from pyramidviz import netmodels
    from pyramidviz.tracing import layers_of

    for name in ("alexnet", "vgg16", "mobilenet_v1"):
        layers = networks.network_layers(name)
        traced = layers_of(netmodels.chain_module(layers), (1, netmodels.WIDTH, 224, 224))
        strip = [dataclasses.replace(layer, name="") for layer in layers]
        assert [dataclasses.replace(t, name="") for t in traced] == strip, name


def test_measurement_sees_holes_only_inside_the_box():
    """A 3x3 conv at rate 2 has a 5-pixel field with gaps: the box is still 5 wide."""
    from pyramidviz import netmodels
    from pyramidviz.receptive import Box

    net = netmodels.randomize_(netmodels.chain_module([Layer(3, 1, 2, 2)], channels=1))
    box, size = netmodels.measured_box(net, (9, 9), (4, 4), in_channels=1)
    assert size == (9, 9) and box == Box(2, 2, 7, 7)


# ---------------------------------------------------------------- text specs


def test_spec_example_by_hand():
    layers = networks.parse_spec("conv3 s2, conv3, pool2, conv3 d2")
    assert [f.size[0] for f in receptive_field(layers)] == [3, 7, 9, 25]  # 9 + (5 - 1) * 4
    assert [f.stride[0] for f in receptive_field(layers)] == [2, 2, 4, 4]
    assert networks.format_spec(layers) == "conv3 s2, conv3, pool2, conv3 d2"


def test_spec_defaults_pairs_and_global_pool():
    a, b, c, d = networks.parse_spec("conv3x5 s2x1; pool3 s2 p1\nconv1 p0x2, GAP")
    assert (a.kernel, a.stride, a.padding) == ((3, 5), (2, 1), (1, 2))
    assert (b.kernel, b.stride, b.padding) == ((3, 3), (2, 2), (1, 1))
    assert (c.kernel, c.padding) == ((1, 1), (0, 2))
    assert d.global_pool and receptive_field([a, b, c, d])[-1].global_
    assert networks.format_spec([a, b, c, d]) == "conv3x5 s2x1, pool3 s2 p1, conv1 p0x2, gap"


@pytest.mark.parametrize(("text", "code", "token"), [
    ("", "empty", ""), (" , ", "empty", ""), ("conv3,,pool2", "blank", ""),
    ("conv3, relu", "unknown", "relu"), ("conv, pool2", "unknown", "conv"),
    ("conv3 s2 q4", "option", "q4"), ("conv3 s-1", "option", "s-1"),
    ("conv3 s2 s3", "duplicate", "s3"), ("conv0", "range", "conv0"),
    ("conv3 s0", "range", "s0"), ("conv3 d9999", "range", "d9999"),
    ("pool2 " + "s" * 20, "option", "s" * 20), (", ".join(["conv3"] * 401), "too_many", "401"),
    ("conv3 s1e9", "option", "s1e9"), ("conv３", "unknown", "conv３"),
    ("conv3 d999999", "range", "d999999"), ("conv" + "9" * 5000, "range", "conv" + "9" * 5000),
])
def test_bad_specs_name_the_token(text, code, token):
    with pytest.raises(networks.SpecError) as info:
        networks.parse_spec(text)
    assert info.value.code == code and info.value.token == token
    assert isinstance(info.value, ValueError) and str(info.value)
    if token:
        assert repr(token) in str(info.value) or token in str(info.value)


_pair = st.tuples(st.integers(1, 9), st.integers(1, 9)) | st.integers(1, 9).map(
    lambda n: (n, n))


@st.composite
def _layers(draw):
    out = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 9)) == 0:
            out.append(Layer(1, name="gap", global_pool=True))
            continue
        kind = draw(st.sampled_from(["conv", "pool"]))
        pad = draw(st.tuples(st.integers(0, 9), st.integers(0, 9)))
        out.append(Layer(draw(_pair), draw(_pair), pad, draw(_pair), name=kind))
    return out


@given(_layers())
@settings(max_examples=300, deadline=None)
def test_hypothesis_round_trip_spec_layers_spec(layers):
    spec = networks.format_spec(layers)
    parsed = networks.parse_spec(spec)
    assert networks.format_spec(parsed) == spec  # spec -> layers -> spec
    geometry = [(x.kernel, x.stride, x.padding, x.dilation, x.global_pool) for x in parsed]
    assert geometry == [(x.kernel, x.stride, x.padding, x.dilation, x.global_pool)
                        for x in layers]


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_hypothesis_any_text_parses_or_says_why(text):
    try:
        layers = networks.parse_spec(text)
    except networks.SpecError as error:
        assert error.code in networks.SpecError.CODES
        assert (error.item == 0) == (error.code in {"empty", "too_many"})  # items count from 1
    else:
        assert networks.parse_spec(networks.format_spec(layers)) == layers


def test_layer_table_and_csv_round_trip():
    import csv
    import io

    layers = networks.catalogue()["vgg16"]
    rows = networks.layer_table(layers, (224, 224))
    assert rows[-1].map_size == (7, 7) and rows[-1].field == (212, 212)
    headers = {k: f"«{k}»" for k in networks.TABLE_COLUMNS}
    table = list(csv.reader(io.StringIO(networks.layer_csv(rows, headers))))
    assert table[0] == [headers[k] for k in networks.TABLE_COLUMNS]
    assert len(table) == 19 and table[-1][6:9] == ["212", "32", "90"]


def test_feature_sizes_match_torch():
    from pyramidviz import netmodels

    for name in ("alexnet", "vgg16", "mobilenet_v1"):
        layers = networks.network_layers(name)
        module = netmodels.chain_module(layers, channels=1)
        for hw in ((224, 224), (301, 257)):
            out = module(torch.zeros(1, 1, *hw))
            assert networks.feature_sizes(layers, hw)[-1] == tuple(out.shape[-2:])
    layers = networks.network_layers("efficientnet_lite0", (301, 257))
    assert networks.feature_sizes(layers, (301, 257), tf_same=True)[-1] == (10, 9)


# ---------------------------------------------------------------- what the page's views get


def test_geometry_only_spp_payload_matches_the_real_one_where_it_can():
    """Same edges and boxes as :func:`payloads.spp_payload`; values are cell counts, no winners."""
    import numpy as np

    from pyramidviz import payloads
    from pyramidviz.bins import bin_edges

    photo = np.zeros((300, 451, 3), np.uint8)
    field = receptive_field(networks.catalogue()["resnet50"])[-1]
    geo = payloads.spp_geometry_payload(photo, feature_size=(10, 15), levels=(4, 2, 1),
                                     field=field)
    real = payloads.spp_payload({"max": np.ones((10, 15))}, photo, np.zeros(21), levels=(4, 2, 1),
                             mode="max", channels=1, field=field)
    assert geo["edges"] == real["edges"] and geo["boxes"] == real["boxes"]
    assert geo["field"] == real["field"] and geo["vector"]["offsets"] == [0, 16, 20]
    for n in (4, 2, 1):
        rows, cols = bin_edges(10, n), bin_edges(15, n)
        counts = [(r1 - r0) * (c1 - c0) for r0, r1 in rows for c0, c1 in cols]
        assert [v[0] for v in geo["views"][0]["bins"][str(n)]] == counts
        assert all(v[1] is None for v in geo["views"][0]["bins"][str(n)])
    assert geo["views"][0]["bins"]["1"] == [[150, None, None]]


def test_field_picture_marks_the_field_and_dims_the_rest():
    import numpy as np

    from pyramidviz.payloads import field_picture
    from pyramidviz.receptive import Box

    photo = np.full((300, 451, 3), 200, np.uint8)
    pic = field_picture(photo, Box(20, 30, 120, 200), Box(60, 100, 92, 132))
    assert pic.shape == photo.shape
    assert pic[5, 5].tolist() == [90, 90, 90]  # outside the field: dimmed
    assert pic[70, 50].tolist() == [200, 200, 200]  # inside: untouched
    assert pic[20, 100].tolist() == [230, 159, 0]  # the field's top edge
    assert pic[60, 110].tolist() == [0, 158, 115]  # the stride tile's top edge
    big = field_picture(np.zeros((1440, 960, 3), np.uint8), Box(0, 0, 10, 10), Box(0, 0, 4, 4))
    assert big.shape == (720, 480, 3)


@pytest.mark.parametrize(("text", "item", "what", "low", "high"), [
    ("conv3, conv3 d999999", 2, "dilation", 1, 512), ("conv0", 1, "kernel", 1, 99),
    ("pool2, pool2 p1000", 2, "padding", 0, 999), ("conv3 s65", 1, "stride", 1, 64),
])
def test_a_number_out_of_range_says_its_range_and_item(text, item, what, low, high):
    with pytest.raises(networks.SpecError) as info:
        networks.parse_spec(text)
    error = info.value
    assert (error.code, error.item, error.what, error.low, error.high) == (
        "range", item, what, low, high)


def test_an_empty_item_counts_from_one():
    with pytest.raises(networks.SpecError) as info:
        networks.parse_spec("conv3,,pool2")
    assert (info.value.code, info.value.item) == ("blank", 2)
