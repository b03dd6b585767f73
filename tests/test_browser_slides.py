"""Real browser: the lecture deck in the app. Slides change with no server round trip (no
websocket frame, no lost press), the clicker's keys always move slides, a link opens its
slide, the slide survives reruns and a language switch, every text line reads from the back
of the room at 1920 x 1080, an uploaded 1600 x 1200 photo gives three different sizes, the
presenter window follows, and axe-core finds nothing serious."""

from __future__ import annotations

import io
import json
import statistics

import numpy as np
import pytest
from PIL import Image

from pyramidviz import deck, i18n

from browser import Frames, open_page, upload, wait_idle
from deckcheck import DECK, TEXT_LINES, axe_serious, layout_problems, state

pytestmark = pytest.mark.browser

COUNT = len(deck.SLIDES)
PAINT = """(root) => new Promise((done) => {
  const t0 = performance.now();
  window.dispatchEvent(new KeyboardEvent('keydown', {key: 'PageDown', bubbles: true,
                                                     cancelable: true}));
  requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));
})"""


def frames_idle(page) -> bool:
    """No rerun under way (a download button with on_click="ignore" reruns nothing)."""
    return page.locator("[data-testid=stApp]").get_attribute(
        "data-test-script-state") == "notRunning"


def screen(browser, width=1920, height=1080):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def open_deck(page, url: str):
    open_page(page, url)
    view = page.locator(DECK)
    view.wait_for()
    page.wait_for_timeout(300)
    return view


def test_keys_step_the_whole_deck_with_no_frame_and_no_lost_press(browser, server_url):
    context, page = screen(browser)
    try:
        view = open_deck(page, f"{server_url}/?present=true")  # the root link opens the deck
        assert "/slides" in page.url and page.get_by_role("dialog").count() == 0
        assert state(view) == {"slide": 1, "of": COUNT}
        frames = Frames(page)
        page.wait_for_timeout(1500)
        frames.count = 0
        history = page.evaluate("() => history.length")
        for _ in range(10):  # a clicker's fast presses, 40 ms apart
            page.keyboard.press("PageDown")
            page.wait_for_timeout(40)
        assert state(view) == {"slide": 11, "of": COUNT}
        assert "slide=11" in page.url
        for key, expected in (("PageUp", 10), ("ArrowLeft", 9), (" ", 10), ("ArrowRight", 11),
                              ("ArrowRight", 11), ("Home", 1), ("ArrowLeft", 1), ("End", 11)):
            page.keyboard.press(key)
            assert state(view)["slide"] == expected, key
        page.keyboard.press("Home")
        times = [view.evaluate(PAINT) for _ in range(COUNT - 1)]
        assert state(view)["slide"] == COUNT
        page.wait_for_timeout(500)
        assert frames.count == 0  # not one websocket frame for all those slide changes
        assert page.evaluate("() => history.length") == history  # replaceState: Back works
        assert page.locator("[data-testid=stApp]").get_attribute(
            "data-test-script-state") == "notRunning"
        print(f"paint after a key: median {statistics.median(times):.1f} ms, "
              f"max {max(times):.1f} ms over {len(times)} changes")
    finally:
        context.close()


def test_a_click_or_hover_on_a_slide_changes_nothing_and_keys_still_move(browser, server_url):
    context, page = screen(browser)
    try:
        view = open_deck(page, f"{server_url}/slides?present=true&slide=6")
        assert page.get_by_role("dialog").count() == 0  # a bookmark opens cleanly
        assert state(view)["slide"] == 6
        picture = page.locator(".pv-deck-slide:not([hidden]) .pv-deck-svg").first
        box = picture.bounding_box()
        for dx in (0.2, 0.5, 0.8):  # a mouse used as a pointer
            page.mouse.move(box["x"] + dx * box["width"], box["y"] + box["height"] / 2)
        assert state(view)["slide"] == 6
        before = page.evaluate("() => document.activeElement.tagName")
        picture.click()
        page.keyboard.press("PageDown")
        assert state(view)["slide"] == 7
        focus = page.evaluate("""() => { const a = document.activeElement;
            const s = getComputedStyle(a);
            return [a.tagName, s.outlineStyle === 'none' || s.outlineWidth === '0px',
                    s.boxShadow === 'none']; }""")
        assert focus == [before, True, True]  # the click moved no focus: no frame drawn
        page.keyboard.press("PageUp")
        page.keyboard.press("b")
        blank = page.locator(".pv-deck-blank")
        assert blank.is_visible()
        page.keyboard.press("b")
        assert not blank.is_visible() and state(view)["slide"] == 6
        page.keyboard.press("f")
        page.wait_for_timeout(300)
        assert page.evaluate("() => !!document.fullscreenElement")
        page.keyboard.press("f")
    finally:
        context.close()


