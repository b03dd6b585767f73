"""Real browser: presentation mode steps through every slide with the keyboard at 1920 x 1080,
and no slide scrolls: each main view lies inside the screen."""

from __future__ import annotations

import pytest

from pyramidviz import i18n

from browser import exceptions_on_screen, open_page, wait_idle

pytestmark = pytest.mark.browser

SLIDES = ("problem", "bins", "vector", "sizes", "taps", "field", "valid", "versus")
WIDTH, HEIGHT = 1920, 1080
SCROLLING = """() => [...document.querySelectorAll('*')].filter(e => {
  if (e.closest('[data-testid=stSidebar]')) return false;  // folded away in presentation mode
  const y = getComputedStyle(e).overflowY;
  return (y === 'auto' || y === 'scroll') && e.scrollHeight > e.clientHeight;
}).map(e => [e.getAttribute('data-testid') || e.tagName, e.scrollHeight, e.clientHeight])"""
MAIN = """() => { const m = document.querySelector('[data-testid=stMain]');
  return [m.scrollHeight, m.clientHeight]; }"""


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def check_slide(page, index: int, lang: str) -> None:
    keys = page.locator("[data-testid=pv-slides-keys]")
    assert keys.get_attribute("data-slide") == str(index)
    assert keys.inner_text().strip() == f"{index} / {len(SLIDES)}"
    assert not exceptions_on_screen(page)
    heading = page.locator("h1").first.inner_text().strip()
    assert heading == i18n.translate(lang, f"slides.{SLIDES[index - 1]}_title")
    main = page.locator(".st-key-slide_main")
    main.wait_for()
    page.wait_for_timeout(300)  # views and figures size themselves after mounting
    box = main.bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, box
    assert box["width"] > 0.6 * WIDTH and box["height"] > 0.45 * HEIGHT, box  # fills the screen
    scroll, client = page.evaluate(MAIN)
    assert scroll <= client, (index, scroll, client)
    assert page.evaluate(SCROLLING) == [], index


def press(page, key: str) -> None:
    page.keyboard.press(key)
    page.wait_for_timeout(200)
    wait_idle(page)


@pytest.mark.parametrize("lang,query", [("en", ""), ("ko", "&lang=한국어")])
def test_the_keyboard_steps_through_every_slide_and_none_scrolls(screen, server_url, lang,
                                                                 query):
    open_page(screen, f"{server_url}/?present=true{query}")
    assert screen.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"
    check_slide(screen, 1, lang)
    for index in range(2, len(SLIDES) + 1):
        press(screen, "ArrowRight" if index % 2 else "PageDown")
        assert f"slide={index}" in screen.url
        check_slide(screen, index, lang)
    press(screen, "ArrowRight")  # the last slide stays
    check_slide(screen, len(SLIDES), lang)
    press(screen, "PageUp")
    check_slide(screen, len(SLIDES) - 1, lang)
    press(screen, "ArrowLeft")
    check_slide(screen, len(SLIDES) - 2, lang)


def test_the_buttons_and_a_link_to_a_slide(screen, server_url):
    open_page(screen, f"{server_url}/?present=true&slide=4")
    check_slide(screen, 4, "en")
    screen.get_by_role("button", name="Next").click()
    wait_idle(screen)
    check_slide(screen, 5, "en")
    screen.get_by_role("button", name="Previous").click()
    wait_idle(screen)
    check_slide(screen, 4, "en")
    open_page(screen, f"{server_url}/?present=true&slide=%3Cb%3E")  # a hostile value
    check_slide(screen, 1, "en")


def test_arrow_keys_in_a_focused_view_move_its_cell_not_the_slide(screen, server_url):
    open_page(screen, f"{server_url}/?present=true&slide=5")
    view = screen.locator("[data-testid=pv-slide_taps_view]")
    view.focus()
    before = view.get_attribute("data-state")
    screen.keyboard.press("ArrowRight")
    screen.wait_for_timeout(300)
    assert view.get_attribute("data-state") != before
    assert screen.locator("[data-testid=pv-slides-keys]").get_attribute("data-slide") == "5"
