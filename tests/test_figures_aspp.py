"""ASPP figures, part 1: taps rate x stride px apart on the photo, clicks, ERF and output panels."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz import aspp
from pyramidviz.backbones import EfficientNetLite0, tap_info
from pyramidviz.erf import erf_map
from pyramidviz.figures import aspp as figs
from pyramidviz.figures import aspp_panels as panels
from pyramidviz.figures.base import PHOTO_SIDE, colorize, figure_bytes
from pyramidviz.receptive import Box, FieldInfo

from conftest import ROOT

LABELS = {"1x1": "1x1", "rate": "rate {r} ({on}/{n})", "pool": "pool", "point": "point",
          "hover": "cell"}
CELL_CURVE = figs.CELL_CURVE


@pytest.fixture(scope="module")
def stage7_os16():
    """Real traced geometry of EfficientNet-Lite0 stage7 at OS 16 on a 300 x 451 photo."""
    return tap_info(EfficientNetLite0(output_stride=16).eval(), "stage7", (300, 451))


def _photo(h: int = 300, w: int = 451) -> np.ndarray:
    return np.zeros((h, w, 3), np.uint8)


def _rate_traces(fig, rate: int):
    """(filled, hollow) tap traces of one rate branch."""
    traces = [tr for tr in fig.data if tr.type == "scatter" and tr.mode == "markers"
              and tr.legendgroup == f"rate {rate}"]
    filled = [tr for tr in traces if tr.marker.symbol == "circle"]
    hollow = [tr for tr in traces if tr.marker.symbol == "circle-open"]
    return filled[0], hollow[0]


def _xy(trace) -> np.ndarray:
    return np.column_stack([np.asarray(trace.y, float), np.asarray(trace.x, float)])


# ---------------------------------------------------------------- taps


def test_real_geometry_is_what_the_page_assumes(stage7_os16):
    assert stage7_os16.stride == 16 and stage7_os16.feature_size == (19, 29)
    assert stage7_os16.field.size == (851, 851)


@pytest.mark.parametrize("rate", [6, 12, 18])
def test_taps_are_rate_times_output_stride_pixels_apart(stage7_os16, rate):
    info = stage7_os16
    fig = figs.taps_figure(_photo(), field=info.field,
                           feature_size=info.feature_size, point=(9, 14), rates=(6, 12, 18),
                           labels=LABELS)
    filled, hollow = _rate_traces(fig, rate)
    taps = np.concatenate([_xy(filled), _xy(hollow)])
    assert len(taps) == 9
    centre = np.array(info.field.center(9, 14)) + 0.5
    offsets = taps - centre
    assert sorted({float(v) for v in offsets.ravel()}) == [-16.0 * rate, 0.0, 16.0 * rate]
    # the centre pixel itself is what FieldInfo.center says (TF-SAME, not 16*j + 7.5)
    assert info.field.center(9, 14) == (9 * 16 - 414 + 425.0, 14 * 16 - 423 + 425.0)


def test_off_map_taps_are_hollow_and_counted_in_the_legend(stage7_os16):
    info = stage7_os16
    fig = figs.taps_figure(_photo(), field=info.field,
                           feature_size=info.feature_size, point=(9, 14), rates=(6, 12, 18),
                           labels=LABELS)
    expected_on = {6: 9, 12: 3, 18: 1}  # 19 x 29 map: rows 9 +- 12 and cols 14 +- 18 fall off
    for rate, on in expected_on.items():
        filled, hollow = _rate_traces(fig, rate)
        assert (len(filled.x), len(hollow.x)) == (on, 9 - on)
        assert filled.name == f"rate {rate} ({on}/9)"
        assert filled.showlegend and not hollow.showlegend


def test_cell_layer_is_invisible_and_one_marker_per_cell_at_its_centre(stage7_os16):
    info = stage7_os16
    fig = figs.taps_figure(_photo(), field=info.field,
                           feature_size=info.feature_size, point=(0, 0), rates=(6,),
                           labels=LABELS)
    layer = fig.data[CELL_CURVE]
    assert layer.marker.opacity == 0 and len(layer.x) == 19 * 29
    index = 5 * 29 + 7
    y, x = info.field.center(5, 7)
    assert (layer.y[index], layer.x[index]) == (y + 0.5, x + 0.5)
    assert tuple(layer.customdata[index]) == (5, 7)
    assert fig.layout.clickmode == "event+select"


def test_branch_field_is_the_cell_field_grown_by_k_minus_1_rate_jump():
    field = FieldInfo(size=(11, 11), jump=(4, 4), padding=(5, 5))
    taps = figs.branch_taps(field, (40, 40), (20, 20), rate=3, kernel=5, image_size=(160, 160))
    assert taps.field.height == 11 + (5 - 1) * 3 * 4
    own = field.cell_box(20, 20)
    assert (taps.field.top, taps.field.left) == (own.top - 2 * 3 * 4, own.left - 2 * 3 * 4)
    assert taps.inside.all() and taps.cells.shape == (25, 2)


def test_branch_field_only_counts_taps_on_the_map():
    field = FieldInfo(size=(3, 3), jump=(2, 2), padding=(1, 1))
    taps = figs.branch_taps(field, (5, 5), (0, 0), rate=4, image_size=(10, 10))
    assert int(taps.inside.sum()) == 4  # (0,0) (0,4) (4,0) (4,4)
    assert taps.field == field.block_box((0, 5), (0, 5), image_size=(10, 10))
    with pytest.raises(ValueError, match="point"):
        figs.branch_taps(field, (5, 5), (5, 0), rate=1, image_size=(10, 10))


@settings(max_examples=60, deadline=None)
@given(jump=st.integers(1, 32), pad=st.integers(0, 40), size=st.integers(1, 99),
       rate=st.integers(1, 20), kernel=st.sampled_from([1, 3, 5, 7]),
       row=st.integers(0, 9), col=st.integers(0, 9))
def test_tap_pixels_are_rate_jump_apart_for_any_geometry(jump, pad, size, rate, kernel, row,
                                                         col):
    field = FieldInfo(size=(size, size), jump=(jump, jump), padding=(pad, pad))
    taps = figs.branch_taps(field, (10, 10), (row, col), rate=rate, kernel=kernel,
                            image_size=(320, 320))
    grid = taps.pixels.reshape(kernel, kernel, 2)
    if kernel > 1:
        assert np.all(np.diff(grid[..., 0], axis=0) == rate * jump)
        assert np.all(np.diff(grid[..., 1], axis=1) == rate * jump)
    assert tuple(grid[kernel // 2, kernel // 2]) == field.center(row, col)


# ---------------------------------------------------------------- click selection


def test_selection_to_cell_maps_point_index_row_major():
    state = {"selection": {"points": [
        {"curve_number": 3, "point_index": 0},
        {"curve_number": 1, "point_index": 2 * 7 + 4}]}}
    assert figs.selection_to_cell(state, feature_size=(5, 7), curve_number=1) == (2, 4)
    assert figs.selection_to_cell(state["selection"], feature_size=(5, 7), curve_number=1) \
        == (2, 4)


@pytest.mark.parametrize("state", [
    None, {}, {"selection": {"points": []}},
    {"selection": {"points": [{"curve_number": 0, "point_index": 1}]}},  # the photo, not cells
    {"selection": {"points": [{"curve_number": 1, "point_index": 35}]}},  # beyond 5 x 7
    {"selection": {"points": [{"curve_number": 1, "point_index": -1}]}},
    {"selection": {"points": [{"curve_number": 1, "point_index": "3"}]}},
    {"selection": {"points": [{"curve_number": 1}]}},
    {"selection": {"points": ["junk"]}},
])
def test_selection_to_cell_ignores_anything_else(state):
    assert figs.selection_to_cell(state, feature_size=(5, 7), curve_number=1) is None


def test_every_cell_marker_round_trips_through_selection(stage7_os16):
    info = stage7_os16
    fig = figs.taps_figure(_photo(), field=info.field,
                           feature_size=info.feature_size, point=(0, 0), rates=(6,),
                           labels=LABELS)
    layer = fig.data[CELL_CURVE]
    for index in range(0, len(layer.x), 37):
        state = {"selection": {"points": [{"curve_number": 1, "point_index": index}]}}
        cell = figs.selection_to_cell(state, feature_size=info.feature_size, curve_number=1)
        assert cell == tuple(int(v) for v in layer.customdata[index])


# ---------------------------------------------------------------- outputs, ERF panels


def test_shape_rows_follow_deeplab_v3():
    rows = dict(panels.shape_rows(320, (19, 29), (6, 12, 18)))
    assert rows["input"] == "320 × 19 × 29"
    assert rows["rate 12"] == rows["1x1"] == rows["image pool"] == "256 × 19 × 29"
    assert rows["concat"] == "1280 × 19 × 29" and rows["project"] == "256 × 19 × 29"


def test_previews_figure_keeps_h_by_w_and_shares_the_colour_range():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    previews = {k: v[0, 0].numpy() for k, v in aspp.branch_previews(x, (1, 2)).items()}
    fig = panels.previews_figure(previews, titles={k: k.upper() for k in previews}, title="T")
    images = [tr for tr in fig.data if tr.type == "image"]
    assert len(images) == 4
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["1X1", "RATE 1", "RATE 2", "IMAGE POOL"]
    # each title is placed on its own panel's axes, so it follows the image at any width
    refs = [(a.xref, a.yref, a.x, a.y) for a in fig.layout.annotations]
    assert refs == [(f"x{s} domain", f"y{s} domain", 0.5, 1) for s in ("", "2", "3", "4")]
    assert fig.layout.xaxis.title.text == "3 × 4"
    pool = _decode(images[3].source)
    assert len(np.unique(pool.reshape(-1, 3), axis=0)) == 1  # the global mean: one colour


def _decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_erf_figure_draws_the_theoretical_box_and_radius_circles():
    grad = np.zeros((40, 60), np.float32)
    grad[18:23, 27:34] = 1.0
    erf = erf_map(grad, (20.0, 30.0), Box(5, 10, 35, 50))
    fig = panels.erf_figure([("1x1", erf), ("rate 6", erf)], image_size=(40, 60),
                          radius_label="r50 {r50:.0f} · r90 {r90:.0f}")
    boxes = [tr for tr in fig.data if tr.type == "scatter" and tr.fill is None
             and tr.line.color != "white"]
    assert len(boxes) == 2
    assert sorted(set(v for v in boxes[0].x if v is not None)) == [10, 50]
    assert sorted(set(v for v in boxes[0].y if v is not None)) == [5, 35]
    circles = [tr for tr in fig.data if tr.type == "scatter" and tr.line.color == "white"]
    assert len(circles) == 4
    radius = np.hypot(np.asarray(circles[0].x) - 30.5, np.asarray(circles[0].y) - 20.5)
    assert radius == pytest.approx(erf.r50)
    assert fig.layout.xaxis.title.text == f"r50 {erf.r50:.0f} · r90 {erf.r90:.0f}"


@pytest.mark.parametrize("kernel", [1, 3, 5])
def test_previews_figure_shows_each_branch_on_the_shared_colour_range(kernel):
    x = torch.arange(35.0).view(1, 1, 5, 7)
    previews = {k: v[0, 0].numpy() for k, v in aspp.branch_previews(x, (2,), kernel=kernel)
                .items()}
    fig = panels.previews_figure(previews, titles={k: k for k in previews})
    images = [_decode(tr.source) for tr in fig.data if tr.type == "image"]
    lo = min(float(v.min()) for v in previews.values())
    hi = max(float(v.max()) for v in previews.values())
    for values, image in zip(previews.values(), images, strict=True):
        factor = image.shape[0] // 5
        assert image.shape[:2] == (5 * factor, 7 * factor)  # crisp cells, one block each
        cells = image[factor // 2::factor, factor // 2::factor]
        np.testing.assert_array_equal(cells, colorize(values, vmin=lo, vmax=hi))


def test_panel_image_downsamples_large_maps_and_keeps_the_extent():
    trace = panels.panel_image(np.random.default_rng(0).random((600, 300)), (300, 600))
    shown = _decode(trace.source)
    assert shown.shape[:2] == (panels.PANEL_SIDE, panels.PANEL_SIDE // 2)
    assert trace.dx * shown.shape[1] == pytest.approx(300)
    assert trace.dy * shown.shape[0] == pytest.approx(600)


# ---------------------------------------------------------------- photo and budgets


def test_taps_photo_is_a_palette_png_covering_the_image_pixels():
    fig = figs.taps_figure(np.zeros((700, 1000, 3), np.uint8),
                           field=FieldInfo(size=(3, 3), jump=(32, 32), padding=(1, 1)),
                           feature_size=(22, 32), point=(3, 4), rates=(2,), labels=LABELS,
                           height=800)
    photo = fig.data[0]
    assert photo.source.startswith("data:image/png;base64,")
    shown = Image.open(io.BytesIO(base64.b64decode(photo.source.split(",", 1)[1])))
    assert shown.mode == "P" and max(shown.size) == PHOTO_SIDE  # 256 colours, <= 480 px
    assert photo.dx * shown.size[0] == pytest.approx(1000)
    assert photo.dy * shown.size[1] == pytest.approx(700)
    small = figs.taps_figure(np.zeros((700, 1000, 3), np.uint8),
                             field=FieldInfo(size=(3, 3), jump=(32, 32), padding=(1, 1)),
                             feature_size=(22, 32), point=(3, 4), rates=(2,), labels=LABELS,
                             height=560)
    assert small.data[0].dx == pytest.approx(1000 / 400)  # the plot's height on screen


@pytest.mark.parametrize(("sample", "stride", "limit"), [
    ("chelsea.png", 16, 150_000), ("rocket.jpg", 16, 150_000), ("rocket.jpg", 8, 150_000),
    ("astronaut.png", 16, 150_000), ("astronaut.png", 8, 200_000)])
def test_taps_figure_stays_small(sample, stride, limit):
    rgb = np.asarray(Image.open(ROOT / "assets" / "samples" / sample).convert("RGB"))
    info = tap_info(EfficientNetLite0(output_stride=stride).eval(), "stage7", rgb.shape[:2])
    rates = aspp.rates_for_output_stride(stride)
    fig = figs.taps_figure(rgb, field=info.field, feature_size=info.feature_size,
                           point=(2, 3), rates=rates, kernel=7, labels=LABELS, height=560)
    assert figure_bytes(fig) < limit
    layer = fig.data[CELL_CURVE]
    assert figs.click_step(info.feature_size) == 1  # every cell of the samples is clickable
    assert len(layer.x) == info.feature_size[0] * info.feature_size[1]
    assert np.asarray(layer.customdata).dtype == np.uint8


def test_dense_maps_get_a_sparser_click_layer_that_maps_back_to_its_cells():
    field = FieldInfo(size=(851, 851), jump=(8, 8), padding=(422, 423))
    feature_size = (145, 217)  # a 2-megapixel upload at output stride 8
    step = figs.click_step(feature_size)
    assert step == 3
    fig = figs.taps_figure(np.zeros((1155, 1732, 3), np.uint8), field=field,
                           feature_size=feature_size, point=(70, 100), rates=(12, 24, 36),
                           labels=LABELS)
    layer = fig.data[CELL_CURVE]
    assert len(layer.x) <= figs.MAX_CLICK_CELLS
    for index in (0, 5, len(layer.x) - 1):
        state = {"selection": {"points": [{"curve_number": CELL_CURVE, "point_index": index}]}}
        row, col = figs.selection_to_cell(state, feature_size=feature_size,
                                          curve_number=CELL_CURVE)
        assert row % step == 0 and col % step == 0
        y, x = field.center(row, col)
        assert (layer.y[index], layer.x[index]) == pytest.approx((y + 0.5, x + 0.5))
    assert figure_bytes(fig) < 300_000
