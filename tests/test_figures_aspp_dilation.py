"""ASPP, part 3: valid weights vs rate (Fig. 4), gridding holes, the sliding kernel's taps."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pyramidviz import atrous, payloads, sizes
from pyramidviz.figures import aspp_dilation as figs
from pyramidviz.figures.base import figure_bytes

VALID_LABELS = {"count": "{n} valid", "all": "all {n}", "centre": "centre ({n})", "x": "rate",
                "y": "share", "rate": "r={r}"}


def _decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


# ---------------------------------------------------------------- valid weights


@pytest.mark.parametrize("size,kernel", [((19, 29), 3), ((65, 65), 3), ((4, 6), 5), ((7, 3), 1)])
def test_valid_weights_figure_data_equals_valid_weight_counts(size, kernel):
    table = atrous.valid_weights_table(size, kernel=kernel)
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
    table = atrous.valid_weights_table((65, 65), max_rate=70)
    nine = table.share[:, table.counts.index(9)]
    one = table.share[:, table.counts.index(1)]
    assert nine[0] == pytest.approx((63 / 65) ** 2)  # rate 1: only the border loses taps
    assert np.all(np.diff(nine) <= 0)
    assert one[64] == 1.0 and one[31] == 0.0  # rate >= 65: centre only; rate 32: >= 4 valid


def test_valid_weights_marks_the_current_rates():
    table = atrous.valid_weights_table((19, 29))
    fig = figs.valid_weights_figure(table, marked=(6, 12, 18, 99), labels=VALID_LABELS)
    marked = sorted(shape.x0 for shape in fig.layout.shapes)
    assert marked == [6, 12, 18]  # 99 is beyond the plotted range
    assert [a.text for a in fig.layout.annotations] == ["r=6", "r=12", "r=18"]


# ---------------------------------------------------------------- gridding


def test_gridding_payload_shows_exactly_the_holes_layer_by_layer():
    payload = payloads.gridding_payload([(2, 2, 2), (1, 2, 5)])
    for stack in payload["stacks"]:
        for i, layer in enumerate(stack["layers"], start=1):
            coverage = atrous.stack_coverage(tuple(stack["rates"][:i]))
            rgb = _decode(layer["png"])
            assert rgb.shape[:2] == (coverage.span, coverage.span) == (layer["span"],) * 2
            grey = np.all(rgb == [221, 221, 221], axis=-1)
            np.testing.assert_array_equal(~grey, coverage.reach)
            assert int(grey.sum()) == layer["holes"] == coverage.holes
    assert payload["stacks"][1]["layers"][-1]["holes"] == 0  # (1, 2, 5) covers all (Wang et al.)
    assert [x["holes"] for x in payload["stacks"][0]["layers"]] == [16, 56, 120]  # 169 - 49


# ---------------------------------------------------------------- the sliding kernel


def test_sliding_taps_by_hand():
    cells, real = atrous.sliding_taps(9, 3, rate=2, padding=1, stride=2, position=(1, 1))
    assert sorted(map(tuple, cells.tolist())) == sorted(
        (2 + 2 * a, 2 + 2 * b) for a in range(3) for b in range(3))
    assert real.all()
    _, corner = atrous.sliding_taps(9, 3, rate=2, padding=1, stride=2, position=(0, 0))
    assert int((~corner).sum()) == 5  # the first row and column land on the padding
    assert payloads.kernel_payload(9, 3, rate=2, padding=1, stride=2)["out"] == 4
    with pytest.raises(ValueError, match="output size"):
        payloads.kernel_payload(5, 7, rate=2, padding=0, stride=1)
    with pytest.raises(ValueError, match="position"):
        atrous.sliding_taps(9, 3, rate=2, padding=1, stride=2, position=(4, 0))


@settings(max_examples=40, deadline=None)
@given(size=st.integers(5, 11), kernel=st.sampled_from([1, 3, 5, 7]), rate=st.integers(1, 4),
       padding=st.integers(0, 4), stride=st.integers(1, 3))
def test_every_position_reads_inside_the_padded_input(size, kernel, rate, padding, stride):
    out = sizes.conv_output_size(size, kernel, padding=padding, stride=stride, dilation=rate)
    if out < 1:
        return
    n = size + 2 * padding
    x = torch.arange(float(size * size)).reshape(1, 1, size, size)
    y = torch.nn.functional.conv2d(x, torch.ones(1, 1, kernel, kernel), padding=padding,
                                   stride=stride, dilation=rate)
    assert y.shape[-1] == out
    padded = torch.nn.functional.pad(x, (padding,) * 4)[0, 0]
    for oy in range(out):
        for ox in range(out):
            cells, real = atrous.sliding_taps(size, kernel, rate=rate, padding=padding,
                                              stride=stride, position=(oy, ox))
            assert cells.max() < n
            assert float(padded[cells[:, 0], cells[:, 1]].sum()) == float(y[0, 0, oy, ox])
            inside = ((cells >= padding) & (cells < n - padding)).all(axis=1)
            np.testing.assert_array_equal(real, inside)


# ---------------------------------------------------------------- budgets


def test_figures_stay_small_for_the_largest_settings():
    table = atrous.valid_weights_table((54, 80), kernel=7)
    assert figure_bytes(figs.valid_weights_figure(table, marked=(12,), labels=VALID_LABELS)) \
        < 300_000
