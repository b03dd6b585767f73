"""AppTest: the ASPP page drives every control, survives bad input and restores shared links."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui
from pyramidviz.payloads import taps_at

from apptest import open_page, view_data

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane

# chelsea (451 x 300 px), stage7 at OS 16: 19 x 29 cells; FieldInfo padding (414, 423), size 851
CHART_KEYS = ["aspp_prev_fig", "aspp_valid_fig"]  # and aspp_erf_fig, on demand
VIEW_KEYS = ["aspp_taps_view", "aspp_grid_view", "aspp_kernel_view"]


def open_aspp(**params: str) -> AppTest:
    return open_page("aspp", **params)


def text(at: AppTest) -> str:
    parts = [el.value for kind in ("title", "subheader", "markdown", "caption", "info")
             for el in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def with_erf(at: AppTest) -> AppTest:
    """Turn the on-demand effective fields on, as the section's button does."""
    at.button(key="aspp_erf_go").click().run()
    assert not at.exception
    return at


def figure(at: AppTest, key: str) -> dict:
    """The chart ``key``, or the per-branch charts ``key_0``, ``key_1`` ... as one figure
    (their data in order, the first one's layout)."""
    found = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
             if re.search(rf"{key}(_\d+)?$", chart.proto.id)]
    if not found:
        raise AssertionError(f"no chart {key}")
    return {"data": [d for spec in found for d in spec["data"]], "layout": found[0]["layout"],
            "figures": len(found)}


def values(v) -> np.ndarray:
    """A plotly data array from the JSON spec (typed 'bdata' or a plain list)."""
    if isinstance(v, dict):
        array = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return array.reshape([int(s) for s in v["shape"].split(",")]) if "shape" in v else array
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def taps_view(at: AppTest) -> dict:
    return view_data(at, "aspp_taps_view")


def drawn(at: AppTest, rate: int | None) -> list[dict]:
    """The taps the view draws for one branch at the cell it opens on (pyramidviz's oracle)."""
    data = taps_view(at)
    return [t for t in taps_at(data["payload"], tuple(data["state"]["cell"]))
            if t["rate"] == rate]


def on_map(at: AppTest, rate: int) -> int:
    return sum(t["on_map"] for t in drawn(at, rate))


def test_default_view_shows_every_figure_with_deeplab_rates():
    at = open_aspp()
    assert not at.exception
    assert at.title[0].value == "ASPP: atrous spatial pyramid pooling"
    page = text(at)
    assert "Rates 6, 12, 18: DeepLab v3's choice at output stride 16" in page
    data = taps_view(at)
    assert data["state"] == {"cell": [9, 14]} and data["payload"]["map"] == [19, 29]
    assert data["payload"]["stride"] == 16
    assert [(t["x"], t["y"]) for t in drawn(at, None)] == [(226.0, 155.0)]
    assert [on_map(at, r) for r in (6, 12, 18)] == [9, 3, 1]
    assert "320 channels × 19 × 29 cells" in page
    for key in CHART_KEYS:
        figure(at, key)
    for key in VIEW_KEYS:
        view_data(at, key)
    stacks = view_data(at, "aspp_grid_view")["payload"]["stacks"]
    assert [s["rates"] for s in stacks] == [[2, 2, 2], [1, 2, 5], [1, 2, 9]]
    from pyramidviz.atrous import stack_coverage

    assert [s["layers"][-1]["holes"] for s in stacks] == [
        stack_coverage(r).holes for r in ((2, 2, 2), (1, 2, 5), (1, 2, 9))] == [120, 0, 184]
    assert not any(c.proto.id.endswith("aspp_erf_fig_0") for c in at.get("plotly_chart"))
    erf = figure(with_erf(at), "aspp_erf_fig")  # on demand: nothing computed before the ask
    assert sum(d["type"] == "image" for d in erf["data"]) == 5  # 1x1, 3 rates, image pool
    assert "r50" in erf["layout"]["xaxis"]["title"]["text"]
    figure(at, "aspp_erf_radial")  # mass within r, one curve per branch
    assert "Rate 18: only the centre tap lands on the map" in text(at)
    assert "output stride 16 × rate 6 = output stride 8 × rate 12 = 96 px" in page
    assert "1280 × 19 × 29" in [c for col in at.table[0].value.values for c in col]


