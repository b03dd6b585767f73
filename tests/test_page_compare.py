"""AppTest: the Compare page with every control, URL parameters and both languages."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pyramidviz.bins import bin_edges

from apptest import figures, open_page, view_data

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane


def open_compare(**params: str) -> AppTest:
    at = open_page("compare", **params)
    assert not at.exception, at.exception
    return at


def table_cells(at: AppTest, index: int = 0) -> list[list[str]]:
    return at.table[index].value.astype(str).values.tolist()


def test_default_view_shows_shapes_costs_and_three_figures():
    at = open_compare()
    assert at.title[0].value == "SPP vs ASPP, side by side"
    assert len(figures(at)) == 3  # SPP's strip, ASPP's map, growth; the cell is a view
    rows = {row[0]: row[1:] for row in table_cells(at)}
    # chelsea is 451 x 300: stage7 at output stride 16 is 320 x 19 x 29
    assert rows["Input"] == ["320 × 19 × 29", "320 × 19 × 29"]
    assert rows["Output values"] == ["6,720", f"{256 * 19 * 29:,}"]
    assert rows["Parameters of the module"] == ["0", "2,706,432"]
    assert "rates at this output stride: 6, 12, 18" in " ".join(c.value for c in at.caption)
    # issue 12: the real DeepLab v3 head, an fc6 said to be hypothetical, real multiply-adds
    from pyramidviz.aspp import aspp_macs, aspp_macs_on_map

    spp_next, aspp_next = rows["What comes next (SPP: an fc6 as wide as SPP-net's; "
                               "ASPP: the rest of torchvision's DeepLabHead)"]
    assert aspp_next.startswith("torchvision's DeepLabHead after its ASPP: 3 × 3 conv")
    assert "to 21 classes, 595,733 parameters" in aspp_next  # torchvision's head
    assert "straight to the 1 × 1 classifier: 5,397 parameters" in aspp_next  # the paper's
    assert spp_next.startswith("hypothetical fc6 on this vector: 6,720 × 4,096")
    assert "ZF-5: 12,800 × 4,096" in spp_next
    ops = rows["Work (SPP: comparisons; ASPP: multiply-adds, all taps / taps on real features)"]
    # multiply-adds in the ASPP page's format (its caption writes "6.76 G")
    assert ops[1] == (f"{aspp_macs(320, 256, (6, 12, 18), (19, 29)) / 1e9:.2f} G / "
                      f"{aspp_macs_on_map(320, 256, (6, 12, 18), (19, 29)) / 1e9:.2f} G")


def test_output_stride_and_pyramid_controls_change_the_numbers():
    at = open_compare()
    at.segmented_control(key="cmp_os").set_value("8").run()
    at.segmented_control(key="cmp_levels").set_value("6-3-2-1").run()
    assert not at.exception
    rows = {row[0]: row[1:] for row in table_cells(at)}
    assert rows["Input"][0] == "320 × 38 × 57"
    assert rows["Output values"][0] == f"{320 * 50:,}"  # 6-3-2-1: 50 bins
    assert "12, 24, 36" in " ".join(c.value for c in at.caption)
    payload = view_data(at, "cmp_sees_view")["payload"]
    assert payload["spp"]["level"] == 6 and payload["stride"] == 8
    assert [b["rate"] for b in payload["branches"]] == [None, 12, 24, 36]


def test_the_linked_view_carries_the_finest_bins_and_the_taps():
    at = open_compare()
    data = view_data(at, "cmp_sees_view")
    payload = data["payload"]
    assert data["state"] == {"cell": [9, 14]} and payload["map"] == [19, 29]
    rows = bin_edges(19, 4)
    assert payload["spp"]["row_bin"][9] == 1 and rows[1] == (4, 10)  # bins [0,5) [4,10) ...
    assert len(payload["spp"]["boxes"]) == 16
    assert data["testid"] == "pv-compare" and data["url_key"] == "cmp_cell"


def test_link_reproduces_the_view():
    at = open_compare(cmp_os="32", cmp_levels="3-2-1", cmp_cell="2,3")
    assert at.segmented_control(key="cmp_os").value == "32"
    assert at.segmented_control(key="cmp_levels").value == "3-2-1"
    assert view_data(at, "cmp_sees_view")["state"] == {"cell": [2, 3]}
    assert not at.warning


@pytest.mark.parametrize("params", [{"cmp_os": "7"}, {"cmp_levels": "<b>"},
                                    {"cmp_cell": "999,1"}, {"cmp_cell": "x"},
                                    {"cmp_cell": "-inf,inf"}])
def test_garbage_parameters_fall_back_with_a_notice(params):
    at = open_compare(**params)
    assert any(next(iter(params)) in w.value for w in at.warning)
    assert len(figures(at)) == 3
    assert view_data(at, "cmp_sees_view")["state"]["cell"] == [9, 14]


def test_korean_compare_page():
    at = open_compare(lang="한국어")
    assert at.title[0].value == "SPP vs ASPP 나란히 보기"
    assert "입력" in [row[0] for row in table_cells(at)]


def test_presentation_mode_folds_the_controls_into_one_place():
    at = open_compare(present="true")
    assert [e.label for e in at.expander if e.label == "Controls"] == ["Controls"]
    at.segmented_control(key="cmp_os").set_value("8").run()
    assert not at.exception
    assert view_data(at, "cmp_sees_view")["present"] is True
    assert [e.label for e in at.expander if e.label == "Controls"] == ["Controls"]


def test_a_new_photo_starts_at_the_centre_of_its_map(sample_png):
    """The link's cell is honoured once; an upload then centres the cell, whatever the URL
    still says (the old photo's bottom row was where a class's cells landed before)."""
    import io

    from PIL import Image

    at = open_compare(cmp_os="16", cmp_cell="17,3")  # chelsea: a 19 x 29 map at OS 16
    assert view_data(at, "cmp_sees_view")["state"] == {"cell": [17, 3]}
    at.file_uploader(key="upload").set_value(("mine.png", sample_png, "image/png")).run()
    assert not at.exception and not at.warning
    w, h = Image.open(io.BytesIO(sample_png)).size
    rows, cols = -(-h // 16), -(-w // 16)  # TF "SAME": ceil(side / stride)
    assert view_data(at, "cmp_sees_view")["state"] == {"cell": [rows // 2, cols // 2]}


def test_the_three_pages_agree_on_the_map_and_the_output_stride_control():
    """One map (stage7) on SPP, ASPP and Compare, and one output-stride control in one order
    (it was a radio 8, 16, 32 on ASPP and buttons 32, 16, 8 here); each page opens on its
    view with a "try this" line above it and the explanations folded below."""
    from pyramidviz import i18n

    pages = {name: open_page(name, pinned=False) for name in ("spp", "aspp", "compare")}
    for at in pages.values():
        assert not at.exception, at.exception
    assert pages["spp"].selectbox(key="spp_src").value == "stage7"
    assert pages["aspp"].selectbox(key="aspp_tap").value == "stage7"
    assert "stage7" in " ".join(c.value for c in pages["compare"].caption)
    aspp_os = pages["aspp"].segmented_control(key="aspp_os")
    cmp_os = pages["compare"].segmented_control(key="cmp_os")
    options = [[o.content for o in x.proto.options] for x in (aspp_os, cmp_os)]
    assert options == [["8", "16", "32"]] * 2
    assert aspp_os.value == cmp_os.value == "16"
    for name, at in pages.items():
        texts = [m.value for m in at.markdown]
        assert i18n.translate("en", f"{name}.try") in texts, name
        assert i18n.translate("en", f"{name}.explain_title") in [e.label for e in at.expander]
    rates = i18n.translate("en", "aspp.rates_unused", os=16, rates="6, 12, 18")
    assert rates in [c.value for c in pages["aspp"].caption]  # the empty box says what it does