def test_a_sidebar_input_keeps_its_keys_and_the_slide_survives_a_language_switch(browser,
                                                                               server_url):
    context, page = screen(browser)
    try:
        view = open_deck(page, f"{server_url}/slides?slide=5")
        select = page.get_by_test_id("stSidebar").locator("[data-testid=stSelectbox] input")
        select.focus()
        page.keyboard.press("PageDown")
        page.keyboard.press("Escape")
        assert state(view)["slide"] == 5
        page.get_by_test_id("stSidebar").get_by_text("한국어").click()
        wait_idle(page)
        page.wait_for_function("""() => { const h = document.querySelectorAll('*');
            for (const e of h) if (e.shadowRoot) { const d = e.shadowRoot.querySelector(
              '[data-testid=pv-deck]'); if (d) return d.getAttribute('lang') === 'ko'; }
            return false; }""")
        assert state(view) == {"slide": 5, "of": COUNT}
        title = page.locator(".pv-deck-slide:not([hidden]) .pv-deck-title").inner_text()
        assert title == i18n.translate("ko", "slides.sizes_title")
        assert "slide=5" in page.url
        page.keyboard.press("PageDown")  # the focus is on the language radio: not the deck's
        assert state(view)["slide"] == 5
        page.locator(".pv-deck-slide:not([hidden]) .pv-deck-title").click()
        page.keyboard.press("ArrowRight")  # a click on the slide hands the keys back
        page.get_by_test_id("stSidebar").locator("[data-testid=stSelectbox]").click()
        page.get_by_role("option", name="coffee").click()  # a rerun on another photo
        wait_idle(page)
        page.wait_for_timeout(800)
        assert state(view)["slide"] == 6
        export = page.locator(".st-key-deck_export")
        with page.expect_download() as download:  # the export, in the app's language
            export.get_by_role("button", name=i18n.translate("ko", "slides.export_button")
                               ).click()
        text = open(download.value.path(), encoding="utf-8").read()
        assert '<html lang="ko">' in text and "coffee (600 × 400 px)" in text
        assert state(view)["slide"] == 6 and frames_idle(page)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_line_is_24_px_at_1920_by_1080_and_nothing_overlaps(browser, server_url, lang,
                                                                 tmp_path):
    context, page = screen(browser)
    query = "&lang=%ED%95%9C%EA%B5%AD%EC%96%B4" if lang == "ko" else ""
    try:
        view = open_deck(page, f"{server_url}/slides?present=true{query}")
        problems, smallest = [], 1e9
        for index in range(1, COUNT + 1):
            assert state(view)["slide"] == index
            measured = view.evaluate(TEXT_LINES)
            assert measured["lines"], index
            smallest = min(smallest, *(line["h"] for line in measured["lines"]))
            problems += [f"slide {index}: {p}" for p in layout_problems(measured,
                                                                         min_height=24)]
            page.screenshot(path=str(tmp_path / f"{lang}_{index:02d}.png"))
            page.keyboard.press("PageDown")
        assert problems == []
        print(f"{lang}: smallest text line {smallest:.1f} px at 1920 x 1080")
    finally:
        context.close()


def photo_bytes(width: int, height: int) -> bytes:
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def test_an_uploaded_1600_by_1200_photo_gives_three_sizes_and_fits_1280_by_720(browser,
                                                                             server_url):
    context, page = screen(browser, 1280, 720)
    try:
        view = open_deck(page, f"{server_url}/slides?slide=5")
        files = {"name": "lecture.jpg", "mimeType": "image/jpeg",
                 "buffer": photo_bytes(1600, 1200)}
        assert upload(page, files, lambda p: "1600 × 1200" in p.locator(
            ".pv-deck-s-title").inner_text(), scope="[data-testid=stSidebar]")
        assert state(view)["slide"] == 5
        captions = page.locator(".pv-deck-slide:not([hidden]) figcaption").all_inner_texts()
        assert captions == ["800 × 600 px → 19 × 25 map → 6,720 values",
                            "1200 × 900 px → 29 × 38 map → 6,720 values",
                            "1600 × 1200 px → 38 × 50 map → 6,720 values"]
        widths = [b["width"] for b in (svg.bounding_box() for svg in page.locator(
            ".pv-deck-slide:not([hidden]) .pv-deck-svg").all())]
        assert widths[0] < widths[1] < widths[2]  # drawn at one scale: really three sizes
        page.keyboard.press("Home")
        problems = []
        for index in range(1, COUNT + 1):
            problems += [f"slide {index}: {p}" for p in
                         layout_problems(view.evaluate(TEXT_LINES), min_height=None)]
            page.keyboard.press("PageDown")
        assert problems == []
    finally:
        context.close()


def test_the_presenter_window_follows_and_axe_finds_nothing_serious(browser, server_url):
    context, page = screen(browser)
    try:
        view = open_deck(page, f"{server_url}/slides?present=true&slide=2")
        assert axe_serious(page, shadow=DECK) == []
        with context.expect_page() as popup:
            page.keyboard.press("p")
        presenter = popup.value
        panel = presenter.locator("[data-testid=pv-presenter]")
        panel.wait_for()
        assert json.loads(panel.get_attribute("data-state")) == {"slide": 2, "of": COUNT}
        say = presenter.locator(".pv-presenter-say").inner_text()
        assert say == i18n.translate("en", "slides.problem_say", s=224)
        assert presenter.locator(".pv-now .pv-deck-title").inner_text() == i18n.translate(
            "en", "slides.problem_title")
        assert presenter.locator(".pv-next .pv-deck-title").inner_text() == i18n.translate(
            "en", "slides.bins_title")
        page.bring_to_front()
        page.keyboard.press("PageDown")
        assert json.loads(panel.get_attribute("data-state"))["slide"] == 3
        presenter.bring_to_front()
        presenter.keyboard.press("PageDown")  # the presenter's own clicker drives the deck
        assert state(view)["slide"] == 4
        assert json.loads(panel.get_attribute("data-state"))["slide"] == 4
        presenter.wait_for_timeout(2200)
        assert presenter.locator(".pv-presenter-clock").inner_text() in ("0:02", "0:03", "0:04")
        assert axe_serious(presenter) == []
        page.bring_to_front()
        page.keyboard.press("End")
        assert presenter.locator(".pv-next").inner_text() == i18n.translate("en",
                                                                            "slides.ui_end")
    finally:
        context.close()
