"""Real browser: the app loads in Debian's Chromium, every page opens with no exception."""

from __future__ import annotations

import pytest

from browser import open_page, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["", "spp", "aspp", "compare"]  # Home is the default page, served at the root URL


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_without_exception(page, server_url, path):
    open_page(page, f"{server_url}/{path}")
    assert page.locator("h1").first.inner_text().strip()
    assert page.get_by_text("Page not found").count() == 0


def test_korean_renders_and_the_language_sticks_in_the_url(page, server_url):
    open_page(page, f"{server_url}/?lang=한국어")
    assert page.locator("h1").first.inner_text().startswith("CNN의")
    page.get_by_text("English", exact=True).click()
    wait_idle(page)
    assert page.locator("h1").first.inner_text().startswith("Multi-scale")


def test_presentation_link_folds_the_sidebar_and_enlarges_type(page, server_url):
    open_page(page, f"{server_url}/spp?present=true")  # the root link opens the deck
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_attribute("data-collapsed") == "true"
    size = page.locator("h1").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    open_page(page, f"{server_url}/spp")
    normal = page.locator("h1").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size > normal
    assert page.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "false"
