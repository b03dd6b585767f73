"""The browser views' payloads (pyramidviz.payloads): every table the views look up equals
pyramidviz's core (FieldInfo, atrous, spp) and torch. These are the agreement checks: the
views only index these tables (tests/test_browser_views.py checks the drawing against them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from figure_helpers import PIXEL, STAGE7, decode, photo, rng_features
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import atrous, bins, payloads
from pyramidviz.backbones import tap_info
from pyramidviz.bins import bin_edges
from pyramidviz.receptive import FieldInfo
from pyramidviz.spp import spatial_pyramid_pool


def _spp(values: dict, levels=(4, 2, 1), mode="max", field=STAGE7, image=None, c=1):
    image = photo() if image is None else image
    vector = np.random.default_rng(0).normal(size=c * sum(n * n for n in levels))
    return payloads.spp_payload(values, image, vector, levels=levels, mode=mode, channels=c,
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
    payload = payloads.spp_payload({str(c): features[c] for c in range(5)}, photo(70, 90), vector,
                                levels=levels, mode="max", channels=5, field=PIXEL)
    assert payload["vector"]["offsets"] == [0, 45, 65] and payload["vector"]["length"] == 70
    for i, n in enumerate(levels):
        for c in range(5):
            first = payload["vector"]["first"][str(n)][c]
            assert first == payload["vector"]["offsets"][i] + c * n * n
            for b, (value, _, _) in enumerate(payload["views"][c]["bins"][str(n)]):
                assert vector[first + b] == np.float32(value)
    strip = decode(payload["vector"]["png"])
    assert strip.shape[:2] == (1, 70)


def test_spp_channel_views_are_one_pixel_per_cell_pngs():
    values = {"max": rng_features(1)[0], "mean": rng_features(1, seed=3)[0]}
    payload = _spp(values)
    for view, (name, array) in zip(payload["views"], values.items(), strict=True):
        assert view["name"] == name and decode(view["png"]).shape == (10, 15, 3)
        assert (view["vmin"], view["vmax"]) == (float(array.min()), float(array.max()))
    assert payload["style"] == payloads.style() and len(payload["style"]["sequential"]) == 9
    fills = payload["views"][0]["fills"]["1"]  # one bin: the map's own maximum, the top stop
    assert fills == ["#{:02x}{:02x}{:02x}".format(*payload["style"]["sequential"][-1])]


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
    p = payloads.photo_payload(image)
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
    taps = payloads.taps_payload(image, field=info.field, feature_size=info.feature_size,
                              stride=info.stride, rates=(6, 12, 18), kernel=3, spp_level=6)
    assert payloads.payload_bytes(taps) < 150_000
    fh, fw = info.feature_size
    maps = {name: rng_features(1, fh, fw, seed=i)[0] for i, name in enumerate(
        ["max", "mean", "1", "2", "3", "4", "5", "6"])}
    if os_ == 32:  # the SPP page's output stride
        spp = payloads.spp_payload(maps, image, np.zeros(320 * 50), levels=(6, 3, 2, 1),
                                mode="max", channels=320, field=info.field)
        assert payloads.payload_bytes(spp) < 150_000


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), n=st.integers(1, 7))
def test_spp_bin_tables_invert_each_other(h, w, n):
    payload = _spp({"a": np.ones((h, w), np.float32)}, levels=(n,), image=photo(h, w),
                   field=PIXEL)
    key, rows = str(n), bin_edges(h, n)
    assert payload["cell_bin"][key]["rows"] == [bins.bin_of(u, h, n) for u in range(h)]
    assert payload["cell_bin"][key]["cols"] == [bins.bin_of(u, w, n) for u in range(w)]
    for b, (i, j) in enumerate(payload["grid"][key]):
        assert payload["index"][key][i][j] == b and divmod(b, n) == (i, j)
    for u in range(h):  # the bin a cell is in holds the cell
        i = payload["cell_bin"][key]["rows"][u]
        assert rows[i][0] <= u < rows[i][1]


# ---------------------------------------------------------------- taps


def test_taps_payload_schema_and_branches():
    info = tap_info(16, "stage7", (300, 451))
    p = payloads.taps_payload(photo(), field=info.field, feature_size=info.feature_size,
                              stride=info.stride, rates=(6, 12, 18), kernel=3)
    assert p["schema"] == "pv.taps/2" and p["style"] == payloads.style()
    assert p["map"] == [19, 29] and p["stride"] == 16 and p["kernel"] == 3
    assert [b["rate"] for b in p["branches"]] == [None, 6, 12, 18]
    assert [b["spacing"] for b in p["branches"]] == [None, 96, 192, 288]
    assert [(b["k"], b["taps"]) for b in p["branches"]] == [(1, 1), (3, 9), (3, 9), (3, 9)]
    assert p["count"][2][3] == 6 and "spp" not in p
    # cell (3, 7) on the 19 x 29 map: rate 6 loses its top row: 6 of 9 on the map
    valid = [p["count"][b["rows"]["valid"][3]][b["cols"]["valid"][7]] for b in p["branches"]]
    assert valid == [1, 6, 4, 2]


@settings(max_examples=60, deadline=None)
@given(jump=st.sampled_from([1, 4, 16, 32]), pad=st.integers(0, 60), size=st.integers(1, 99),
       rate=st.integers(1, 20), kernel=st.sampled_from([1, 3, 5]), h=st.integers(1, 12),
       w=st.integers(1, 12), data=st.data())
def test_tap_tables_are_branch_taps(jump, pad, size, rate, kernel, h, w, data):
    """Pixels, on-map flags, valid count and field box of every branch at any cell, read
    from the per-axis tables, equal :func:`atrous.branch_taps`."""
    row, col = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    field = FieldInfo(size=(size, size), stride=(jump, jump), padding=(pad, pad))
    p = payloads.taps_payload(photo(64, 64), field=field, feature_size=(h, w), stride=jump,
                              rates=(rate,), kernel=kernel)
    taps = payloads.taps_at(p, (row, col))
    assert len(taps) == 1 + kernel * kernel
    branch = atrous.branch_taps(field, (h, w), (row, col), rate=rate, kernel=kernel,
                                photo_hw=(64, 64))
    assert [(t["y"], t["x"]) for t in taps[1:]] == [tuple(p) for p in branch.pixels.tolist()]
    assert [t["on_map"] for t in taps[1:]] == branch.inside.tolist()
    assert (taps[0]["y"], taps[0]["x"]) == field.center(row, col) and taps[0]["on_map"]
    b = p["branches"][1]
    assert p["count"][b["rows"]["valid"][row]][b["cols"]["valid"][col]] == branch.inside.sum()
    (top, bottom), (left, right) = b["rows"]["span"][row], b["cols"]["span"][col]
    assert (top, left, bottom, right) == (branch.field.top, branch.field.left,
                                          branch.field.bottom, branch.field.right)
    assert p["centres"]["rows"][row] == field.center(row, col)[0]
    assert p["centres"]["cols"][col] == field.center(row, col)[1]


@settings(max_examples=60, deadline=None)
@given(jump=st.integers(1, 32), pad=st.integers(0, 60), size=st.integers(1, 99),
       h=st.integers(1, 20), w=st.integers(1, 20),
       ys=st.lists(st.integers(-300 * 64, 900 * 64), min_size=1, max_size=8),
       half=st.integers(-40, 600))
def test_nearest_cell_by_search_over_bounds_is_field_nearest_cell(jump, pad, size, h, w, ys,
                                                                  half):
    """The view finds the cell under the pointer by a binary search over ``bounds``; that is
    :meth:`FieldInfo.nearest_cell` for any pixel, exact half-way points included."""
    field = FieldInfo(size=(size, size), stride=(jump, jump), padding=(pad, pad))
    p = payloads.taps_payload(photo(64, 64), field=field, feature_size=(h, w), stride=jump,
                              rates=(2,), kernel=3)
    for y in [*(y / 64 for y in ys), half + 0.5, float(half)]:  # pointers: 1/64 px steps
        expected = field.nearest_cell(y, y, (h, w))
        got = (payloads.nearest_index(p["bounds"]["rows"], y),
               payloads.nearest_index(p["bounds"]["cols"], y))
        assert got == expected, y


def test_global_field_taps_see_the_whole_photo():
    field = FieldInfo(size=(1, 1), stride=(32, 32), padding=(0, 0), global_=True)
    p = payloads.taps_payload(photo(40, 50), field=field, feature_size=(2, 2), stride=32,
                              rates=(1,), kernel=3)
    assert p["branches"][1]["rows"]["span"] == [[0, 40], [0, 40]]
    assert p["branches"][1]["cols"]["span"] == [[0, 50], [0, 50]]


def test_compare_payload_bins_every_row_and_column():
    info = tap_info(16, "stage7", (300, 451))
    p = payloads.taps_payload(photo(), field=info.field, feature_size=(19, 29), stride=16,
                              rates=(6, 12, 18), kernel=3, spp_level=4)
    rows, cols = bin_edges(19, 4), bin_edges(29, 4)
    assert p["spp"]["row_bin"] == [bins.bin_of(u, 19, 4) for u in range(19)]
    assert p["spp"]["row_bin"][:6] == [0, 0, 0, 0, 0, 1]  # bins [0,5) [4,10): first wins
    assert p["spp"]["index"][1][2] == 6
    stride, field = p["spp"]["boxes"][1 * 4 + 2]
    box = info.field.block_box(rows[1], cols[2], image_size=(300, 451))
    assert field == [box.top, box.left, box.bottom, box.right]
    assert len(p["spp"]["boxes"]) == 16 and len(p["spp"]["col_bin"]) == 29


# ---------------------------------------------------------------- kernel and gridding


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 11), kernel=st.sampled_from([1, 3, 5]), rate=st.integers(1, 4),
       padding=st.integers(0, 4), stride=st.integers(1, 3), data=st.data())
def test_kernel_tables_are_sliding_taps(size, kernel, rate, padding, stride, data):
    out = atrous.conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    if out < 1:
        with pytest.raises(ValueError, match="does not fit"):
            payloads.kernel_payload(size, kernel, rate=rate, padding=padding, stride=stride)
        return
    p = payloads.kernel_payload(size, kernel, rate=rate, padding=padding, stride=stride)
    assert p["schema"] == "pv.kernel/2" and p["out"] == out and p["padded"] == size + 2 * padding
    assert p["span"] == atrous.effective_kernel_size(kernel, rate)
    oy, ox = data.draw(st.integers(0, out - 1)), data.draw(st.integers(0, out - 1))
    cells, real = atrous.sliding_taps(size, kernel, rate=rate, padding=padding, stride=stride,
                                      position=(oy, ox))
    looked_up = [[r, c] for r in p["taps"][oy] for c in p["taps"][ox]]
    flags = [a and b for a in p["real"][oy] for b in p["real"][ox]]
    assert looked_up == cells.tolist() and flags == real.tolist()
    assert p["count"][p["valid"][oy]][p["valid"][ox]] == real.sum()
    assert (p["start"][oy], p["start"][ox]) == tuple(cells[0].tolist())


def test_gridding_tables_by_hand():
    g = payloads.gridding_payload([(2, 2, 2), (1, 2, 5)])
    assert g["schema"] == "pv.gridding/2" and g["depth"] == 3
    first = g["stacks"][0]
    assert first["side"] == 13
    assert [(x["span"], x["holes"], x["total"], x["inset"]) for x in first["layers"]] == [
        (5, 16, 25, 4), (9, 56, 81, 2), (13, 120, 169, 0)]
    assert first["layers"][1]["offsets"] == list(range(-4, 5))
    assert [x["holes"] for x in g["stacks"][1]["layers"]] == [
        atrous.stack_coverage(r).holes for r in ((1,), (1, 2), (1, 2, 5))]


def test_style_is_the_one_style_block():
    from pyramidviz import style

    s = payloads.style()
    assert [c for c, _ in s["colours"]["branches"]] == list(style.BRANCH_COLORS)
    assert "#cc79a7" not in str(s)  # the colour the palette dropped for deuteranopes
    assert s["breakpoints"]["phone"] > 390 and s["sizes"]["min_text_px"] >= 12
