"""Real browser: the exported deck opened from disk (file://) with every network request
blocked: every slide by keys, 24 px lines at 1920 x 1080, the presenter window, Print gives
one slide per page, and axe-core finds nothing serious."""

from __future__ import annotations

import json
import re

import pytest

from pyramidviz import deck, i18n
from pyramidviz.samples import load_sample

from deckcheck import DECK, TEXT_LINES, axe_serious, layout_problems, state

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def payloads():
    photo = load_sample("chelsea")
    return {lang: deck.deck_payload(photo, lang=lang, name="chelsea") for lang in i18n.LANGUAGES}


@pytest.fixture
def offline(browser):
    """A 1920 x 1080 page on which every request that is not file: or data: is aborted."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    asked = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")):
            r.continue_()
        else:
            asked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield context, page, asked, errors
    context.close()


def open_file(page, tmp_path, payload):
    path = tmp_path / f"deck-{payload['lang']}.html"
    path.write_text(deck.export_html(payload=payload), encoding="utf-8")
    page.goto(path.as_uri())
    view = page.locator(DECK)
    view.wait_for()
    return view, path


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_file_from_disk_steps_through_every_slide_with_no_network(offline, tmp_path,
                                                                      payloads, lang):
    context, page, asked, errors = offline
    payload = payloads[lang]
    view, path = open_file(page, tmp_path, payload)
    assert page.evaluate("() => document.documentElement.lang") == lang
    count = len(payload["slides"])
    problems, smallest = [], 1e9
    for index, slide in enumerate(payload["slides"], start=1):
        assert state(view) == {"slide": index, "of": count}
        title = page.locator(".pv-deck-slide:not([hidden]) .pv-deck-title").inner_text()
        assert title == slide["title"]
        measured = view.evaluate(TEXT_LINES)
        smallest = min(smallest, *(line["h"] for line in measured["lines"]))
        problems += [f"{index}: {p}" for p in layout_problems(measured, min_height=24)]
        page.keyboard.press("PageDown" if index % 2 else "ArrowRight")
    assert problems == []
    assert state(view)["slide"] == count
    assert asked == [] and errors == []  # nothing was asked of any host, nothing broke
    images = page.evaluate("""() => [...document.querySelectorAll('image')]
        .map(i => i.getAttribute('href').slice(0, 5))""")
    assert set(images) == {"data:"}
    print(f"{lang}: file {path.stat().st_size // 1024} KB, smallest line {smallest:.1f} px")


def test_a_link_with_a_slide_opens_it_and_the_presenter_window_follows(offline, tmp_path,
                                                                        payloads):
    context, page, asked, errors = offline
    payload = payloads["en"]
    view, path = open_file(page, tmp_path, payload)
    page.goto(path.as_uri() + "?slide=4")
    view.wait_for()
    assert state(view)["slide"] == 4
    assert axe_serious(page) == []
    with context.expect_page() as popup:
        page.keyboard.press("p")
    presenter = popup.value
    panel = presenter.locator("[data-testid=pv-presenter]")
    panel.wait_for()
    assert json.loads(panel.get_attribute("data-state")) == {"slide": 4, "of": 11}
    assert presenter.locator(".pv-presenter-ask").inner_text() == payload["slides"][3][
        "notes"]["ask"]
    page.bring_to_front()
    page.keyboard.press("PageDown")
    assert json.loads(panel.get_attribute("data-state"))["slide"] == 5
    presenter.keyboard.press("PageUp")
    assert state(view)["slide"] == 4
    assert axe_serious(presenter) == []
    # BroadcastChannel is not needed: the deck writes the window it opened itself.
    assert asked == [] and errors == []


def test_print_gives_one_slide_per_page(offline, tmp_path, payloads):
    context, page, asked, errors = offline
    view, _ = open_file(page, tmp_path, payloads["ko"])
    page.emulate_media(media="print")
    shown = page.evaluate("""() => [...document.querySelectorAll('.pv-deck-slide')]
        .map(s => getComputedStyle(s).display)""")
    assert shown == ["flex"] * 11
    pdf = page.pdf(landscape=True, print_background=True, width="1920px", height="1080px")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 11


@pytest.mark.parametrize("hw", [(1600, 200), (1200, 300), (250, 1600)])
def test_captions_never_overlap_at_any_aspect_ratio(browser, tmp_path, hw):
    """A tall or a wide photo, on three screens: no text over text or over a picture, every
    line inside the slide (stub feature maps: only the geometry matters here)."""
    import numpy as np
    from test_deck import stub_features

    h, w = hw
    y, x = np.mgrid[0:h, 0:w]
    photo = np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8)
    path = tmp_path / "deck.html"
    path.write_text(deck.export_html(photo, lang="ko", features=stub_features(photo)),
                    encoding="utf-8")
    problems = []
    for width, height in ((1920, 1080), (1280, 720), (1024, 768)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(path.as_uri())
        view = page.locator(DECK)
        view.wait_for()
        for index in range(1, len(deck.SLIDES) + 1):
            problems += [f"{width}x{height} slide {index}: {p}" for p in
                         layout_problems(view.evaluate(TEXT_LINES), min_height=None)]
            page.keyboard.press("PageDown")
        context.close()
    assert problems == []