@pytest.mark.parametrize("stride", [8, 16])
def test_rendered_taps_are_rate_times_output_stride_pixels_apart(stride):
    at = open_aspp()
    at.segmented_control(key="aspp_os").set_value(str(stride)).run()
    assert not at.exception
    rates = (12, 24, 36) if stride == 8 else (6, 12, 18)
    assert taps_view(at)["payload"]["stride"] == stride
    assert [b["rate"] for b in taps_view(at)["payload"]["branches"]] == [None, *rates]
    for rate in rates:
        points = np.array([(t["y"], t["x"]) for t in drawn(at, rate)])
        assert len(points) == 9
        centre = points.mean(axis=0)
        gaps = sorted({float(v) for v in (points - centre).ravel()})
        assert gaps == [-rate * stride, 0.0, rate * stride]
    assert f"Rates {', '.join(map(str, rates))}: DeepLab v3's choice" in text(at)


def test_output_stride_32_says_its_rates_are_the_apps_extrapolation():
    at = open_aspp(aspp_os="32")
    assert not at.exception
    page = text(at)
    assert "Rates 3, 6, 9: the paper gives none for output stride 32" in page
    assert "10 × 15 cells" in page


def test_custom_rates_and_bad_rates_text():
    at = open_aspp()
    at.text_input(key="aspp_rates").input("3, 5").run()
    assert not at.exception
    assert [b["rate"] for b in taps_view(at)["payload"]["branches"]] == [None, 3, 5]
    assert "Your rates: 3, 5." in text(at)
    at.text_input(key="aspp_rates").input("6, banana, 0").run()
    assert not at.exception
    assert any("banana" in e.value and "6, 12, 18" in e.value
               and "whole numbers separated by commas" in e.value for e in at.error)
    assert [b["rate"] for b in taps_view(at)["payload"]["branches"]] == [None, 6, 12, 18]


def test_kernel_size_and_stage_controls():
    at = with_erf(open_aspp())
    erf3, prev3 = figure(at, "aspp_erf_fig"), figure(at, "aspp_prev_fig")
    at.selectbox(key="aspp_k").set_value(5).run()
    assert not at.exception
    assert taps_view(at)["payload"]["kernel"] == 5 and on_map(at, 6) == 15  # 3 x 5 rows fit
    assert "whatever kernel size" not in text(at)
    # the effective fields and branch outputs now use 5 x 5 kernels too
    assert figure(at, "aspp_erf_fig") != erf3 and figure(at, "aspp_prev_fig") != prev3
    assert "5 × 5 atrous conv, rate 6" in [c for col in at.table[0].value.values for c in col]
    assert "Parameters of this ASPP (5 × 5 kernels, 3 rates, 320 input channels): 6,638,592" \
        in text(at)  # 320*256*(2 + 25*3) + 5*256**2 + 2*256*6
    valid = figure(at, "aspp_valid_fig")
    assert any(d["name"] == "all 25 weights valid" for d in valid["data"])
    at.selectbox(key="aspp_k").set_value(1).run()
    assert "With a 1 × 1 kernel a rate changes nothing" in text(at)
    at.selectbox(key="aspp_tap").set_value("stage4").run()
    assert not at.exception
    assert "stage4 of EfficientNet-Lite0 at output stride 16: 80 channels" in text(at)


