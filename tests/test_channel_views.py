"""The SPP pyramid: channel views and the real vector vs the shown grids."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from figure_helpers import PIXEL, rng_features

from pyramidviz import channel_views as figs
from pyramidviz import payloads

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


def test_view_grids_pool_the_shown_map_like_the_bins_view():
    values = rng_features(1, h=7, w=10)[0]
    payload = payloads.spp_payload({"map": values}, np.zeros((7, 10, 3), np.uint8), np.zeros(21),
                                levels=(4, 2, 1), mode="max", channels=1, field=PIXEL)
    for n, grid in zip((4, 2, 1), figs.view_grids(values, (4, 2, 1), "max"), strict=True):
        shown = [value for value, _, _ in payload["views"][0]["bins"][str(n)]]
        np.testing.assert_array_equal(grid.ravel(), np.float32(shown))


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
