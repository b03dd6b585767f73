"""The browser views' payloads (pyramidviz.views): every number equals pyramidviz and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from figure_helpers import PIXEL, STAGE7, decode, photo, rng_features
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import atrous, views
from pyramidviz.backbones import tap_info
from pyramidviz.bins import bin_edges
from pyramidviz.receptive import FieldInfo
from pyramidviz.spp import spatial_pyramid_pool


def _spp(values: dict, levels=(4, 2, 1), mode="max", field=STAGE7, image=None, c=1):
    image = photo() if image is None else image
    vector = np.random.default_rng(0).normal(size=c * sum(n * n for n in levels))
    return views.spp_payload(values, image, vector, levels=levels, mode=mode, channels=c,
                             field=field)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spp_bins_are_torch_adaptive_pooling_with_its_winners(mode):
    values = rng_features(1)[0]  # 10 x 15 cells
    payload = _spp({"a": values}, levels=(4, 3, 2, 1), mode=mode)
    x = torch.from_numpy(values)[None, None]
    for n in (4, 3, 2, 1):
        bins = payload["views"][0]["bins"][str(n)]
        if mode == "max":
            pooled, flat = F.adaptive_max_pool2d(x, n, return_indices=True)
            assert [[r, c] for _, r, c in bins] == [
                [int(i) // 15, int(i) % 15] for i in flat.flatten()]
        else:
            pooled = F.adaptive_avg_pool2d(x, n)
            assert all(r is None and c is None for _, r, c in bins)
        assert [v for v, _, _ in bins] == pooled.flatten().tolist()


def test_spp_edges_and_boxes_by_hand():
    """4 x 4 bins on 10 x 15 cells (stage7 of the 451 x 300 cat, 32 px apart)."""
    payload = _spp({"a": rng_features(1)[0]})
    assert payload["edges"]["4"]["rows"] == [[0, 3], [2, 5], [5, 8], [7, 10]]
    assert payload["edges"]["4"]["cols"] == [[0, 4], [3, 8], [7, 12], [11, 15]]
    stride, field = payload["boxes"]["4"][5]  # row 1, col 1: cells [2, 5) x [3, 8)
    assert field == [0, 0, 300, 451]  # stage7 sees 851 px: the whole photo
    # centres u*32 - P + 425 (P = 414, 423): row 2 at y = 75, column 3 at x = 98, so the
    # tiles start 16 px before them: rows [59, 59 + 3*32), columns [82, 82 + 5*32)
    assert stride == [59, 82, 155, 242]
    box = STAGE7.stride_box((2, 5), (3, 8), image_size=(300, 451))
    assert stride == [box.top, box.left, box.bottom, box.right]


def test_spp_vector_offsets_place_every_bin_entry():
    """Entry (c, b) of level n sits at offset + c n^2 + b: the vector spatial_pyramid_pool makes."""
    features = rng_features(5, h=7, w=9, seed=2)
    levels = (3, 2, 1)
    vector = spatial_pyramid_pool(torch.from_numpy(features)[None], levels).vector[0].numpy()
    payload = views.spp_payload({str(c): features[c] for c in range(5)}, photo(70, 90), vector,
                                levels=levels, mode="max", channels=5, field=PIXEL)
    assert payload["vector"]["offsets"] == [0, 45, 65] and payload["vector"]["length"] == 70
    for i, n in enumerate(levels):
        for c in range(5):
            for b, (value, _, _) in enumerate(payload["views"][c]["bins"][str(n)]):
                assert vector[payload["vector"]["offsets"][i] + c * n * n + b] == np.float32(value)
    strip = decode(payload["vector"]["png"])
    assert strip.shape[:2] == (1, 70)


def test_spp_channel_views_are_one_pixel_per_cell_pngs():
    values = {"max": rng_features(1)[0], "mean": rng_features(1, seed=3)[0]}
    payload = _spp(values)
    for view, (name, array) in zip(payload["views"], values.items(), strict=True):
        assert view["name"] == name and decode(view["png"]).shape == (10, 15, 3)
        assert (view["vmin"], view["vmax"]) == (float(array.min()), float(array.max()))
    assert len(payload["colors"]) == 9


def test_spp_rejects_mismatched_views():
    with pytest.raises(ValueError, match="every view"):
        _spp({"a": np.zeros((3, 4)), "b": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="at least one"):
        _spp({})


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), n=st.integers(1, 9))
def test_spp_bins_cover_every_cell_for_any_size(h, w, n):
    payload = _spp({"a": np.ones((h, w), np.float32)}, levels=(n,), image=photo(h, w),
                   field=PIXEL)
    assert payload["edges"][str(n)]["rows"] == [list(e) for e in bin_edges(h, n)]
    assert len(payload["views"][0]["bins"][str(n)]) == n * n


def test_photo_payload_is_a_small_jpeg_over_the_photo_pixels():
    image = photo(1155, 1732)  # 2 MP of noise: the worst case for JPEG
    p = views.photo_payload(image)
    assert (p["H"], p["W"]) == (1155, 1732)
    assert decode(p["src"]).shape[:2] == (480, 720)
    assert len(p["src"]) < 200_000


@pytest.mark.parametrize(("h", "w", "os_"), [(1155, 1732, 32), (1155, 1732, 8), (300, 451, 16)])
def test_payloads_stay_under_150_kb_for_a_2_megapixel_upload(h, w, os_):
    """The issue's budget: a view's payload is at most 150 KB (maps of noise, the worst case
    for PNG; eight channel views)."""
    yy, xx = np.mgrid[0:h, 0:w]
    image = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx + yy) % 256)], -1).astype(np.uint8)
    info = tap_info(os_, "stage7", (h, w))
    taps = views.taps_payload(image, field=info.field, feature_size=info.feature_size,
                              stride=info.stride, rates=(6, 12, 18), kernel=3, spp_level=6)
    assert views.payload_bytes(taps) < 150_000
    fh, fw = info.feature_size
    maps = {name: rng_features(1, fh, fw, seed=i)[0] for i, name in enumerate(
        ["max", "mean", "1", "2", "3", "4", "5", "6"])}
    if os_ == 32:  # the SPP page's output stride
        spp = views.spp_payload(maps, image, np.zeros(320 * 50), levels=(6, 3, 2, 1),
                                mode="max", channels=320, field=info.field)
        assert views.payload_bytes(spp) < 150_000


# ---------------------------------------------------------------- taps


def test_taps_payload_carries_the_formula_parameters():
    info = tap_info(16, "stage7", (300, 451))
    p = views.taps_payload(photo(), field=info.field, feature_size=info.feature_size,
                           stride=info.stride, rates=(6, 12, 18), kernel=3)
    assert p["map"] == [19, 29] and p["stride"] == 16 and p["kernel"] == 3
    assert p["field"] == {"size": [851, 851], "stride": [16, 16],
                          "padding": list(info.field.padding), "global": False}
    assert [b["rate"] for b in p["branches"]] == [None, 6, 12, 18]
    assert "spp" not in p


@settings(max_examples=40, deadline=None)
@given(jump=st.sampled_from([1, 4, 16, 32]), pad=st.integers(0, 60), size=st.integers(1, 99),
       rate=st.integers(1, 20), kernel=st.sampled_from([1, 3, 5]), row=st.integers(0, 9),
       col=st.integers(0, 11))
def test_expected_taps_are_branch_taps(jump, pad, size, rate, kernel, row, col):
    field = FieldInfo(size=(size, size), stride=(jump, jump), padding=(pad, pad))
    p = views.taps_payload(photo(64, 64), field=field, feature_size=(10, 12), stride=jump,
                           rates=(rate,), kernel=kernel)
    taps = views.expected_taps(p, (row, col))
    assert len(taps) == 1 + kernel * kernel
    branch = atrous.branch_taps(field, (10, 12), (row, col), rate=rate, kernel=kernel,
                                photo_hw=(64, 64))
    assert [(t["y"], t["x"]) for t in taps[1:]] == [tuple(p) for p in branch.pixels.tolist()]
    assert [t["on_map"] for t in taps[1:]] == branch.inside.tolist()
    assert (taps[0]["y"], taps[0]["x"]) == field.center(row, col) and taps[0]["on_map"]


def test_compare_payload_bins_every_row_and_column():
    info = tap_info(16, "stage7", (300, 451))
    p = views.taps_payload(photo(), field=info.field, feature_size=(19, 29), stride=16,
                           rates=(6, 12, 18), kernel=3, spp_level=4)
    rows, cols = bin_edges(19, 4), bin_edges(29, 4)
    assert p["spp"]["row_bin"] == [views.bin_of(u, rows) for u in range(19)]
    assert p["spp"]["row_bin"][:6] == [0, 0, 0, 0, 0, 1]  # bins [0,5) [4,10): first wins
    stride, field = p["spp"]["boxes"][1 * 4 + 2]
    box = info.field.block_box(rows[1], cols[2], image_size=(300, 451))
    assert field == [box.top, box.left, box.bottom, box.right]
    assert len(p["spp"]["boxes"]) == 16 and len(p["spp"]["col_bin"]) == 29
