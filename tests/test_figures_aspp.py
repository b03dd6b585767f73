"""ASPP: branch taps rate x stride px apart (atrous.branch_taps), ERF and output panels."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz import aspp, atrous
from pyramidviz.backbones import EfficientNetLite0, tap_info
from pyramidviz.erf import erf_map
from pyramidviz.figures import aspp_panels as panels
from pyramidviz.figures.base import colorize
from pyramidviz.receptive import Box, FieldInfo


@pytest.fixture(scope="module")
def stage7_os16():
    """Real traced geometry of EfficientNet-Lite0 stage7 at OS 16 on a 300 x 451 photo."""
    return tap_info(EfficientNetLite0(output_stride=16).eval(), "stage7", (300, 451))


# ---------------------------------------------------------------- taps


def test_branch_field_is_the_cell_field_grown_by_k_minus_1_rate_jump():
    field = FieldInfo(size=(11, 11), stride=(4, 4), padding=(5, 5))
    taps = atrous.branch_taps(field, (40, 40), (20, 20), rate=3, kernel=5, photo_hw=(160, 160))
    assert taps.field.height == 11 + (5 - 1) * 3 * 4
    own = field.cell_box(20, 20)
    assert (taps.field.top, taps.field.left) == (own.top - 2 * 3 * 4, own.left - 2 * 3 * 4)
    assert taps.inside.all() and taps.cells.shape == (25, 2)


def test_branch_field_only_counts_taps_on_the_map():
    field = FieldInfo(size=(3, 3), stride=(2, 2), padding=(1, 1))
    taps = atrous.branch_taps(field, (5, 5), (0, 0), rate=4, photo_hw=(10, 10))
    assert int(taps.inside.sum()) == 4  # (0,0) (0,4) (4,0) (4,4)
    assert taps.field == field.block_box((0, 5), (0, 5), image_size=(10, 10))
    with pytest.raises(ValueError, match="point"):
        atrous.branch_taps(field, (5, 5), (5, 0), rate=1, photo_hw=(10, 10))


@settings(max_examples=60, deadline=None)
@given(jump=st.integers(1, 32), pad=st.integers(0, 40), size=st.integers(1, 99),
       rate=st.integers(1, 20), kernel=st.sampled_from([1, 3, 5, 7]),
       row=st.integers(0, 9), col=st.integers(0, 9))
def test_tap_pixels_are_rate_jump_apart_for_any_geometry(jump, pad, size, rate, kernel, row,
                                                         col):
    field = FieldInfo(size=(size, size), stride=(jump, jump), padding=(pad, pad))
    taps = atrous.branch_taps(field, (10, 10), (row, col), rate=rate, kernel=kernel,
                            photo_hw=(320, 320))
    grid = taps.pixels.reshape(kernel, kernel, 2)
    if kernel > 1:
        assert np.all(np.diff(grid[..., 0], axis=0) == rate * jump)
        assert np.all(np.diff(grid[..., 1], axis=1) == rate * jump)
    assert tuple(grid[kernel // 2, kernel // 2]) == field.center(row, col)


# ---------------------------------------------------------------- panels




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
    fig = panels.erf_figure([("1x1", erf), ("rate 6", erf)], shown=[erf.map, erf.map],
                            photo_hw=(40, 60), radius_label="r50 {r50:.0f} · r90 {r90:.0f}")
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


def test_one_per_panel_splits_a_panel_row_keeping_its_colour_range_and_titles():
    from pyramidviz.figures import aspp_panels

    rng = np.random.default_rng(1)
    maps = {"1x1": rng.random((5, 7)), "rate 6": 3 + rng.random((5, 7))}
    row = aspp_panels.previews_figure(maps, titles={"1x1": "A", "rate 6": "B"}, title="t")
    parts = aspp_panels.one_per_panel(aspp_panels.previews_figure, maps,
                                      titles={"1x1": "A", "rate 6": "B"}, title="t",
                                      columns=2, width_px=800)
    assert [p.layout.annotations[0].text for p in parts] == ["A", "B"]
    assert all(p.layout.title.text is None for p in parts)  # the page shows the row's title
    assert [p.data[0].source for p in parts] == [t.source for t in row.data]  # same pixels
    assert all(len(p.data) == 1 and p.data[0].xaxis == "x" for p in parts)


def test_erf_radial_figure_draws_the_profile_it_is_given():
    from pyramidviz.erf import field_reach, mass_within

    grad = np.zeros((40, 60), np.float32)
    grad[18:23, 27:34] = 1.0
    erf = erf_map(grad, (20.0, 30.0), Box(5, 10, 35, 50))
    reach = field_reach(erf.theoretical, erf.center)
    radii = np.linspace(0.0, reach, 50)
    mass = mass_within(erf.map, erf.center, radii)
    labels = {"x": "r", "y": "mass", "r50": "r50", "r90": "r90", "field": "field"}
    fig = panels.erf_radial_figure([("1x1", erf)], radii=radii, mass=[mass], reach=[reach],
                                   labels=labels)
    curve, marks, field = fig.data
    np.testing.assert_allclose(curve.y, 100 * mass)
    assert curve.y[-1] == pytest.approx(100.0)  # all the mass lies inside the field
    assert list(marks.x) == pytest.approx([erf.r50, erf.r90]) and list(marks.y) == [50, 90]
    assert list(field.x) == [reach, reach]

