"""AppTest: the SPP page drives every control, keeps its settings in the URL, survives bad input.

The bins view itself runs in the browser (tests/test_browser_views.py); here its payload and
the state it opens on are checked against pyramidviz and torch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from figure_helpers import PIXEL
from streamlit.testing.v1 import AppTest

from pyramidviz.spp import spatial_pyramid_pool

from apptest import figures, open_page, view_data

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane


def open_spp(**params: str) -> AppTest:
    at = open_page("spp", **params)
    assert not at.exception, at.exception
    return at


def bins(at: AppTest) -> dict:
    """The SPP bins view's data: payload, labels and the state it opens on."""
    return view_data(at, "spp_bins_view")


def view(data: dict, name: str) -> dict:
    return next(v for v in data["payload"]["views"] if v["name"] == name)


def metrics(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


def text(at: AppTest) -> str:
    return "\n".join(str(el.value) for kind in ("markdown", "caption", "title", "subheader")
                     for el in getattr(at, kind))


def chelsea_features() -> np.ndarray:
    from PIL import Image

    from pyramidviz import samples
    from pyramidviz.backbones import extract, load_backbone

    photo = np.asarray(Image.open(samples.sample_path("chelsea")).convert("RGB"))
    return extract(load_backbone(output_stride=32), photo, "stage7")


def test_default_view_stage7_4_2_1_on_the_cat():
    at = open_spp()
    assert at.title[0].value.startswith("SPP")
    assert len(figures(at)) == 4  # 3 sizes (photo, crop, warp) and rules; bins: a view
    # issue 12: the end of the adaptive rule is exclusive; neighbours need not share
    page = " ".join(str(e.value) for kind in ("info", "caption") for e in getattr(at, kind))
    assert "a = 7, n = 4: bin 0 is [0, 2), cells 0 to 1" in page
    assert "[2, 5) and [5, 8) share nothing" in page
    assert "SPP-net's classification and detection networks use 6-3-2-1 (50 bins)" in (
        at.selectbox(key="spp_levels").help)
    data = bins(at)
    payload = data["payload"]
    assert payload["levels"] == [4, 2, 1] and payload["map"] == [10, 15]
    assert payload["channels"] == 320 and payload["vector"]["length"] == 6720
    assert [v["name"] for v in payload["views"]][:2] == ["max", "mean"]
    assert len(payload["views"]) == 7  # max, mean and the five most active channels
    assert data["state"] == {"level": 4, "bin": 0, "view": "max"}
    assert "320 × 21 = 6,720" in metrics(at)
    assert data["labels"]["level"] == "Level" and "{k}" in data["labels"]["readout"]


def test_the_views_winners_are_spps_own_argmax_for_one_channel():
    at = open_spp(spp_view="12")
    data = bins(at)
    argmax = spatial_pyramid_pool(torch.from_numpy(chelsea_features())[None], (4, 2, 1)).argmax
    for i, n in enumerate((4, 2, 1)):
        shown = view(data, "12")["bins"][str(n)]
        assert [[r, c] for _, r, c in shown] == argmax[i][0, 12].reshape(-1, 2).tolist()
    assert data["state"]["view"] == "12"


def test_the_vector_strip_is_the_real_per_channel_vector():
    """The map views are max/mean over channels; the strip is still SPP of every channel."""
    from pyramidviz.payloads import spp_payload

    at = open_spp()
    features = chelsea_features()
    vector = spatial_pyramid_pool(torch.from_numpy(features)[None], (4, 2, 1)).vector[0]
    expected = spp_payload({"max": features.max(0)}, np.zeros((300, 451, 3), np.uint8),
                           vector.numpy(), levels=(4, 2, 1), mode="max", channels=320,
                           field=PIXEL)["vector"]["png"]
    assert bins(at)["payload"]["vector"]["png"] == expected


@pytest.mark.parametrize("preset,length", [("6-3-2-1", "320 × 50 = 16,000"),
                                           ("3-2-1", "320 × 14 = 4,480")])
def test_presets_change_the_vector_length(preset, length):
    at = open_spp()
    at.selectbox(key="spp_levels").set_value(preset).run()
    assert not at.exception
    assert length in metrics(at)
    assert bins(at)["payload"]["levels"] == [int(n) for n in preset.split("-")]


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
    for typed, reason in (("40", "40 is not allowed; each level must be between 1 and 32"),
                          ("1 2 3 4 5 6 7 8 9", "you typed 9 levels; use at most 8"),
                          (" , ", "type at least one level")):
        at.text_input(key="spp_custom").input(typed).run()
        assert [reason in e.value for e in at.error] == [True], (typed, at.error)
    assert bins(at)["payload"]["levels"] == [8, 4, 2, 1]


def test_average_pooling_has_no_winners():
    at = open_spp()
    at.radio(key="spp_pool").set_value("avg").run()
    assert not at.exception
    data = bins(at)
    assert data["payload"]["mode"] == "avg"
    assert all(r is None for v in data["payload"]["views"] for _, r, _ in v["bins"]["4"])
    assert data["labels"]["no_winner"] == "average pooling has no single winning cell"


def test_raw_image_source_and_an_early_stage():
    at = open_spp(spp_view="300")
    assert view(bins(at), "300")
    at.selectbox(key="spp_src").set_value("image").run()  # 3 channels: 300 no longer exists
    assert not at.exception
    assert "300" not in [v["name"] for v in bins(at)["payload"]["views"]]
    assert "spp_view" in " ".join(w.value for w in at.warning)
    assert "3 × 21 = 63" in metrics(at)
    assert "300 × 451 cells" in text(at)
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
    payload = bins(at)["payload"]
    assert payload["map"] == [2, 3] and len(payload["views"][0]["bins"]["4"]) == 16
    assert payload["edges"]["4"]["rows"] == [[0, 1], [0, 1], [1, 2], [1, 2]]


def test_a_shared_link_reproduces_the_view():
    at = open_spp(spp_src="stage6", spp_levels="3-2-1", spp_level="3", spp_bin="5",
                  spp_pool="avg", spp_scale="0.75", spp_view="7")
    assert at.selectbox(key="spp_src").value == "stage6"
    assert at.radio(key="spp_pool").value == "avg"
    assert at.select_slider(key="spp_scale").value == "0.75"
    assert bins(at)["state"] == {"level": 3, "bin": 4, "view": "7"}
    assert "192 × 14 = 2,688" in metrics(at)
    assert "8 × 11" in metrics(at)  # 0.75 x 451 x 300 = 338 x 225 px at stride 32
    assert not at.warning


@pytest.mark.parametrize("params", [
    {"spp_src": "../etc", "spp_levels": "9-9", "spp_scale": "7", "spp_pool": "min"},
    {"spp_level": "inf", "spp_bin": "999", "spp_view": "abc"},
    {"spp_level": "-1", "spp_bin": "NaN", "spp_view": "<b>1</b>"},
    {"spp_level": "١", "spp_bin": "1e309", "spp_view": "99999"},
])
def test_garbage_url_values_fall_back_with_a_notice(params):
    at = open_spp(**params)
    notices = " ".join(w.value for w in at.warning)
    for key in params:
        assert key in notices, key
    # A bad source falls back to the page's default, stage7 (320 channels), like the pin.
    assert "320 × 21 = 6,720" in metrics(at)
    state = bins(at)["state"]
    assert state["level"] == 4 and 0 <= state["bin"] < 16


def test_korean_page_and_korean_error():
    at = open_spp(lang="한국어", spp_levels="custom", spp_custom="3,3")
    assert at.title[0].value.startswith("SPP: 어떤")
    assert any("3이 두 번" in e.value and "같은 레벨은 한 번만" in e.value
               for e in at.error)
    assert "특징 맵" in text(at)
    assert bins(at)["labels"]["level"] == "레벨"


def test_presentation_mode_folds_every_control_into_one_expander():
    at = open_spp(present="true")
    assert len(at.expander) == 4  # the controls, how to read the view, the download, the prose
    folded = next(e for e in at.expander if e.selectbox)  # below the view and its notes
    assert {w.key for w in folded.selectbox} == {"spp_src", "spp_levels"}
    assert [w.key for w in folded.radio] == ["spp_pool"]
    assert at.selectbox(key="spp_src").value == "stage7"
    at.radio(key="spp_pool").set_value("avg").run()  # the folded fragment widget still works
    assert not at.exception
    assert bins(at)["payload"]["mode"] == "avg"


def test_a_level_larger_than_the_map_is_explained():
    """Stage7 of chelsea at stride 32 is a 10 x 15 map: a 12 x 12 level overlaps its bins."""
    at = open_spp(spp_levels="custom", spp_custom="12, 4, 1")
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert "Level 12" in warning and "only 10 cells" in warning and "10 × 15" in warning
    at = open_spp(spp_levels="custom", spp_custom="10, 4, 1")
    assert not any("Level" in w.value for w in at.warning)  # 10 bins on 10 rows: all distinct


def _png(w: int, h: int) -> bytes:
    import io

    from PIL import Image

    ramp = np.linspace(0, 255, w * h, dtype=np.float64).reshape(h, w).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.stack([ramp, ramp[::-1], ramp], axis=-1)).save(buffer, format="PNG")
    return buffer.getvalue()


