"""ONNX graphs: exported torch models read back with the fields ``layers_of`` and the
gradient give, and hostile files end in a clear message within 2 s."""

from __future__ import annotations

import functools
import io
import random
import time
import warnings

import onnx
import pytest
import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from torch import nn

from pyramidviz import netmodels, networks
from pyramidviz.backbones import Conv2dSame
from pyramidviz.onnxgraph import MAX_NODES, OnnxError, from_onnx
from pyramidviz.receptive import Layer, receptive_field
from pyramidviz.tracing import layers_of


def export(module: nn.Module, hw: tuple[int, int], channels: int = 3) -> bytes:
    """The module as ONNX bytes (TorchScript exporter: offline, no onnxscript needed)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, channels, *hw),), buffer,
                          dynamo=False, input_names=["image"], output_names=["out"])
    return buffer.getvalue()


def geometry(layers: list[Layer]) -> list[tuple]:
    return [(x.kernel, x.stride, x.padding, x.dilation, x.global_pool) for x in layers]


class Residual(nn.Module):
    def __init__(self, c: int, dilation: int = 1) -> None:
        super().__init__()
        self.a = nn.Conv2d(c, c, 3, padding=dilation, dilation=dilation)
        self.bn = nn.BatchNorm2d(c)
        self.b = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return torch.relu(x + self.b(torch.relu(self.bn(self.a(x)))))


def chain() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 5, 2, 2), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1), nn.Conv2d(4, 4, 3, padding=1), nn.Sigmoid(),
                         nn.AvgPool2d(2), nn.Conv2d(4, 8, (3, 5), (1, 2), (0, 2)), nn.ReLU6())


def residual() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), Residual(4), Residual(4),
                         nn.MaxPool2d(2), Residual(4, dilation=2))


def dilated() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), *(
        nn.Conv2d(4, 4, 3, padding=d, dilation=d) for d in (1, 2, 5, 9)),
        Conv2dSame(4, 4, 3, stride=2), Conv2dSame(4, 4, 5, dilation=2))


@pytest.mark.parametrize("make", [chain, residual, dilated])
@pytest.mark.parametrize("hw", [(64, 64), (45, 71)])
def test_exported_torch_models_give_the_layers_of_the_module(make, hw):
    module = make()
    traced = layers_of(module, (1, 3, *hw))
    read = from_onnx(export(module, hw))
    assert geometry(read) == geometry(traced)
    assert receptive_field(read)[-1] == receptive_field(traced)[-1]


def test_tf_same_padding_becomes_pad_nodes_with_the_real_asymmetric_padding():
    module = nn.Sequential(Conv2dSame(3, 2, 3, stride=2))
    read = from_onnx(export(module, (64, 64)))
    assert read[0].padding == (0, 0)  # 64 -> 32: total 1, all of it after (TF "SAME")
    read = from_onnx(export(module, (65, 65)))
    assert read[0].padding == (1, 1)


def test_resnet50_with_projection_skips_keeps_the_main_path():
    """The strided 1x1 projections are a second path; the widest is the main path's."""
    module = netmodels.resnet_module(50, 32, channels=2)
    read = from_onnx(export(module, (64, 64)))
    assert receptive_field(read)[-1] == receptive_field(networks.resnet_layers(50))[-1]
    assert len(read) == len(networks.resnet_layers(50))


def test_mobilenet_v2_and_a_classifier_head():
    module = nn.Sequential(netmodels.mobilenet_v2_module(), nn.AdaptiveAvgPool2d(1),
                           nn.Flatten(), nn.Linear(2, 10))
    read = from_onnx(export(module, (64, 64)))
    assert receptive_field(read[:-1])[-1] == receptive_field(networks.mobilenet_v2())[-1]
    assert read[-1].global_pool and receptive_field(read)[-1].global_


def _graph(nodes, *, hw=(32, 32), inits=(), opset=13) -> bytes:
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, *hw])
    out = helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "g", [image], [out], initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])\
        .SerializeToString()


def _weight(name: str, k: int = 3) -> TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, [3, 3, k, k], [0.0] * (9 * k * k))


def test_auto_pad_same_upper_and_lower_and_valid():
    for auto, before in (("SAME_UPPER", 0), ("SAME_LOWER", 1), ("VALID", 0)):
        node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                                strides=[2, 2], auto_pad=auto)
        (layer,) = from_onnx(_graph([node], inits=[_weight("w")]))
        assert layer.padding == (before, before), auto
    node = helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 1], pads=[1, 2, 1, 2],
                            dilations=[1, 2])  # kernel read from the weight's shape
    (layer,) = from_onnx(_graph([node], inits=[_weight("w", 5)]))
    assert (layer.kernel, layer.stride, layer.padding, layer.dilation) == (
        (5, 5), (2, 1), (1, 2), (1, 2))