def test_a_cell_in_the_link_and_the_views_erf_request_move_the_effective_field():
    at = open_aspp(aspp_cell="0,2")
    assert not at.exception
    assert taps_view(at)["state"] == {"cell": [0, 2]}
    assert [(t["x"], t["y"]) for t in drawn(at, None)] == [(34.0, 11.0)]
    assert "Effective receptive field of cell (0, 2)" in text(at)
    before = figure(with_erf(at), "aspp_erf_fig")
    at.session_state["_aspp_erf_cell"] = (5, 7)  # what the view's "effective field" sends
    at.run()
    assert not at.exception
    assert "Effective receptive field of cell (5, 7)" in text(at)
    assert figure(at, "aspp_erf_fig") != before


@pytest.mark.parametrize("cell", ["999,3", "-3,1", "inf,nan", "1", "a,b", "١,٢", "1e309,0", ""])
def test_bad_cells_in_the_link_give_a_notice_and_the_centre(cell):
    at = open_aspp(aspp_cell=cell)
    assert not at.exception
    assert "aspp_cell" in " ".join(w.value for w in at.warning)
    assert taps_view(at)["state"] == {"cell": [9, 14]}


def test_a_cell_off_a_smaller_map_falls_back_to_its_centre():
    at = open_aspp(aspp_cell="18,28", aspp_os="32")  # a link made at OS 16, the map is 10 x 15
    assert not at.exception
    assert taps_view(at)["state"] == {"cell": [5, 7]}
    assert "aspp_cell" in " ".join(w.value for w in at.warning)


def test_channel_selector_changes_the_branch_outputs():
    at = with_erf(open_aspp())  # its radii and maps are downloads too
    mean = figure(at, "aspp_prev_fig")
    assert mean["figures"] == 5  # one figure per branch (phones stack them)
    assert "not learned weights" in text(at)  # the row's title, above the figures
    at.selectbox(key="aspp_ch").set_value("5").run()
    assert not at.exception
    assert figure(at, "aspp_prev_fig") != mean
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels.count("Download numbers (CSV)") == 3 and "Download the maps (NPY)" in labels


def test_gridding_custom_stack_and_bad_stack():
    at = open_aspp()
    page = text(at)
    assert "**2, 2, 2**: M₂ = 2 ≤ k = 3, common factor 2 → fails the HDC rules; 120" in page
    assert "**1, 2, 5**: M₂ = 2 ≤ k = 3, common factor 1 → passes" in page
    at.text_input(key="aspp_stack").input("2, 4").run()
    assert "**2, 4**: M₂ = 4 > k = 3, common factor 2 → fails" in text(at)
    at.text_input(key="aspp_stack").input("1; x").run()
    assert not at.exception
    assert any("1; x" in e.value and "whole numbers" in e.value for e in at.error)
    assert "**1, 2, 9**" in text(at)
    at.text_input(key="aspp_stack").input("7").run()
    assert any("type 2 to 6 rates" in e.value for e in at.error)


def test_sliding_kernel_controls_and_a_kernel_that_does_not_fit():
    at = open_aspp()
    at.slider(key="aspp_an_d").set_value(1)
    at.slider(key="aspp_an_p").set_value(1)
    at.slider(key="aspp_an_s").set_value(2).run()
    assert not at.exception
    assert "⌊(9 + 2·1 − 1·(3 − 1) − 1) / 2⌋ + 1 = **5**" in text(at)
    kernel = view_data(at, "aspp_kernel_view")["payload"]
    assert {k: kernel[k] for k in ("size", "kernel", "rate", "padding", "stride", "out")} == {
        "size": 9, "kernel": 3, "rate": 1, "padding": 1, "stride": 2, "out": 5}
    assert kernel["schema"] == "pv.kernel/2" and kernel["taps"][4] == [8, 9, 10]
    at.selectbox(key="aspp_k").set_value(7)
    at.slider(key="aspp_an_d").set_value(4)
    at.slider(key="aspp_an_p").set_value(0)
    at.slider(key="aspp_an_i").set_value(5).run()
    assert not at.exception
    assert any("no output" in w.value for w in at.warning)


