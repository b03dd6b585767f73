"""The Compare page's numbers and figures: shapes, costs, regions and taps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import compare, payloads
from pyramidviz.aspp import ASPP
from pyramidviz.figures import base
from pyramidviz.figures import compare as figs
from pyramidviz.spp import bin_edges, spatial_pyramid_pool


def test_spp_cost_matches_the_paper_and_the_pooling():
    cost = compare.spp_cost(256, (13, 13), (4, 2, 1))
    assert cost.output_shape == (5376,)  # He et al.: 21 bins x 256 channels
    assert cost.parameters == 0 and not cost.keeps_resolution
    assert cost.next_layer_parameters == 5376 * 4096
    x = torch.randn(1, 256, 13, 13)
    assert spatial_pyramid_pool(x, (4, 2, 1)).vector.shape[1] == cost.output_elements


def test_spp_comparisons_hand_count():
    # 4 x 4 map, level 2: four 2x2 bins, 3 comparisons each; level 1: one 4x4 bin, 15.
    assert compare.spp_cost(1, (4, 4), (2, 1)).operations == 4 * 3 + 15


def test_aspp_cost_equals_the_real_module():
    rates = (6, 12, 18)
    cost = compare.aspp_cost(320, (25, 38), rates)
    module = ASPP(320, 256, rates)
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert cost.parameters == trainable
    with torch.no_grad():
        out = module.eval()(torch.randn(1, 320, 25, 38))
    assert cost.output_shape == tuple(out.shape[1:]) == (256, 25, 38)
    assert cost.keeps_resolution


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.integers(1, 2000), st.sampled_from([8, 16, 32]))
def test_feature_size_is_the_ceiling(h, w, stride):
    assert compare.feature_size((h, w), stride) == (math.ceil(h / stride), math.ceil(w / stride))


def test_feature_size_matches_the_backbone():
    from pyramidviz.backbones import EfficientNetLite0, tap_info

    for stride in (32, 16, 8):
        model = EfficientNetLite0(output_stride=stride)
        for hw in ((300, 451), (97, 131)):
            assert tap_info(model, "stage7", hw).feature_size == compare.feature_size(hw, stride)


def test_output_lengths_spp_constant_aspp_grows():
    rows = compare.output_lengths([160, 320, 640], aspect=1.5, output_stride=16, channels=320,
                                  levels=(4, 2, 1))
    assert rows["spp"] == [6720] * 3
    assert rows["aspp"] == [256 * 7 * 10, 256 * 14 * 20, 256 * 27 * 40]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 8))
def test_bin_of_finds_the_first_bin_holding_the_cell(size, bins):
    edges = bin_edges(size, bins)
    for cell in range(size):
        index = payloads.bin_of(cell, edges)
        start, end = edges[index]
        assert start <= cell < end
        assert all(not (a <= cell < b) for a, b in edges[:index])
    with pytest.raises(ValueError):
        payloads.bin_of(size, edges)


def test_figures_are_compact():
    rng = np.random.default_rng(0)
    for out in (figs.vector_figure(rng.random(6720), title="a"),
                figs.map_figure(rng.random((19, 29)), title="b")):
        assert base.figure_bytes(out) < 300_000
        assert [trace.type for trace in out.data] == ["image"]
        spec = json.loads(out.to_json())
        assert spec["data"][0]["source"].startswith("data:image/png;base64,")
        assert spec["layout"]["title"]["text"] in ("a", "b")
