"""The Compare page's numbers and figures: shapes, costs, regions and taps."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import compare
from pyramidviz.aspp import ASPP
from pyramidviz.figures import base
from pyramidviz.figures import compare as figs
from pyramidviz.receptive import FieldInfo
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
def test_bin_of_finds_a_bin_holding_the_cell(size, bins):
    for cell in range(size):
        start, end = bin_edges(size, bins)[figs.bin_of(cell, size, bins)]
        assert start <= cell < end
    with pytest.raises(ValueError):
        figs.bin_of(size, size, bins)


def test_aspp_taps_are_rate_times_stride_apart():
    field = FieldInfo(size=(851, 851), jump=(16, 16), padding=(414, 423))
    for rate in (6, 12, 18):
        yx, inside = figs.aspp_taps(field, (9, 14), rate, (19, 29))
        grid = yx.reshape(3, 3, 2)
        assert np.allclose(np.diff(grid[:, :, 0], axis=0), 16 * rate)
        assert np.allclose(np.diff(grid[:, :, 1], axis=1), 16 * rate)
        cy, cx = field.center(9, 14)
        assert tuple(grid[1, 1]) == (cy + 0.5, cx + 0.5)  # pixel-edge coordinates
    _, inside = figs.aspp_taps(field, (9, 14), 18, (19, 29))
    assert inside.tolist() == [False] * 4 + [True] + [False] * 4


def _figure(**overrides):
    rgb = np.zeros((300, 451, 3), np.uint8)
    field = FieldInfo(size=(851, 851), jump=(16, 16), padding=(414, 423))
    kw = dict(level=4, cell=(9, 14), rates=(6, 12, 18), titles=("a", "b"),
              names={"bin_field": "f", "bin_owned": "o", "cell_field": "c", "rate": "r"})
    kw.update(overrides)
    return figs.sees_figure(rgb, field, (19, 29), **kw)


def test_sees_figure_draws_every_bin_and_every_tap():
    fig = _figure()
    grid = fig.data[2]
    assert grid.x.count(None) == 16  # 4 x 4 bins, one closed path each
    owned = fig.data[3]
    # cell (9, 14): rows [4, 10) of bin 1 (bins [0,5) [4,10) [9,15) [14,19)), cols [7, 15)
    rows, cols = bin_edges(19, 4)[1], bin_edges(29, 4)[1]
    assert (rows, cols) == ((4, 10), (7, 15))
    assert min(v for v in owned.y if v is not None) == rows[0] * 16
    assert max(v for v in owned.x if v is not None) == cols[1] * 16
    taps = [trace for trace in fig.data if getattr(trace, "mode", None) == "markers"]
    assert [len(trace.x) for trace in taps] == [9, 9, 9]
    assert [trace.name for trace in taps] == ["r 6", "r 12", "r 18"]


def test_figures_are_compact():
    assert base.figure_bytes(_figure()) < 300_000
    rng = np.random.default_rng(0)
    out = figs.outputs_figure(rng.random(6720), rng.random((19, 29)), titles=("a", "b"))
    assert base.figure_bytes(out) < 300_000
    assert all(trace.type == "image" for trace in out.data)
    spec = json.loads(out.to_json())
    assert spec["data"][0]["source"].startswith("data:image/png;base64,")
