"""AppTest: the ASPP page drives every control, survives bad input and restores shared links."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest import open_page

# chelsea (451 x 300 px), stage7 at OS 16: 19 x 29 cells; FieldInfo padding (414, 423), size 851
CHART_KEYS = ["aspp_pick", "aspp_erf_fig", "aspp_prev_fig", "aspp_valid_fig", "aspp_grid_fig",
              "aspp_anim_fig"]


def open_aspp(**params: str) -> AppTest:
    return open_page("aspp", **params)


def text(at: AppTest) -> str:
    parts = [el.value for kind in ("title", "subheader", "markdown", "caption", "info")
             for el in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def figure(at: AppTest, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(key):
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no chart {key}")


def values(v) -> np.ndarray:
    """A plotly data array from the JSON spec (typed 'bdata' or a plain list)."""
    if isinstance(v, dict):
        array = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return array.reshape([int(s) for s in v["shape"].split(",")]) if "shape" in v else array
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def taps(spec: dict, rate: int) -> np.ndarray:
    """(y, x) of every tap (on and off the map) of one rate branch."""
    traces = [d for d in spec["data"] if d.get("legendgroup") == f"rate {rate}"
              and d.get("mode") == "markers"]
    return np.concatenate([np.column_stack([values(d["y"]), values(d["x"])]) for d in traces])


def legend_names(spec: dict) -> list[str]:
    return [d["name"] for d in spec["data"] if d.get("showlegend")]


def test_default_view_shows_every_figure_with_deeplab_rates():
    at = open_aspp()
    assert not at.exception
    assert at.title[0].value == "ASPP: atrous spatial pyramid pooling"
    page = text(at)
    assert "Rates 6, 12, 18: DeepLab v3's choice at output stride 16" in page
    assert "row **9**, column **14** of the 19 × 29 map, centred on pixel (x 226, y 155)" in page
    assert "320 channels × 19 × 29 cells" in page
    for key in CHART_KEYS:
        figure(at, key)
    erf = figure(at, "aspp_erf_fig")
    assert sum(d["type"] == "image" for d in erf["data"]) == 5  # 1x1, 3 rates, image pool
    assert "r50" in erf["layout"]["xaxis"]["title"]["text"]
    assert "Rate 18: only the centre tap lands on the map" in page
    assert "1280 × 19 × 29" in [c for col in at.table[0].value.values for c in col]


@pytest.mark.parametrize("stride", [8, 16])
def test_rendered_taps_are_rate_times_output_stride_pixels_apart(stride):
    at = open_aspp()
    at.radio(key="aspp_os").set_value(str(stride)).run()
    assert not at.exception
    spec = figure(at, "aspp_pick")
    rates = (12, 24, 36) if stride == 8 else (6, 12, 18)
    for rate in rates:
        points = taps(spec, rate)
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
    names = legend_names(figure(at, "aspp_pick"))
    assert any(n.startswith("rate 3:") for n in names) and not any("rate 6" in n for n in names)
    assert "Your rates: 3, 5." in text(at)
    at.text_input(key="aspp_rates").input("6, banana, 0").run()
    assert not at.exception
    assert any("banana" in e.value and "6, 12, 18" in e.value
               and "whole numbers separated by commas" in e.value for e in at.error)
    names = legend_names(figure(at, "aspp_pick"))
    assert any(n.startswith("rate 18:") for n in names)


def test_kernel_size_and_stage_controls():
    at = open_aspp()
    erf3, prev3 = figure(at, "aspp_erf_fig"), figure(at, "aspp_prev_fig")
    at.selectbox(key="aspp_k").set_value(5).run()
    assert not at.exception
    assert "rate 6: 15/25 taps on the map" in legend_names(figure(at, "aspp_pick"))
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


def test_number_inputs_move_the_point_taps_and_effective_field():
    at = open_aspp()
    before = figure(at, "aspp_erf_fig")
    at.number_input(key="aspp_row").set_value(0)
    at.number_input(key="aspp_col").set_value(2).run()
    assert not at.exception
    assert "row **0**, column **2** of the 19 × 29 map, centred on pixel (x 34, y 11)" in text(at)
    spec = figure(at, "aspp_pick")
    one = next(d for d in spec["data"] if d.get("legendgroup") == "1x1"
               and d.get("mode") == "markers")
    assert (values(one["x"])[0], values(one["y"])[0]) == (34.5, 11.5)
    assert figure(at, "aspp_erf_fig") != before


def test_bad_point_values_in_the_link_give_a_notice_and_a_valid_point():
    at = open_aspp(aspp_row="999", aspp_col="-3")
    assert not at.exception
    notices = " ".join(w.value for w in at.warning)
    assert "aspp_row" in notices and "aspp_col" in notices
    assert 0 <= at.number_input(key="aspp_row").value <= 18
    assert 0 <= at.number_input(key="aspp_col").value <= 28


def test_point_is_clamped_when_the_feature_map_shrinks():
    at = open_aspp()
    at.number_input(key="aspp_row").set_value(18)
    at.number_input(key="aspp_col").set_value(28).run()
    at.radio(key="aspp_os").set_value("32").run()
    assert not at.exception
    assert (at.number_input(key="aspp_row").value, at.number_input(key="aspp_col").value) \
        == (9, 14)
    assert "the point was moved inside it" in text(at)


def test_channel_selector_changes_the_branch_outputs():
    at = open_aspp()
    mean = figure(at, "aspp_prev_fig")
    assert "not learned weights" in mean["layout"]["title"]["text"]
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
    assert len(figure(at, "aspp_anim_fig")["frames"]) == 25
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
    page = text(at)
    assert "4 × 6 cells for the 96 × 64 px photo" in page
    assert "Rate 6, 12, 18: only the centre tap" in page
    assert at.number_input(key="aspp_row").value <= 3


def test_a_shared_link_reopens_the_same_view():
    at = open_aspp(aspp_os="8", aspp_rates="12,24", aspp_k="5", aspp_tap="stage6",
                   aspp_row="3", aspp_col="4", aspp_ch="7", aspp_stack="1,3",
                   aspp_an_d="3")
    assert not at.exception
    assert at.radio(key="aspp_os").value == "8"
    assert at.text_input(key="aspp_rates").value == "12,24"
    assert at.selectbox(key="aspp_k").value == 5
    assert at.selectbox(key="aspp_tap").value == "stage6"
    assert (at.number_input(key="aspp_row").value, at.number_input(key="aspp_col").value) \
        == (3, 4)
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
    assert at.radio(key="aspp_os").value == "16"
    assert at.selectbox(key="aspp_tap").value == "stage7"


def test_korean_and_presentation_mode():
    at = open_aspp(lang="한국어", present="true")
    assert not at.exception
    assert at.title[0].value == "ASPP: 아트러스 공간 피라미드 풀링"
    assert "팽창률 6, 12, 18" in text(at)
    assert len(at.expander) >= 1  # the settings are folded away
    assert "팽창률 6: 탭 9개 중 9개가 맵 안" in legend_names(figure(at, "aspp_pick"))
