"""Real browser: a shared link reopens the same view, in both languages and presentation mode."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image

from pyramidviz import i18n

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




def _click_segment(page, label: str, option: str) -> None:
    page.get_by_role("radiogroup", name=label).get_by_text(option, exact=True).click()
    wait_idle(page)


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
    _click_segment(page, os_label, "8")
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
    assert _segment_checked(page, os_label) == "32"
    assert _url_param(page, "aspp_os") == "32"

    other = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_page(other, link)  # a new session: the link alone decides
        assert _segment_checked(other, "Output stride of the backbone") == "32"
        assert not exceptions_on_screen(other)
    finally:
        other.close()
    assert not exceptions_on_screen(page)


def _view_state(page, testid: str) -> dict:
    view = page.locator(f"[data-testid={testid}]")
    view.wait_for()
    return json.loads(view.get_attribute("data-state"))


def _back(page, forward: bool = False) -> None:
    page.go_forward() if forward else page.go_back()
    wait_idle(page)


def _path(page) -> str:
    return urlparse(page.url).path


def test_back_and_forward_move_between_pages_and_restore_each_pages_state(page, server_url):
    """One history entry per page: Back from Compare once stayed on Compare, then went to
    ASPP and stayed there (every URL write of a page pushed an entry), and SPP came back
    without the level chosen there."""
    open_page(page, server_url + "/")
    _nav(page, "SPP")
    spp = page.locator("[data-testid=pv-spp-bins]")
    spp.wait_for()
    spp.focus()
    page.keyboard.press("PageDown")  # the next level: 4 x 4 -> 2 x 2
    page.keyboard.press("ArrowRight")  # its second bin
    assert _view_state(page, "pv-spp-bins")["level"] == 2
    _nav(page, "ASPP")
    _click_segment(page, "Output stride", "8")
    _nav(page, "Compare")
    _click_segment(page, "SPP pyramid", "3-2-1")

    _back(page)
    assert _path(page) == "/aspp", page.url
    assert _url_param(page, "aspp_os") == "8", page.url
    assert _segment_checked(page, "Output stride") == "8"
    _back(page)
    assert _path(page) == "/spp"
    state = _view_state(page, "pv-spp-bins")
    assert (state["level"], state["bin"]) == (2, 1)
    _back(page)
    assert _path(page) == "/"
    _back(page, forward=True)
    assert _path(page) == "/spp"
    _back(page, forward=True)
    assert _path(page) == "/aspp"
    _back(page, forward=True)
    assert _path(page) == "/compare"
    assert _segment_checked(page, "SPP pyramid") == "3-2-1"
    assert not exceptions_on_screen(page)


def test_a_link_after_many_clicks_opens_what_its_sender_saw(page, server_url, browser):
    """Clicking 8, 32, 16 on ASPP once left aspp_os=8 in the link; the language is in it too."""
    open_page(page, server_url + "/aspp")
    page.get_by_test_id("stSidebar").get_by_text("한국어", exact=True).click()
    wait_idle(page)
    label = i18n.translate("ko", "aspp.os")
    for stride in ["8", "32", "16", "8", "32", "16", "8"]:
        _click_segment(page, label, stride)
    seen = (_segment_checked(page, label), page.locator("h1").first.inner_text(),
            _view_state(page, "pv-aspp-taps")["cell"])
    link = page.url
    assert _url_param(page, "lang") == "한국어"

    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        fresh = other.new_page()
        fresh.set_default_timeout(60_000)
        open_page(fresh, link)
        assert (_segment_checked(fresh, label), fresh.locator("h1").first.inner_text(),
                _view_state(fresh, "pv-aspp-taps")["cell"]) == seen
        assert seen[0] == "8"
    finally:
        other.close()


def test_a_korean_browsers_link_carries_its_language(browser, server_url):
    korean = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    try:
        page = korean.new_page()
        page.set_default_timeout(60_000)
        open_page(page, server_url + "/spp")
        assert _url_param(page, "lang") == "한국어"
        assert page.evaluate("() => document.documentElement.lang") == "ko"
    finally:
        korean.close()


def test_a_shared_upload_link_gives_one_notice(page, server_url):
    """A link made on an upload names cells of the upload's map: they go with the photo,
    instead of a second notice blaming aspp_cell (a value the app wrote)."""
    open_page(page, server_url + "/aspp?upload=0123456789ab&aspp_cell=400,900")
    alerts = page.locator("[data-testid=stMain] [data-testid=stAlert]")
    texts = [a.inner_text() for a in alerts.all()]
    assert sum("not on this server" in text for text in texts) == 1, texts
    assert not any("aspp_cell" in text for text in texts), texts
    assert _url_param(page, "upload") is None