def test_an_uploaded_photo_is_used(sample_png):
    at = open_aspp()
    at.file_uploader(key="upload").set_value(("tiny.png", sample_png, "image/png")).run()
    assert not at.exception
    assert "Using your upload: tiny\\.png" in " ".join(c.value for c in at.sidebar.caption)
    page = text(with_erf(at))
    assert "4 × 6 cells for the 96 × 64 px photo" in page
    assert "Rate 6, 12, 18: only the centre tap" in page
    assert taps_view(at)["state"] == {"cell": [2, 3]} and taps_view(at)["payload"]["map"] == [4, 6]


def test_a_shared_link_reopens_the_same_view():
    at = open_aspp(aspp_os="8", aspp_rates="12,24", aspp_k="5", aspp_tap="stage6",
                   aspp_cell="3,4", aspp_ch="7", aspp_stack="1,3",
                   aspp_an_d="3")
    assert not at.exception
    assert at.segmented_control(key="aspp_os").value == "8"
    assert at.text_input(key="aspp_rates").value == "12,24"
    assert at.selectbox(key="aspp_k").value == 5
    assert at.selectbox(key="aspp_tap").value == "stage6"
    assert taps_view(at)["state"] == {"cell": [3, 4]}
    assert at.selectbox(key="aspp_ch").value == "7"
    assert at.slider(key="aspp_an_d").value == 3
    assert "**1, 3**" in text(at)
    assert not at.warning


def test_garbage_parameters_fall_back_with_notices():
    at = open_aspp(aspp_os="7", aspp_k="4", aspp_tap="head", aspp_ch="abc", aspp_an_s="9")
    assert not at.exception
    notices = " ".join(w.value for w in at.warning)
    for key in ("aspp_os", "aspp_k", "aspp_tap", "aspp_ch", "aspp_an_s"):
        assert key in notices
    assert at.segmented_control(key="aspp_os").value == "16"
    assert at.selectbox(key="aspp_tap").value == "stage7"  # the page's default (BRIEF)


def test_korean_and_presentation_mode():
    at = open_aspp(lang="한국어", present="true")
    assert not at.exception
    assert at.title[0].value == "ASPP: 아트러스 공간 피라미드 풀링"
    assert "팽창률 6, 12, 18" in text(at)
    assert len(at.expander) >= 1  # the settings are folded away
    labels = taps_view(at)["labels"]
    assert labels["legend_rate"] == "팽창률 {r} (맵 안 {valid}/{total})"
    assert taps_view(at)["present"] is True


def test_statements_are_computed_from_the_geometry():
    """Issue 12: whole-photo cells, batch-norm share, real-feature multiply-adds, lattice."""
    at = open_aspp()
    page = text(at)
    from pyramidviz.backbones import tap_info

    info = tap_info(16, "stage7", (300, 451))
    whole = info.field.whole_image_cells(info.feature_size, (300, 451))
    assert (whole, 19 * 29) == (475, 551)
    assert "475 of the 551 cells of this map, those nearest the centre, see the whole photo" \
        in page
    assert "2,706,432, of which 3,072 are batch-norm scales and shifts" in page
    assert "land on the map 44% of the time" in page
    assert "for 2, 2, 2 (g = 2) that is 49 of 169 offsets" in page  # 7 x 7 of 13 x 13
    ko = text(open_aspp(lang="한국어"))
    assert "이 맵의 칸 551개 중 가운데에 가까운 475개는" in ko
    assert "그중 3,072개는 배치 정규화" in ko


