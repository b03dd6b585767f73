"""AppTest: presentation mode opens on the slides, every slide renders in both languages,
the buttons step through them, and ``?slide=`` survives hostile values."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import ui
from pyramidviz import i18n

from apptest import TIMEOUT, figures, open_page, view_data

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane

SLIDES = ("problem", "bins", "vector", "sizes", "taps", "field", "valid", "versus")
VIEWS = {"bins": "slide_bins_view", "vector": "slide_vector_view", "taps": "slide_taps_view",
         "field": "slide_field_view"}


def present(**params: str) -> AppTest:
    at = open_page("home", present="true", **params)  # the root URL: presentation opens here
    assert not at.exception, [e.value for e in at.exception]
    return at


def title(at: AppTest) -> str:
    return at.title[0].value


def counter(at: AppTest) -> dict:
    return view_data(at, "slides_keys")["state"]


@pytest.mark.parametrize("lang,code", [("English", "en"), ("한국어", "ko")])
def test_every_slide_renders_with_its_title_view_and_text(lang, code):
    at = present(lang=lang)
    for index, name in enumerate(SLIDES, start=1):
        at.query_params["slide"] = str(index)
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert title(at) == i18n.translate(code, f"slides.{name}_title")
        assert counter(at) == {"slide": index}
        assert view_data(at, "slides_keys")["payload"] == {"count": len(SLIDES)}
        if name in VIEWS:
            assert view_data(at, VIEWS[name])["payload"]["photo"]["src"].startswith("data:")
        else:
            # the last slide shows the vector and the map as two figures (a phone stacks them)
            assert len(figures(at)) == (2 if name == "versus" else 1), name
        texts = " ".join(m.value for m in at.markdown)
        body = i18n.load_table(code)[f"slides.{name}_body"]
        assert body.split("{")[0][:12] in texts, name  # the slide's sentence is on screen
        assert not at.warning


def test_the_buttons_step_forward_and_back_and_stop_at_the_ends():
    at = present()
    assert title(at) == i18n.translate("en", "slides.problem_title")
    assert at.button(key="slide_prev").disabled
    for index in range(2, len(SLIDES) + 1):
        at.button(key="slide_next").click().run()
        assert not at.exception
        assert at.query_params["slide"] == str(index)
        assert counter(at) == {"slide": index}
    assert at.button(key="slide_next").disabled
    assert title(at) == i18n.translate("en", "slides.versus_title")
    at.button(key="slide_prev").click().run()
    assert at.query_params["slide"] == "7"
    assert title(at) == i18n.translate("en", "slides.valid_title")


def test_a_link_opens_its_slide():
    at = present(slide="6")
    assert title(at) == i18n.translate("en", "slides.field_title")
    field = view_data(at, "slide_field_view")["payload"]
    assert field["stride"] == 8 and [b["rate"] for b in field["branches"]] == [None, 6, 12, 18]


@pytest.mark.parametrize("raw", ["0", "9", "-1", "abc", "1e9", "3.0", "٣", "inf", "",
                                 "<script>alert(1)</script>", "99999999999999999999"])
def test_a_hostile_slide_value_falls_back_to_slide_one(raw):
    at = present(slide=raw)
    assert title(at) == i18n.translate("en", "slides.problem_title")
    assert counter(at) == {"slide": 1}
    assert at.query_params["slide"] == "1"
    assert [toast.value for toast in at.toast]  # said, not silently ignored


def test_normal_pages_stay_reachable_in_presentation_mode():
    at = present()
    at.switch_page(ui.page_path("home")).run()
    assert not at.exception
    assert title(at) == i18n.translate("en", "home.title")
    at.switch_page(ui.page_path("spp")).run()
    assert not at.exception and title(at) == i18n.translate("en", "spp.title")


def test_without_presentation_home_opens_and_the_slides_are_a_page():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert title(at) == i18n.translate("en", "home.title")
    at.switch_page(ui.page_path("slides")).run()
    assert not at.exception and title(at) == i18n.translate("en", "slides.problem_title")


def test_home_opens_on_the_crop_warp_spp_picture():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    (fig,) = [f for f in figures(at)]
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == [i18n.translate("en", "slides.home_crop", s=224),
                      i18n.translate("en", "slides.home_warp", s=224),
                      i18n.translate("en", "slides.home_spp", w=451, h=300, n=4)]
    assert at.caption[0].value == i18n.translate("en", "slides.home_caption", s=224, n=4)
