"""AppTest: the SPP page drives every control, keeps its settings in the URL, survives bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from apptest import figures, open_page


def open_spp(**params: str) -> AppTest:
    at = open_page("spp", **params)
    assert not at.exception, at.exception
    return at


def bins_fig(at: AppTest) -> dict:
    return figures(at)[0]


def metrics(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


def text(at: AppTest) -> str:
    return "\n".join(str(el.value) for kind in ("markdown", "caption", "title", "subheader")
                     for el in getattr(at, kind))


def winners(fig: dict) -> list[tuple[int, int]]:
    trace = next(t for t in fig["data"] if (t.get("meta") or {}).get("role") == "winners")
    return [(int(y - 0.5), int(x - 0.5)) for x, y in zip(trace["x"], trace["y"], strict=True)]


def test_default_view_stage7_4_2_1_on_the_cat():
    at = open_spp()
    assert at.title[0].value.startswith("SPP")
    figs = figures(at)
    assert len(figs) == 4  # bins, pyramid, sizes, rules
    assert len(figs[0]["frames"]) == 16
    assert figs[1]["layout"]["title"]["text"] == "SPP vector: 320 × 21 = 6,720 values"
    assert "320 × 21 = 6,720" in metrics(at)
    assert "**Bin 1 of 16**" in text(at)
    assert [b.label for b in at.button if b.key.startswith("spp_pick")] != []
    assert len(at.dataframe) == 2  # sizes table, paper-rule failures
    assert not at.error and not at.warning


def test_bin_step_writes_out_the_bin_by_hand():
    at = open_spp()
    at.slider(key="spp_bin").set_value(6).run()
    assert not at.exception
    details = text(at)
    # 4 x 4 bins on the 10 x 15 stage7 map: bin 6 = row 1, column 1 = rows [2, 5), cols [3, 8)
    assert "**Bin 6 of 16** (row 1, column 1) covers feature rows 2–5 and columns 3–8" in details
    assert "stride box x 96–256, y 64–160 px" in details  # 32 px per cell
    assert bins_fig(at)["layout"]["title"]["text"].startswith("Bin 6 of 16 (row 1, column 1)")
    assert bins_fig(at)["layout"]["sliders"][0]["active"] == 5


def test_level_selector_changes_the_grid_and_frames():
    at = open_spp()
    at.radio(key="spp_level").set_value("2").run()
    assert not at.exception
    assert at.slider(key="spp_bin").max == 4
    assert len(bins_fig(at)["frames"]) == 4
    at.radio(key="spp_level").set_value("1").run()
    assert "spp_bin" not in [s.key for s in at.slider]  # one bin: nothing to step
    assert "**Bin 1 of 1**" in text(at)


def test_one_channel_marks_spps_own_argmax_and_quick_picks_work():
    at = open_spp()
    at.selectbox(key="spp_ch").set_value("12").run()
    assert not at.exception
    from PIL import Image

    from pyramidviz.backbones import extract, load_backbone
    from pyramidviz.spp import spatial_pyramid_pool

    photo = np.asarray(Image.open("assets/samples/chelsea.png").convert("RGB"))
    features = extract(load_backbone(output_stride=32), photo, "stage7")
    argmax = spatial_pyramid_pool(torch.from_numpy(features)[None], (4,)).argmax[0][0, 12]
    assert winners(bins_fig(at)) == [tuple(rc) for rc in argmax.reshape(-1, 2).tolist()]
    top = [b for b in at.button if b.key == "spp_pick0"][0]
    top.click().run()
    assert at.selectbox(key="spp_ch").value == top.label.lstrip("#")


@pytest.mark.parametrize("preset,length", [("6-3-2-1", "320 × 50 = 16,000"),
                                           ("3-2-1", "320 × 14 = 4,480")])
def test_presets_change_the_vector_length(preset, length):
    at = open_spp()
    at.selectbox(key="spp_levels").set_value(preset).run()
    assert not at.exception
    assert length in metrics(at)
    assert [o for o in at.radio(key="spp_level").options] == preset.split("-")


def test_custom_levels_and_a_bad_list_keep_the_page_working():
    at = open_spp()
    at.selectbox(key="spp_levels").set_value("custom").run()
    assert "320 × 35 = 11,200" in metrics(at)  # the default custom text, 5, 3, 1
    at.text_input(key="spp_custom").input("8 4 2 1").run()
    assert "320 × 85 = 27,200" in metrics(at)
    at.text_input(key="spp_custom").input("4, x, 1").run()
    assert not at.exception
    assert any("“x” is not a whole number" in e.value and "8-4-2-1" in e.value
               for e in at.error)
    assert "320 × 85 = 27,200" in metrics(at)  # the last valid levels stay
    for text, reason in (("40", "40 is not allowed; each level must be between 1 and 32"),
                         ("1 2 3 4 5 6 7 8 9", "you typed 9 levels; use at most 8"),
                         (" , ", "type at least one level")):
        at.text_input(key="spp_custom").input(text).run()
        assert [reason in e.value for e in at.error] == [True], (text, at.error)
    assert len(figures(at)) == 4


def strip_source(fig: dict) -> str:
    return next(t for t in fig["data"] if t.get("name") == "vector")["source"]


def test_the_vector_strip_is_the_real_per_channel_vector_whatever_the_channel_view():
    """The grids show the pooled mean map; the strip must still be SPP of every channel."""
    from PIL import Image

    from pyramidviz.backbones import extract, load_backbone
    from pyramidviz.figures import spp_pyramid

    photo = np.asarray(Image.open("assets/samples/chelsea.png").convert("RGB"))
    x = torch.from_numpy(extract(load_backbone(output_stride=32), photo, "stage7"))[None]
    real = torch.cat([torch.nn.functional.adaptive_max_pool2d(x, n).flatten(1)
                      for n in (4, 2, 1)], 1)[0].numpy()
    expected = spp_pyramid.pyramid_figure(
        [np.zeros((n, n)) for n in (4, 2, 1)], real, channels=320, title="", level_title="",
        segment_label="", reduced_note="")
    expected = next(t for t in expected.data if t.name == "vector").source
    at = open_spp()
    for channel in ("mean", "max", "12"):
        at.selectbox(key="spp_ch").set_value(channel).run()
        assert strip_source(figures(at)[1]) == expected, channel


def test_the_page_says_what_the_grids_are_for_each_channel_view():
    at = open_spp()  # the default: max over channels, max pooling, exact maxima
    assert at.selectbox(key="spp_ch").value == "max"
    notes = " ".join(i.value for i in at.info)
    assert "maximum over channels" in notes and "Not the vector" not in notes
    at.selectbox(key="spp_ch").set_value("mean").run()  # mean map, max pooling: not commuting
    assert any("Not the vector's numbers" in i.value and "320 channels" in i.value
               for i in at.info)
    at.selectbox(key="spp_ch").set_value("max").run()
    notes = " ".join(i.value for i in at.info)
    assert "maximum over channels" in notes and "Not the vector" not in notes
    at.radio(key="spp_pool").set_value("avg").run()  # max of averages: not commuting
    assert "Not the vector's numbers" in " ".join(i.value for i in at.info)
    at.selectbox(key="spp_ch").set_value("mean").run()
    assert "mean over channels" in " ".join(i.value for i in at.info)
    at.selectbox(key="spp_ch").set_value("12").run()  # one channel: real entries, no note
    assert not any("over channels" in i.value for i in at.info)


def test_average_pooling_has_no_winners():
    at = open_spp()
    at.radio(key="spp_pool").set_value("avg").run()
    assert not at.exception
    assert winners(bins_fig(at)) == []
    assert "average pooling has no single winning cell" in text(at)


def test_raw_image_source_and_an_early_stage():
    at = open_spp()
    at.selectbox(key="spp_ch").set_value("300").run()
    at.selectbox(key="spp_src").set_value("image").run()  # 3 channels: 300 no longer exists
    assert not at.exception
    assert at.selectbox(key="spp_ch").value == "max"
    assert "3 × 21 = 63" in metrics(at)
    assert "300 × 451 cells" in text(at)
    assert "NPY only" in text(at)  # the 300 x 451 map is too large for a CSV
    at.selectbox(key="spp_src").set_value("stage3").run()
    assert "40 × 21 = 840" in metrics(at)
    assert "38 × 57 cells" in text(at)


def test_size_slider_changes_the_map_not_the_vector_length():
    at = open_spp()
    lengths, maps = set(), set()
    for scale in ("0.5", "1.5"):
        at.select_slider(key="spp_scale").set_value(scale).run()
        assert not at.exception
        _, feature_map, length = metrics(at)[-3:]
        lengths.add(length)
        maps.add(feature_map)
    assert lengths == {"320 × 21 = 6,720"}
    assert maps == {"5 × 8", "15 × 22"}


def test_upload_a_small_photo(sample_png):
    at = open_spp()
    at.file_uploader(key="upload").set_value(("tiny.png", sample_png, "image/png")).run()
    assert not at.exception
    assert "Using your upload: tiny\\.png" in " ".join(c.value for c in at.sidebar.caption)
    assert "2 × 3 cells" in text(at)  # 96 x 64 px at stride 32
    assert "320 × 21 = 6,720" in metrics(at)  # 4 x 4 bins on a 2 x 3 map still work
    assert len(bins_fig(at)["frames"]) == 16


def test_a_shared_link_reproduces_the_view():
    at = open_spp(spp_src="stage6", spp_levels="3-2-1", spp_level="3", spp_bin="5",
                  spp_pool="avg", spp_scale="0.75", spp_ch="7")
    assert at.selectbox(key="spp_src").value == "stage6"
    assert at.selectbox(key="spp_ch").value == "7"
    assert at.radio(key="spp_pool").value == "avg"
    assert at.slider(key="spp_bin").value == 5
    assert at.select_slider(key="spp_scale").value == "0.75"
    assert "**Bin 5 of 9**" in text(at)
    assert "192 × 14 = 2,688" in metrics(at)
    assert "8 × 11" in metrics(at)  # 0.75 x 451 x 300 = 338 x 225 px at stride 32
    assert not at.warning


def test_garbage_url_values_fall_back_with_a_notice():
    at = open_spp(spp_src="../etc", spp_levels="9-9", spp_bin="999", spp_ch="abc",
                  spp_scale="7", spp_pool="min")
    notices = " ".join(w.value for w in at.warning)
    for key in ("spp_src", "spp_levels", "spp_bin", "spp_ch", "spp_scale", "spp_pool"):
        assert key in notices
    assert "320 × 21 = 6,720" in metrics(at)


def test_korean_page_and_korean_error():
    at = open_spp(lang="한국어", spp_levels="custom", spp_custom="3,3")
    assert at.title[0].value.startswith("SPP: 어떤")
    assert any("3 이(가) 두 번" in e.value and "같은 레벨은 한 번만" in e.value
               for e in at.error)
    assert "특징 맵" in text(at)


def test_presentation_mode_folds_every_control_into_one_expander():
    at = open_spp(present="true")
    assert len(at.expander) == 1
    folded = at.expander[0]
    assert {w.key for w in folded.selectbox} == {"spp_src", "spp_levels", "spp_ch"}
    assert [w.key for w in folded.radio] == ["spp_pool"]
    assert at.selectbox(key="spp_src").value == "stage7"
    assert len(figures(at)) == 4
    at.selectbox(key="spp_ch").set_value("max").run()  # the folded fragment widgets still work
    assert not at.exception
    assert len(at.expander) == 1 and "spp_ch" in {w.key for w in at.expander[0].selectbox}
    assert winners(bins_fig(at)) != []
