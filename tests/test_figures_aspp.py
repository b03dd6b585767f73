"""ASPP figures: taps rate x stride px apart, Fig. 4 data, clicks, gridding, animation."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz import aspp
from pyramidviz.backbones import EfficientNetLite0, tap_info
from pyramidviz.erf import erf_map
from pyramidviz.figures import aspp as figs
from pyramidviz.figures.base import figure_bytes
from pyramidviz.receptive import Box, FieldInfo

LABELS = {"1x1": "1x1", "rate": "rate {r} ({on}/{n})", "pool": "pool", "point": "point",
          "hover": "cell"}
VALID_LABELS = {"count": "{n} valid", "all": "all {n}", "centre": "centre ({n})", "x": "rate",
                "y": "share", "rate": "r={r}"}
CELL_CURVE = 1  # the clickable cell layer is trace 1 of the taps figure (app_pages/aspp.py)
ANIM_LABELS = {"input": "in", "output": "out", "play": "Play", "pause": "Pause"}


@pytest.fixture(scope="module")
def stage7_os16():
    """Real traced geometry of EfficientNet-Lite0 stage7 at OS 16 on a 300 x 451 photo."""
    return tap_info(EfficientNetLite0(output_stride=16).eval(), "stage7", (300, 451))


def _photo(h: int = 300, w: int = 451) -> dict:
    return figs.photo_trace(np.zeros((h, w, 3), np.uint8)).to_plotly_json()


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
    fig = figs.taps_figure(_photo(), image_size=(300, 451), field=info.field,
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
    fig = figs.taps_figure(_photo(), image_size=(300, 451), field=info.field,
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
    fig = figs.taps_figure(_photo(), image_size=(300, 451), field=info.field,
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


def test_centre_only_rates_match_the_tap_count():
    assert figs.centre_only_rates((19, 29), (9, 14), (6, 12, 18)) == (18,)
    assert figs.centre_only_rates((4, 6), (0, 0), (1, 6, 12)) == (6, 12)
    assert figs.centre_only_rates((65, 65), (32, 32), (6, 12, 18)) == ()


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
    fig = figs.taps_figure(_photo(), image_size=(300, 451), field=info.field,
                           feature_size=info.feature_size, point=(0, 0), rates=(6,),
                           labels=LABELS)
    layer = fig.data[1]
    for index in range(0, len(layer.x), 37):
        state = {"selection": {"points": [{"curve_number": 1, "point_index": index}]}}
        cell = figs.selection_to_cell(state, feature_size=info.feature_size, curve_number=1)
        assert cell == tuple(int(v) for v in layer.customdata[index])


# ---------------------------------------------------------------- rates text


@pytest.mark.parametrize("text,expected", [
    ("6,12,18", (6, 12, 18)), (" 3 ; 5 ", (3, 5)), ("1", (1,)), ("128", (128,)),
])
def test_parse_rates_accepts_lists(text, expected):
    assert figs.parse_rates(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "6,x", "6.5", "-3", "0", "129", "6,6",
                                  "1,2,3,4,5,6,7", "६"])
def test_parse_rates_rejects_bad_text(text):
    with pytest.raises(ValueError):
        figs.parse_rates(text)


def test_parse_rates_allows_repeats_for_stacks():
    assert figs.parse_rates("2,2,2", distinct=False) == (2, 2, 2)


# ---------------------------------------------------------------- valid weights


@pytest.mark.parametrize("size,kernel", [((19, 29), 3), ((65, 65), 3), ((4, 6), 5), ((7, 3), 1)])
def test_valid_weights_figure_data_equals_valid_weight_counts(size, kernel):
    table = figs.valid_weights_table(size, kernel=kernel)
    fig = figs.valid_weights_figure(table, marked=(6, 12, 18), labels=VALID_LABELS)
    lines = {tr.name: tr for tr in fig.data}
    assert len(lines) == len(table.counts)
    full = kernel * kernel
    for rate in range(1, max(size) + 3):
        counts = aspp.valid_weight_counts(size, rate, kernel)
        for count in table.counts:
            name = (f"all {count}" if count == full else f"centre ({count})" if count == 1
                    else f"{count} valid")
            trace = lines[name]
            assert trace.x[rate - 1] == rate
            assert trace.y[rate - 1] == pytest.approx(counts.get(count, 0.0), abs=0)


def test_valid_weights_match_the_papers_65_map():
    table = figs.valid_weights_table((65, 65), max_rate=70)
    nine = table.share[:, table.counts.index(9)]
    one = table.share[:, table.counts.index(1)]
    assert nine[0] == pytest.approx((63 / 65) ** 2)  # rate 1: only the border loses taps
    assert np.all(np.diff(nine) <= 0)
    assert one[64] == 1.0 and one[31] == 0.0  # rate >= 65: centre only; rate 32: >= 4 valid


def test_valid_weights_marks_the_current_rates():
    table = figs.valid_weights_table((19, 29))
    fig = figs.valid_weights_figure(table, marked=(6, 12, 18, 99), labels=VALID_LABELS)
    marked = sorted(shape.x0 for shape in fig.layout.shapes)
    assert marked == [6, 12, 18]  # 99 is beyond the plotted range
    assert [a.text for a in fig.layout.annotations] == ["r=6", "r=12", "r=18"]


# ---------------------------------------------------------------- outputs, ERF


def test_shape_rows_follow_deeplab_v3():
    rows = dict(figs.shape_rows(320, (19, 29), (6, 12, 18)))
    assert rows["input"] == "320 × 19 × 29"
    assert rows["rate 12"] == rows["1x1"] == rows["image pool"] == "256 × 19 × 29"
    assert rows["concat"] == "1280 × 19 × 29" and rows["project"] == "256 × 19 × 29"


def test_previews_figure_keeps_h_by_w_and_shares_the_colour_range():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    previews = {k: v[0, 0].numpy() for k, v in aspp.branch_previews(x, (1, 2)).items()}
    fig = figs.previews_figure(previews, titles={k: k.upper() for k in previews}, title="T")
    images = [tr for tr in fig.data if tr.type == "image"]
    assert len(images) == 4
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["1X1", "RATE 1", "RATE 2", "IMAGE POOL"]
    assert fig.layout.xaxis.title.text == "3 × 4"
    pool = _decode(images[3].source)
    assert len(np.unique(pool.reshape(-1, 3), axis=0)) == 1  # the global mean: one colour


def _decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_erf_figure_draws_the_theoretical_box_and_radius_circles():
    grad = np.zeros((40, 60), np.float32)
    grad[18:23, 27:34] = 1.0
    erf = erf_map(grad, (20.0, 30.0), Box(5, 10, 35, 50))
    fig = figs.erf_figure([("1x1", erf), ("rate 6", erf)], image_size=(40, 60),
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


# ---------------------------------------------------------------- gridding


def test_gridding_figure_shows_exactly_the_holes():
    stacks = [("a", aspp.stack_coverage((2, 2, 2))), ("b", aspp.stack_coverage((1, 2, 5)))]
    fig = figs.gridding_figure(stacks)
    images = [tr for tr in fig.data if tr.type == "image"]
    for (_, coverage), image in zip(stacks, images, strict=True):
        rgb = _decode(image.source)
        factor = rgb.shape[0] // coverage.span
        cells = rgb[factor // 2::factor, factor // 2::factor]
        grey = np.all(cells == [0xD0, 0xD0, 0xD0], axis=-1)
        assert int(grey.sum()) == coverage.holes
    assert int(grey.sum()) == 0  # (1, 2, 5) covers everything (Wang et al.)


# ---------------------------------------------------------------- the sliding kernel


@settings(max_examples=80, deadline=None)
@given(size=st.integers(1, 12), kernel=st.sampled_from([1, 2, 3, 5]), padding=st.integers(0, 4),
       stride=st.integers(1, 4), dilation=st.integers(1, 4))
def test_conv_output_size_matches_torch(size, kernel, padding, stride, dilation):
    expected = figs.conv_output_size(size, kernel, padding=padding, stride=stride,
                                     dilation=dilation)
    x, w = torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel)
    if expected < 1:
        with pytest.raises(RuntimeError):
            F.conv2d(x, w, padding=padding, stride=stride, dilation=dilation)
        return
    out = F.conv2d(x, w, padding=padding, stride=stride, dilation=dilation)
    assert out.shape[-1] == expected


def test_sliding_kernel_frames_follow_the_kernel():
    fig = figs.sliding_kernel_figure(9, 3, rate=2, padding=1, stride=2, labels=ANIM_LABELS)
    out = figs.conv_output_size(9, 3, padding=1, stride=2, dilation=2)
    assert out == 4 and len(fig.frames) == out * out
    frame = fig.frames[out + 1]  # output (1, 1)
    assert frame.name == "1,1"
    on_input, on_padding = frame.data[0], frame.data[1]
    taps = sorted(zip(on_input.y + on_padding.y, on_input.x + on_padding.x, strict=True))
    expected = sorted((2 + 2 * a + 0.5, 2 + 2 * b + 0.5) for a in range(3) for b in range(3))
    assert taps == expected and len(on_padding.x) == 0
    corner = fig.frames[0]
    assert len(corner.data[1].x) == 5  # the first row and column land on the padding
    assert fig.layout.updatemenus[0].buttons[0].label == "Play"
    assert len(fig.layout.sliders[0].steps) == out * out


def test_sliding_kernel_refuses_a_kernel_that_does_not_fit():
    with pytest.raises(ValueError, match="output size"):
        figs.sliding_kernel_figure(5, 7, rate=2, padding=0, stride=1, labels=ANIM_LABELS)


# ---------------------------------------------------------------- budgets


def test_figures_stay_small_for_the_largest_settings():
    big = tap_info(EfficientNetLite0(output_stride=8).eval(), "stage7", (427, 640))
    rgb = np.asarray(Image.open(ROOT / "assets" / "samples" / "rocket.jpg").convert("RGB"))
    photo = figs.photo_trace(rgb).to_plotly_json()
    fig = figs.taps_figure(photo, image_size=(427, 640), field=big.field,
                           feature_size=big.feature_size, point=(20, 30), rates=(12, 24, 36),
                           kernel=7, labels=LABELS)
    assert big.feature_size == (54, 80)
    assert figure_bytes(fig) < 300_000
    anim = figs.sliding_kernel_figure(11, 1, rate=1, padding=4, stride=1, labels=ANIM_LABELS)
    assert len(anim.frames) == 19 * 19 and figure_bytes(anim) < 300_000
    table = figs.valid_weights_table((54, 80), kernel=7)
    assert figure_bytes(figs.valid_weights_figure(table, marked=(12,), labels=VALID_LABELS)) \
        < 300_000


def test_photo_trace_covers_the_image_pixels():
    trace = figs.photo_trace(np.zeros((700, 1000, 3), np.uint8))
    assert trace.source.startswith("data:image/jpeg;base64,")
    shown = _decode(trace.source)
    assert max(shown.shape[:2]) == 640
    assert trace.dx * shown.shape[1] == pytest.approx(1000)
    assert trace.dy * shown.shape[0] == pytest.approx(700)
