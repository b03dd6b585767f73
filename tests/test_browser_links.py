"""Real browser: a shared link reopens the same view, in both languages and presentation mode."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from browser import exceptions_on_screen, open_page, wait_idle

pytestmark = pytest.mark.browser

LINK = "/compare?cmp_os=8&cmp_levels=6-3-2-1&cmp_cell=2,3&img=coffee"


def _segment_checked(page, label: str) -> str:
    group = page.get_by_role("radiogroup", name=label)
    return group.locator("[aria-checked=true]").inner_text().strip()


def test_shared_link_reopens_the_same_view(page, server_url):
    open_page(page, server_url + LINK)
    assert _segment_checked(page, "Output stride of the backbone") == "8"
    assert _segment_checked(page, "SPP pyramid") == "6-3-2-1"
    view = page.locator("[data-testid=pv-compare]")
    assert json.loads(view.get_attribute("data-state"))["cell"] == [2, 3]
    sidebar = page.get_by_test_id("stSidebar").inner_text()
    assert "coffee (600 × 400 px)" in sidebar
    assert "Cell (row 3, column 4) of the 50 × 75 map" in view.inner_text()  # cmp_cell=2,3: from 1


@pytest.mark.parametrize("query,expected", [
    ("&lang=한국어", "SPP vs ASPP 나란히 보기"),
    ("&lang=한국어&present=true", "SPP vs ASPP 나란히 보기"),
    ("&present=true", "SPP vs ASPP, side by side"),
])
def test_screenshots_in_both_languages_and_presentation_mode(page, server_url, tmp_path,
                                                            query, expected):
    open_page(page, server_url + LINK + query)
    assert page.locator("h1").first.inner_text() == expected
    shot = tmp_path / "view.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as image:
        assert image.size == (1280, 800)
        colours = image.convert("RGB").resize((64, 40)).getcolors(4096)
        assert colours is not None and len(colours) > 50  # a real page, not a blank one


def _url_param(page, key: str) -> str | None:
    return parse_qs(urlparse(page.url).query).get(key, [None])[0]


def _radio_checked(page, label: str) -> str:
    return page.get_by_role("radiogroup", name=label).locator(
        "input:checked").evaluate("e => e.closest('label').innerText").strip()


def _nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    wait_idle(page)


def test_a_setting_shared_across_pages_stays_in_each_pages_link(page, server_url, browser):
    """The output stride chosen on one page opens the others, and every page's link says so.

    The widgets once took the shared setting as their default, and Streamlit leaves a value
    equal to the default out of the URL: after output stride 8 on ASPP, Compare showed 8 with a
    link that opened 16, and a click on Compare often no longer reached the URL at all.
    """
    open_page(page, server_url + "/aspp")
    os_label = "Output stride"
    page.get_by_role("radiogroup", name=os_label).get_by_text("8", exact=True).click()
    wait_idle(page)
    assert _url_param(page, "aspp_os") == "8"

    _nav(page, "Compare")
    assert _segment_checked(page, "Output stride of the backbone") == "8"
    assert _url_param(page, "cmp_os") == "8"
    for stride in ["32", "8", "16", "32"]:  # each click reaches the link, the default too
        page.get_by_role("radiogroup", name="Output stride of the backbone").get_by_text(
            stride, exact=True).click()
        wait_idle(page)
        assert _url_param(page, "cmp_os") in ({stride} if stride != "16" else {None, "16"})
    link = page.url

    _nav(page, "ASPP")
    assert _radio_checked(page, os_label) == "32"
    assert _url_param(page, "aspp_os") == "32"

    other = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_page(other, link)  # a new session: the link alone decides
        assert _segment_checked(other, "Output stride of the backbone") == "32"
        assert not exceptions_on_screen(other)
    finally:
        other.close()
    assert not exceptions_on_screen(page)