def test_an_output_stride_change_keeps_the_point_on_the_photo_and_carries_to_compare():
    from pyramidviz.backbones import tap_info

    at = open_aspp(aspp_os="16", aspp_cell="4,20")
    assert taps_view(at)["state"] == {"cell": [4, 20]}
    at.segmented_control(key="aspp_os").set_value("8").run()
    assert not at.exception
    old, new = (tap_info(s, "stage7", (300, 451)) for s in (16, 8))
    expected = new.field.nearest_cell(*old.field.center(4, 20), new.feature_size)
    assert expected != (4, 20)  # keeping the index would jump across the photo
    assert taps_view(at)["state"] == {"cell": list(expected)}  # the view writes the URL
    at.segmented_control(key="aspp_os").set_value("16").run()  # back: from the cell it was given
    back = old.field.nearest_cell(*new.field.center(*expected), old.feature_size)
    assert taps_view(at)["state"] == {"cell": list(back)} and abs(back[1] - 20) <= 1
    at.segmented_control(key="aspp_os").set_value("8").run()
    at.switch_page(ui.page_path("compare")).run()  # the output stride carries over
    assert not at.exception
    assert at.get("button_group")[0].value == "8"
    assert _param(at, "cmp_os") == "8"  # and into the link (not a default the URL drops)
    at.get("button_group")[0].set_value("32").run()
    at.switch_page(ui.page_path("aspp")).run()  # and back, with the value chosen there
    assert not at.exception
    assert at.segmented_control(key="aspp_os").value == "32" and _param(at, "aspp_os") == "32"


def _param(at: AppTest, key: str) -> str | None:
    """The URL's value for ``key`` after the run (AppTest keeps a list per key)."""
    value = at.query_params.get(key)
    return value[-1] if isinstance(value, list) else value


def test_the_whole_photo_sentence_is_the_true_one_on_the_default_page():
    """Issue 24 item 1: the sentence follows the count, on the app's own defaults (no pins):
    never "0 of the ... cells see the whole photo; the other ..., nearer the borders"."""
    from pyramidviz import i18n
    from pyramidviz.backbones import tap_info
    from pyramidviz.samples import load_sample

    at = open_page("aspp", pinned=False)
    assert not at.exception
    tap, stride = at.selectbox(key="aspp_tap").value, int(at.segmented_control(key="aspp_os").value)
    hw = tuple(load_sample(at.selectbox(key="img").value).shape[:2])
    info = tap_info(stride, tap, hw)
    whole, total = info.field.whole_image_cells(info.feature_size, hw), \
        info.feature_size[0] * info.feature_size[1]
    key = ("aspp.full_cells_all" if whole == total else
           "aspp.full_cells_none" if whole == 0 else "aspp.full_cells")
    expected = i18n.translate("en", key, n=whole, total=total, rest=total - whole,
                              fh=info.field.size[0], fw=info.field.size[1])
    captions = [c.value for c in at.caption]
    assert expected in captions
    assert not any(c.startswith("0 of the") for c in captions)
    # the same rule, pinned to a map where no cell sees the photo (stage4 on chelsea)
    at = open_aspp(aspp_tap="stage4")
    info = tap_info(16, "stage4", (300, 451))
    assert info.field.whole_image_cells(info.feature_size, (300, 451)) == 0
    assert any(c.value.startswith("No cell of this map sees the whole photo") for c in at.caption)


def test_the_gridding_sentence_follows_the_kernel_size():
    """Issue 24 item 13: with k = 1 there is no lattice to describe."""
    at = open_aspp()
    assert "for 2, 2, 2 (g = 2) that is 49 of 169 offsets" in text(at)
    at.selectbox(key="aspp_k").set_value(1).run()
    page = text(at)
    assert "With a 1 × 1 kernel each layer reads only its own position" in page
    assert "(g = 2) that is" not in page


def test_a_link_whose_upload_is_gone_drops_its_cell_without_a_second_notice():
    """The cell of a shared upload link belongs to the upload's map: a session without the
    upload once showed a second notice blaming aspp_cell, a value the app wrote."""
    at = open_aspp(upload="0123456789ab", aspp_cell="400,900")
    assert not any("aspp_cell" in w.value for w in at.warning), [w.value for w in at.warning]
    assert "aspp_cell" not in at.query_params and "upload" not in at.query_params
    h, w = taps_view(at)["payload"]["map"]
    assert taps_view(at)["state"] == {"cell": [h // 2, w // 2]}  # the sample's map centre