def test_graph_only_file_with_external_weights(tmp_path):
    data = export(residual(), (32, 32))
    model = onnx.load_from_string(data)
    onnx.save_model(model, tmp_path / "graph.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    small = (tmp_path / "graph.onnx").read_bytes()
    assert len(small) < len(data) / 2
    assert geometry(from_onnx(small)) == geometry(from_onnx(data))


# ---------------------------------------------------------------- hostile files


@functools.cache
def _hostile() -> dict[str, tuple[bytes, str]]:
    rng = random.Random(15)
    good = export(chain(), (32, 32))
    relu_chain = [helper.make_node("Relu", ["x" if i == 0 else f"t{i}"], [f"t{i + 1}"])
                  for i in range(100_000)]
    branch = helper.make_graph([helper.make_node("Relu", ["x"], ["z"])], "b", [],
                               [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    cond = helper.make_tensor("c", TensorProto.BOOL, [], [True])
    control = [helper.make_node("If", ["c"], ["y"], then_branch=branch, else_branch=branch)]
    dynamic = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    same = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], auto_pad="SAME_UPPER")
    dyn_graph = helper.make_graph([same], "d", [dynamic], [helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, None)], initializer=[_weight("w")])
    return {
        "random bytes": (rng.randbytes(4096), "not_onnx"),
        "empty": (b"", "not_onnx"),
        "truncated": (good[: len(good) // 2], "not_onnx"),
        "png": (b"\x89PNG\r\n\x1a\n" + rng.randbytes(200), "not_onnx"),
        "control flow": (_graph(control, inits=[cond]), "control_flow"),
        "100,000 nodes": (_graph(relu_chain), "too_many"),
        "unsupported op": (_graph([helper.make_node("Resize", ["x"], ["y"])]), "unsupported"),
        "custom op": (_graph([helper.make_node("Magic", ["x"], ["y"], domain="evil")]),
                      "unsupported"),
        "dynamic SAME": (helper.make_model(dyn_graph).SerializeToString(), "dynamic"),
        "3-D conv": (_graph([helper.make_node("Conv", ["x", "w"], ["y"],
                                              kernel_shape=[3, 3, 3])], inits=[_weight("w")]),
                     "bad_attribute"),
        "huge stride": (_graph([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2],
                                                 strides=[2**40, 2])]), "bad_attribute"),
        "no conv": (_graph([helper.make_node("Relu", ["x"], ["y"])]), "no_path"),
        "out of order": (_graph([helper.make_node("Relu", ["t"], ["y"]),
                                 helper.make_node("Relu", ["x"], ["t"])]), "order"),
    }


@pytest.mark.parametrize("case", list(_hostile()))
def test_hostile_files_end_in_a_clear_message_within_2_s(case):
    data, code = _hostile()[case]
    start = time.perf_counter()
    with pytest.raises(OnnxError) as info:
        from_onnx(data)
    assert time.perf_counter() - start < 2.0, case
    assert info.value.code == code, (case, str(info.value))
    assert isinstance(info.value, ValueError) and 10 < len(str(info.value)) < 400


def test_the_limit_is_a_few_thousand_nodes():
    assert 1000 <= MAX_NODES <= 10_000
    assert networks.from_onnx is from_onnx and networks.OnnxError is OnnxError


def test_random_mutations_of_a_real_file_never_raise_anything_else():
    good = bytearray(export(residual(), (32, 32)))
    rng = random.Random(0)
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            layers = from_onnx(bytes(data))
        except OnnxError:
            continue
        receptive_field(layers)  # whatever was read is usable


@st.composite
def _torch_chain(draw):
    modules = []
    for _ in range(draw(st.integers(1, 5))):
        k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        p = draw(st.integers(0, (d * (k - 1) + 1) // 2))
        if draw(st.booleans()):
            modules.append(nn.Conv2d(2, 2, k, s, p, d))
        else:
            pool = nn.MaxPool2d(k, s, min(p, k // 2), d) if draw(st.booleans()) else \
                nn.AvgPool2d(k, s, min(p, k // 2))
            modules.append(pool)
        modules.append(draw(st.sampled_from([nn.ReLU(), nn.Sigmoid(), nn.Identity()])))
    return nn.Sequential(*modules)


@given(_torch_chain())
@settings(max_examples=10, deadline=None)
def test_hypothesis_random_chains_read_back_as_layers_of_traces_them(module):
    hw = (96, 80)
    try:
        traced = layers_of(module, (1, 2, *hw))
    except RuntimeError:  # the map vanished (a kernel larger than what is left)
        reject()
    assert geometry(from_onnx(export(module, hw, channels=2))) == geometry(traced)
