"""AppTest: presentation mode opens the deck (from the root link, or turned on from any
page), a bookmarked /slides opens it, the deck is one view fed one payload in the app's
language, it uses a wide photo unless the lecturer chose one, an upload reaches every slide,
and the export sits in its container."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui
from pyramidviz import deck, i18n

from apptest import TIMEOUT, open_page, view_data

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane


def payload(at: AppTest) -> dict:
    return view_data(at, "deck")["payload"]


def slide(p: dict, name: str) -> dict:
    return p["slides"][deck.SLIDES.index(name)]


@pytest.mark.parametrize("lang,code", [("English", "en"), ("한국어", "ko")])
def test_the_root_link_in_presentation_mode_opens_the_deck(lang, code):
    at = open_page("home", pinned=False, present="true", lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    p = payload(at)
    assert p["lang"] == code and [s["id"] for s in p["slides"]] == list(deck.SLIDES)
    assert [s["title"] for s in p["slides"]] == [
        i18n.translate(code, f"slides.{name}_title") for name in deck.SLIDES]
    assert at.title[0].value == i18n.translate(code, "slides.page_title")
    assert not at.warning


def test_turning_presentation_mode_on_from_a_page_opens_the_deck():
    at = open_page("spp")
    assert at.title[0].value == i18n.translate("en", "spp.title")
    at.toggle(key="present").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert payload(at)["slides"][0]["title"] == i18n.translate("en", "slides.title_title")
    at.switch_page(ui.page_path("compare")).run()  # the other pages stay reachable
    assert not at.exception and at.title[0].value == i18n.translate("en", "compare.title")


def test_without_presentation_home_opens_and_the_slides_are_a_page():
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert at.title[0].value == i18n.translate("en", "home.title")
    at.switch_page(ui.page_path("slides")).run()
    assert not at.exception and len(payload(at)["slides"]) == len(deck.SLIDES)


def test_the_default_square_sample_gives_way_to_a_wide_one():
    at = open_page("slides", pinned=False)
    p = payload(at)
    assert "chelsea (451 × 300 px)" in slide(p, "title")["text"][1]
    assert slide(p, "problem")["text"][0] == i18n.translate(
        "en", "slides.problem_body", s=224, w=451, h=300)
    assert any("chelsea" in c.value for c in at.caption)  # the page says why
    wide = open_page("slides", pinned=False, img="coffee")  # a wide sample is used as it is
    assert "coffee (600 × 400 px)" in slide(payload(wide), "title")["text"][1]
    assert not any("chelsea" in c.value for c in wide.caption)


def test_a_square_upload_is_used_and_its_problem_slide_says_so():
    buffer = io.BytesIO()
    Image.fromarray(np.full((300, 300, 3), 90, np.uint8)).save(buffer, format="PNG")
    at = open_page("slides")
    at.file_uploader(key="upload").set_value(("square.png", buffer.getvalue(),
                                              "image/png")).run()
    p = payload(at)
    assert "square.png (300 × 300 px)" in slide(p, "title")["text"][1]
    assert slide(p, "problem")["text"][0] == i18n.translate(
        "en", "slides.problem_body_square", s=224, w=300, h=300)


def test_an_uploaded_photo_reaches_every_slide():
    y, x = np.mgrid[0:1200, 0:1600]
    rgb = np.stack([x % 256, y % 256, (x * y) % 256], -1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    at = open_page("slides")
    at.file_uploader(key="upload").set_value(("lecture.jpg", buffer.getvalue(),
                                              "image/jpeg")).run()
    assert not at.exception, [e.value for e in at.exception]
    p = payload(at)
    assert "lecture.jpg (1600 × 1200 px)" in slide(p, "title")["text"][1]
    assert [c["caption"] for c in slide(p, "sizes")["picture"]["panels"]] == [
        "800 × 600 px → 19 × 25 map → 6,720 values",
        "1200 × 900 px → 29 × 38 map → 6,720 values",
        "1600 × 1200 px → 38 × 50 map → 6,720 values"]
    assert "38 × 50" in slide(p, "bins")["text"][0]  # stage7 at output stride 32
    assert "75 × 100" in slide(p, "taps")["text"][0]  # and at 16


def test_reruns_keep_the_token_and_a_language_switch_changes_it():
    at = open_page("slides")
    token = view_data(at, "deck")["token"]
    at.run()
    assert view_data(at, "deck")["token"] == token  # the view keeps its slide as it is
    at.radio(key="lang").set_value("한국어").run()
    assert view_data(at, "deck")["token"] != token and payload(at)["lang"] == "ko"


def test_the_export_sits_in_its_container():
    at = open_page("slides")
    (button,) = at.get("download_button")
    assert button.proto.label == i18n.translate("en", "slides.export_button")
    assert button.proto.url.endswith(".html")  # the browser test downloads it
    kb = round(len(deck.export_html(payload=payload(at)).encode()) / 1024)
    assert any(c.value == i18n.translate("en", "slides.export_size", kb=kb, w=451, h=300)
               for c in at.caption)


@pytest.mark.parametrize("raw", ["0", "99", "abc", "<script>alert(1)</script>", "1e9"])
def test_a_hostile_slide_value_is_left_to_the_deck(raw):
    at = open_page("slides", present="true", slide=raw)
    assert not at.exception and not at.warning
    assert len(payload(at)["slides"]) == len(deck.SLIDES)


def test_home_opens_on_the_crop_warp_spp_picture():
    from apptest import figures

    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    (fig,) = [f for f in figures(at)]
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == [i18n.translate("en", "slides.home_crop", s=224),
                      i18n.translate("en", "slides.home_warp", s=224),
                      i18n.translate("en", "slides.home_spp", w=512, h=512, n=4)]
    assert at.caption[0].value == i18n.translate("en", "slides.home_caption", s=224, n=4)
