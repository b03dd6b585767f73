"""Real browser: axe-core (WCAG 2.1 A and AA) finds no serious or critical violation on any
page, in English and Korean, at a laptop's width and a phone's.

One browser context per width and language is reused across the six pages, so the whole grid
(6 pages x 2 languages x 2 widths) loads each page once.
"""

from __future__ import annotations

import pytest

from browser import axe_report, axe_violations, open_page, wait_idle

pytestmark = pytest.mark.browser

PAGES = {"home": "", "spp": "spp", "aspp": "aspp", "compare": "compare", "network": "network",
         "slides": "slides"}
VIEW_OF = {"spp": "pv-spp-bins", "aspp": "pv-aspp-taps", "compare": "pv-compare",
           "network": "pv-spp-bins", "slides": "pv-deck"}
"""The browser view each page mounts (it appears after the run ends: wait for it)."""
LANGS = {"en": "English", "ko": "한국어"}
WIDTHS = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def pages(browser):
    """One page per (width, language), opened on demand and kept for the module."""
    opened = {}

    def get(width: str, lang: str):
        if (width, lang) not in opened:
            w, h = WIDTHS[width]
            phone = width == "phone"
            context = browser.new_context(viewport={"width": w, "height": h},
                                          locale="ko-KR" if lang == "ko" else "en-US",
                                          has_touch=phone, is_mobile=phone)
            page = context.new_page()
            page.set_default_timeout(90_000)
            opened[width, lang] = page
        return opened[width, lang]

    yield get
    for page in opened.values():
        page.context.close()


def open_for_audit(page, url: str, name: str) -> None:
    """Open ``url`` and wait for its view (if any) to mount and draw."""
    open_page(page, url)
    if name in VIEW_OF:
        page.locator(f"[data-testid={VIEW_OF[name]}]").first.wait_for(state="attached")
    page.wait_for_timeout(500)  # the view's first frame


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("lang", list(LANGS))
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(pages, server_url, name, lang, width):
    page = pages(width, lang)
    open_for_audit(page, f"{server_url}/{PAGES[name]}?lang={LANGS[lang]}", name)
    assert page.evaluate("() => document.documentElement.lang") == lang
    found = axe_violations(page)
    assert not found, axe_report(found)


def test_html_lang_follows_a_language_switch_on_every_page(browser, server_url):
    """``<html lang>`` once stayed "en" whatever the language, so ``:lang(ko)`` (Korean wraps
    between words) never applied, on pages with a view or without one."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = context.new_page()
        page.set_default_timeout(90_000)
        open_page(page, f"{server_url}/?lang=English")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        page.get_by_test_id("stSidebar").get_by_text("한국어", exact=True).click()
        for name in PAGES:
            if name != "home":
                page.get_by_test_id("stSidebarNav").locator(f"a[href$='/{PAGES[name]}']").click()
            wait_idle(page)
            page.wait_for_function("() => document.documentElement.lang === 'ko'")
            paragraph = page.locator("[data-testid=stMain] [data-testid=stMarkdownContainer] p")
            assert paragraph.first.evaluate("p => getComputedStyle(p).wordBreak") == "keep-all"
        page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
        wait_idle(page)
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    finally:
        context.close()
