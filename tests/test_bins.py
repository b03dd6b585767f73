"""Tests for pyramidviz.bins: SPP's bins, the paper's rule and level parsing, without torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz.bins import (
    LEVEL_ERROR_CODES,
    MAX_LEVEL,
    MAX_LEVEL_COUNT,
    LevelsError,
    bin_count,
    bin_edges,
    bin_of,
    oversized_levels,
    paper_rule_failures,
    paper_rule_report,
    parse_levels,
    vector_length,
    widest_bin,
)

from conftest import ROOT


def test_the_bins_load_without_torch() -> None:
    code = "import sys, pyramidviz.bins; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300), st.integers(1, 40))
def test_adaptive_bins_cover_every_cell_in_order(size: int, bins: int) -> None:
    edges = bin_edges(size, bins)
    assert len(edges) == bins and edges[0][0] == 0 and edges[-1][1] == size
    assert all(s < e for s, e in edges)
    assert all(e0 >= s1 and s0 <= s1 for (s0, e0), (s1, _) in zip(edges, edges[1:], strict=False))
    assert widest_bin(size, bins) == max(e - s for s, e in edges)
    for cell in range(size):
        start, end = edges[bin_of(cell, size, bins)]
        assert start <= cell < end
        assert all(not (s <= cell < e) for s, e in edges[:bin_of(cell, size, bins)])


def test_bin_of_and_widest_bin_by_hand() -> None:
    assert [bin_of(c, 10, 4) for c in range(10)] == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3]
    assert (widest_bin(10, 4), widest_bin(13, 6), widest_bin(12, 4)) == (3, 3, 3)
    with pytest.raises(ValueError, match="0 .. 6"):
        bin_of(7, 7, 4)


def test_counts_and_lengths_from_the_paper() -> None:
    assert (bin_count((4, 2, 1)), bin_count((6, 3, 2, 1))) == (21, 50)
    assert vector_length(256, (6, 3, 2, 1)) == 12_800  # ZF-5's fc6 input, He et al. Sec. 3.1
    assert vector_length(320, (4, 2, 1)) == 6_720  # stage7 of EfficientNet-Lite0
    assert oversized_levels((6, 3, 1), (4, 9)) == {6: 4}
    with pytest.raises(ValueError, match="levels"):
        bin_count((4, 0))


@pytest.mark.parametrize(("size", "bins", "count"), [(7, 4, 6), (10, 6, 9), (13, 4, 4)])
def test_paper_rule_window_counts_from_reference(size: int, bins: int, count: int) -> None:
    report = paper_rule_report(size, bins)
    assert report.n_windows == count
    assert report.wrong_count == (count != bins)


def test_paper_rule_leaves_last_cell_of_10_into_4() -> None:
    report = paper_rule_report(10, 4)
    assert (report.window, report.stride, report.n_windows) == (3, 2, 4)
    assert report.uncovered == (9,) and not report.wrong_count and not report.ok


def test_paper_rule_stride_zero_below_level() -> None:
    report = paper_rule_report(3, 6)
    assert report.zero_stride and report.stride == 0 and report.n_windows == 0
    assert report.uncovered == (0, 1, 2)


def test_paper_rule_failures_table() -> None:
    failures = paper_rule_failures(13, (6, 3, 2, 1), smaller_maps=True)
    found = {(r.size, r.bins) for r in failures}
    brute = {(a, n) for a in range(1, 14) for n in (6, 3, 2, 1)
             if not paper_rule_report(a, n).ok}
    assert found == brute
    # n = 6: a = 8..11 gives 7..10 windows of 2 at stride 1; 7, 12, 13 work; a < 6 has stride 0
    assert {(a, 6) for a in (1, 2, 3, 4, 5, 8, 9, 10, 11)} == {f for f in found if f[1] == 6}
    assert (2, 3) in found and all(n != 1 for _, n in found)
    assert [(r.size, r.bins) for r in failures] == sorted(found)
    # the page's table: only maps with at least n cells, where the formula itself is at fault
    teaching = {(r.size, r.bins) for r in paper_rule_failures(13, (6, 3, 2, 1))}
    assert teaching == {(a, n) for a, n in found if a >= n}
    assert {(8, 6), (9, 6), (10, 6), (11, 6)} <= teaching and (2, 3) not in teaching


def test_bin_edges_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="rule"):
        bin_edges(5, 2, rule="ceil")
    with pytest.raises(ValueError, match="size"):
        bin_edges(0, 2)
    with pytest.raises(ValueError, match="bins"):
        bin_edges(5, 1.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------- parse_levels

@pytest.mark.parametrize(
    ("text", "levels"),
    [("5,3,1", (5, 3, 1)), ("4 2 1", (4, 2, 1)), (" 6, 3 ,2,  1 ", (6, 3, 2, 1)),
     ("1", (1,)), ("32", (32,)), ("1,2,3,4,5,6,7,8", tuple(range(1, 9))), ("+3", (3,))],
)
def test_parse_levels_accepts(text: str, levels: tuple) -> None:
    assert parse_levels(text) == levels


@pytest.mark.parametrize(
    ("text", "code", "value", "match"),
    [("", "empty", None, "at least one"), (" , ", "empty", None, "at least one"),
     ("4,a,1", "number", "a", "whole number"), ("2.5", "number", "2.5", "whole number"),
     ("4 2 1e2", "number", "1e2", "whole number"),
     ("0", "range", 0, "between 1 and 32"), ("-1", "range", -1, "between 1 and 32"),
     ("5, 33", "range", 33, "between 1 and 32"), ("4,2,4", "repeat", 4, "only once"),
     ("+3 3", "repeat", 3, "only once"),
     ("1 2 3 4 5 6 7 8 9", "count", 9, "at most 8")],
)
def test_parse_levels_rejects_with_a_code_the_value_and_an_english_message(
        text: str, code: str, value: object, match: str) -> None:
    with pytest.raises(LevelsError, match=match) as caught:
        parse_levels(text)
    assert (caught.value.code, caught.value.value) == (code, value)
    assert isinstance(caught.value, ValueError)  # callers catching ValueError still work


def test_every_levels_error_code_is_reachable_and_limits_are_the_documented_ones() -> None:
    texts = {"empty": "", "count": " ".join(map(str, range(1, MAX_LEVEL_COUNT + 2))),
             "number": "x", "range": str(MAX_LEVEL + 1), "repeat": "2 2"}
    codes = []
    for text in texts.values():
        with pytest.raises(LevelsError) as caught:
            parse_levels(text)
        codes.append(caught.value.code)
    assert tuple(codes) == LEVEL_ERROR_CODES
    assert parse_levels(" ".join(map(str, range(MAX_LEVEL - MAX_LEVEL_COUNT + 1,
                                                 MAX_LEVEL + 1)))) == tuple(range(25, 33))
    with pytest.raises(ValueError, match="code must be one of"):
        LevelsError("typo", "message")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789 ,+-.xa", max_size=30))
def test_parse_levels_either_parses_or_raises_a_known_code(text: str) -> None:
    try:
        levels = parse_levels(text)
    except LevelsError as error:
        assert error.code in LEVEL_ERROR_CODES
        return
    assert 1 <= len(levels) <= MAX_LEVEL_COUNT and len(set(levels)) == len(levels)
    assert all(1 <= n <= MAX_LEVEL for n in levels)
