"""The SPP pyramid: channel views, the real vector vs the shown grids, and the pyramid figure."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_figures_spp import PIXEL, decode, rng_features

from pyramidviz import i18n, spp
from pyramidviz.figures import spp as bins
from pyramidviz.figures import spp_pyramid as figs

# ---------------------------------------------------------------- channel view


def test_channel_map_mean_max_and_one_channel():
    features = rng_features()
    np.testing.assert_allclose(figs.channel_map(features, "mean"), features.mean(0))
    np.testing.assert_array_equal(figs.channel_map(features, "max"), features.max(0))
    np.testing.assert_array_equal(figs.channel_map(features, "3"), features[3])
    np.testing.assert_array_equal(figs.channel_map(features, 3), features[3])
    with pytest.raises(ValueError, match="channel must be in"):
        figs.channel_map(features, "6")


def test_top_channels_are_ranked_by_mean_activation():
    features = np.zeros((7, 2, 2), np.float32)
    for c, level in enumerate([0.1, 5, -2, 3, 4, 0.5, 2]):
        features[c] = level
    assert figs.top_channels(features, 5) == (1, 4, 3, 6, 5)


# ---------------------------------------------------------------- real vector vs shown grids


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spp_vector_is_every_channel_pooled_separately(mode):
    features = rng_features(c=5, h=9, w=13)
    pool = F.adaptive_max_pool2d if mode == "max" else F.adaptive_avg_pool2d
    x = torch.from_numpy(features)[None]
    expected = torch.cat([pool(x, n).flatten(1) for n in (4, 2, 1)], 1)[0].numpy()
    np.testing.assert_array_equal(figs.spp_vector(features, (4, 2, 1), mode), expected)


def test_view_grids_pool_the_shown_map_like_the_bins_figure():
    values = rng_features(1, h=7, w=10)[0]
    for n, grid in zip((4, 2, 1), figs.view_grids(values, (4, 2, 1), "max"), strict=True):
        views = bins.bin_views(values, n, mode="max", field=PIXEL, image_size=values.shape)
        np.testing.assert_array_equal(grid.ravel(), [v.value for v in views])


def real_grids(features, levels, mode):
    """The vector cut back into per-channel (C, n, n) grids, one per level."""
    vector, c, start, grids = figs.spp_vector(features, levels, mode), features.shape[0], 0, []
    for n in levels:
        grids.append(vector[start:start + c * n * n].reshape(c, n, n))
        start += c * n * n
    return grids


@pytest.mark.parametrize("channel,mode", [("7", "max"), ("7", "avg"), ("max", "max"),
                                          ("mean", "avg"), ("mean", "max"), ("max", "avg")])
def test_grids_meaning_says_what_the_shown_grids_are_in_terms_of_the_vector(channel, mode):
    features = rng_features(c=12, h=10, w=15, seed=3)
    levels = (4, 2, 1)
    shown = figs.view_grids(figs.channel_map(features, channel), levels, mode)
    real = real_grids(features, levels, mode)
    meaning = figs.grids_meaning(channel, mode)
    reduce = {"entries": lambda g: g[int(channel)], "channel_max": lambda g: g.max(0),
              "channel_mean": lambda g: g.mean(0)}
    if meaning == "shown_map":  # neither the entries' max nor their mean, at the 4 x 4 level
        assert (channel, mode) in {("mean", "max"), ("max", "avg")}
        assert not np.allclose(shown[0], real[0].max(0))
        assert not np.allclose(shown[0], real[0].mean(0))
        return
    for grid, entries in zip(shown, real, strict=True):
        np.testing.assert_allclose(grid, reduce[meaning](entries), rtol=1e-5, atol=1e-6)


def test_grids_meaning_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode must be"):
        figs.grids_meaning("mean", "sum")


# ---------------------------------------------------------------- pyramid figure


def pyramid(features, levels, channel="mean", mode="max"):
    vector = figs.spp_vector(features, levels, mode)
    grids = figs.view_grids(figs.channel_map(features, channel), levels, mode)
    c = features.shape[0]
    title = i18n.translate("en", "common.vector_length", c=c, bins=sum(n * n for n in levels),
                           n=vector.size)
    fig = figs.pyramid_figure(grids, vector, channels=c, title=title, level_title="{n}",
                              segment_label="{n}: {size}", reduced_note="{k} per px")
    return vector, grids, fig


def test_pyramid_title_heatmaps_and_strip_for_4_2_1():
    features = rng_features(c=320, h=10, w=15)
    vector, grids, fig = pyramid(features, (4, 2, 1))
    assert fig.layout.title.text == "320 × 21 = 6,720"
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert [np.asarray(h.z).shape for h in heatmaps] == [(4, 4), (2, 2), (1, 1)]
    for heatmap, grid in zip(heatmaps, grids, strict=True):
        np.testing.assert_allclose(np.asarray(heatmap.z), grid)
    strip = next(t for t in fig.data if t.type == "image" and t.name == "vector")
    assert decode(strip.source).shape[:2] == (1, 6720)  # one pixel per value
    separators = next(t for t in fig.data if t.type == "scatter")
    assert sorted({x for x in separators.x if x is not None}) == [0, 5120, 6400, 6720]
    labels = [a.text for a in fig.layout.annotations]
    assert {"4: 5120", "2: 1280", "1: 320"} <= set(labels)


def test_the_strip_is_the_real_vector_even_when_the_grids_show_the_channel_mean():
    features = rng_features(c=8, h=10, w=15, seed=5)
    vector, _, fig = pyramid(features, (4, 2, 1), channel="mean", mode="max")
    strip = decode(next(t for t in fig.data if t.name == "vector").source)[0]
    order = np.argsort(vector, kind="stable")  # colour rises with value along Viridis
    brightness = strip.astype(int).sum(axis=1)
    low, high = order[: len(order) // 10], order[-len(order) // 10:]
    assert brightness[high].mean() > brightness[low].mean() + 200


def test_pyramid_for_the_paper_6_3_2_1_on_256_channels():
    """He et al. (2015): 50 bins; with 256 channels the vector has 12,800 values."""
    vector, _, fig = pyramid(rng_features(c=256, h=13, w=13), (6, 3, 2, 1))
    assert vector.size == 12_800 == spp.vector_length(256, (6, 3, 2, 1))
    assert fig.layout.title.text == "256 × 50 = 12,800"
    strip = next(t for t in fig.data if t.type == "image")
    assert decode(strip.source).shape[1] == 6400 and strip.dx == 2  # 2 values per pixel
    assert "2 per px" in [a.text for a in fig.layout.annotations]


def test_pyramid_rejects_a_vector_of_the_wrong_length():
    with pytest.raises(ValueError, match="vector must have shape"):
        figs.pyramid_figure([np.ones((2, 2))], np.zeros(7), channels=2, title="",
                            level_title="", segment_label="", reduced_note="")
