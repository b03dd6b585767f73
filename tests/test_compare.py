"""The Compare page's numbers and figures: shapes, costs, regions and taps."""

from __future__ import annotations

import json

import numpy as np
import torch

from pyramidviz import compare
from pyramidviz.aspp import ASPP
from pyramidviz.figures import base
from pyramidviz.figures import compare as figs
from pyramidviz.spp import spatial_pyramid_pool


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


def test_output_lengths_spp_constant_aspp_grows():
    rows = compare.output_lengths([160, 320, 640], aspect=1.5, output_stride=16, channels=320,
                                  levels=(4, 2, 1))
    assert rows["spp"] == [6720] * 3
    assert rows["aspp"] == [256 * 7 * 10, 256 * 14 * 20, 256 * 27 * 40]


def test_figures_are_compact():
    rng = np.random.default_rng(0)
    for out in (figs.vector_figure(rng.random(6720), title="a"),
                figs.map_figure(rng.random((19, 29)), title="b")):
        assert base.figure_bytes(out) < 300_000
        assert [trace.type for trace in out.data] == ["image"]
        spec = json.loads(out.to_json())
        assert spec["data"][0]["source"].startswith("data:image/png;base64,")
        assert spec["layout"]["title"]["text"] in ("a", "b")


def test_aspp_shapes_follow_deeplab_v3():
    rows = dict(compare.aspp_shapes(320, (19, 29), (6, 12, 18)))
    assert rows["input"] == (320, 19, 29)
    assert rows["rate 12"] == rows["1x1"] == rows["image pool"] == (256, 19, 29)
    assert rows["concat"] == (1280, 19, 29) and rows["project"] == (256, 19, 29)
    assert list(rows) == ["input", "1x1", "rate 6", "rate 12", "rate 18", "image pool",
                          "concat", "project"]
