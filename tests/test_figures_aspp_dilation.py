"""ASPP figures, part 3: valid weights vs rate (Fig. 4), gridding holes, the sliding kernel."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from pyramidviz import atrous
from pyramidviz.figures import aspp_dilation as figs
from pyramidviz.figures.base import figure_bytes

VALID_LABELS = {"count": "{n} valid", "all": "all {n}", "centre": "centre ({n})", "x": "rate",
                "y": "share", "rate": "r={r}"}
ANIM_LABELS = {"input": "in", "output": "out", "play": "Play", "pause": "Pause"}


def _decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


# ---------------------------------------------------------------- valid weights


@pytest.mark.parametrize("size,kernel", [((19, 29), 3), ((65, 65), 3), ((4, 6), 5), ((7, 3), 1)])
def test_valid_weights_figure_data_equals_valid_weight_counts(size, kernel):
    table = figs.valid_weights_table(size, kernel=kernel)
    fig = figs.valid_weights_figure(table, marked=(6, 12, 18), labels=VALID_LABELS)
    lines = {tr.name: tr for tr in fig.data}
    assert len(lines) == len(table.counts)
    full = kernel * kernel
    for rate in range(1, max(size) + 3):
        counts = atrous.valid_weight_counts(size, rate, kernel)
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


# ---------------------------------------------------------------- gridding


def test_gridding_figure_shows_exactly_the_holes():
    stacks = [("a", atrous.stack_coverage((2, 2, 2))), ("b", atrous.stack_coverage((1, 2, 5)))]
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


def test_sliding_kernel_frames_follow_the_kernel():
    fig = figs.sliding_kernel_figure(9, 3, rate=2, padding=1, stride=2, labels=ANIM_LABELS)
    out = atrous.conv_output_size(9, 3, padding=1, stride=2, dilation=2)
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


@pytest.mark.parametrize(("size", "kernel", "rate", "padding", "stride"), [
    (9, 3, 2, 2, 1), (7, 5, 1, 0, 2), (11, 7, 1, 3, 1), (5, 1, 4, 0, 1)])
def test_every_frame_reads_the_taps_of_its_output(size, kernel, rate, padding, stride):
    fig = figs.sliding_kernel_figure(size, kernel, rate=rate, padding=padding, stride=stride,
                                     labels=ANIM_LABELS)
    out = atrous.conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    assert len(fig.frames) == out * out
    n = size + 2 * padding
    for frame in fig.frames:
        oy, ox = map(int, frame.name.split(","))
        on, off = frame.data[0], frame.data[1]
        taps = sorted(zip(list(on.y) + list(off.y), list(on.x) + list(off.x), strict=True))
        expected = sorted((oy * stride + a * rate + 0.5, ox * stride + b * rate + 0.5)
                          for a in range(kernel) for b in range(kernel))
        assert taps == expected
        # hollow taps are exactly those on the padding ring
        for y, x in zip(off.y, off.x, strict=True):
            assert not (padding <= y < n - padding and padding <= x < n - padding)
        for y, x in zip(on.y, on.x, strict=True):
            assert padding <= y < n - padding and padding <= x < n - padding


# ---------------------------------------------------------------- budgets


def test_figures_stay_small_for_the_largest_settings():
    anim = figs.sliding_kernel_figure(11, 1, rate=1, padding=4, stride=1, labels=ANIM_LABELS)
    assert len(anim.frames) == 19 * 19 and figure_bytes(anim) < 300_000
    table = figs.valid_weights_table((54, 80), kernel=7)
    assert figure_bytes(figs.valid_weights_figure(table, marked=(12,), labels=VALID_LABELS)) \
        < 300_000