def size_rows(at: AppTest) -> list[tuple[str, str]]:
    """(input, photo w x h) of each row of the sizes table."""
    table = next(df.value for df in at.dataframe if "photo (w × h)" in df.value.columns)
    return list(zip(table["input"], table["photo (w × h)"], strict=True))


def test_a_1600_by_1200_upload_gets_four_different_sizes():
    """Issue 22.5: copies capped at 1 MP made 0.75x, 1x and 1.5x all 1155 x 866 px."""
    at = open_spp()
    at.file_uploader(key="upload").set_value(("big.png", _png(1600, 1200), "image/png")).run()
    assert not at.exception
    assert size_rows(at)[:4] == [("0.5×", "800 × 600"), ("0.75×", "1200 × 900"),
                                 ("1× ◀", "1600 × 1200"), ("1.5×", "2400 × 1800")]
    assert "1600 × 1200 px" in metrics(at)  # the photo the sidebar names, not a copy
    assert "1600 × 1200 px" in " ".join(c.value for c in at.sidebar.caption)


def test_a_shrunk_upload_says_what_1x_is():
    """A 3000 x 2000 upload is shrunk to 2 MP: the sizes section says 1x is the shrunk photo."""
    at = open_spp()
    at.file_uploader(key="upload").set_value(("huge.png", _png(3000, 2000), "image/png")).run()
    assert not at.exception
    shown = dict(size_rows(at))["1× ◀"]
    w, h = (int(v) for v in shown.split(" × "))
    assert w * h <= 2_000_000 and abs(w / h - 1.5) < 0.01
    assert f"Your photo was 3000 × 2000 px; it was shrunk to {shown} px" in text(at)
