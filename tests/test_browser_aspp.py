"""Real browser: an upload and a shared link on the ASPP page.

The taps, gridding and sliding-kernel views are driven in tests/test_browser_views.py."""

from __future__ import annotations

import json

import pytest

from browser import exceptions_on_screen, open_page, upload

pytestmark = pytest.mark.browser

def view_state(page) -> dict:
    return json.loads(page.locator("[data-testid=pv-aspp-taps]").get_attribute("data-state"))


def open_aspp(page, server_url: str, query: str = "") -> None:
    open_page(page, server_url)  # a fresh server needs app.py's st.navigation to run first
    open_page(page, f"{server_url}/aspp{query}")
    page.locator("[data-testid=pv-aspp-taps]").wait_for()


def test_an_upload_shrinks_the_map_and_the_point_follows(page, server_url, sample_png):
    open_aspp(page, server_url, "?aspp_cell=18,28")
    assert view_state(page)["cell"] == [18, 28]
    sidebar = page.get_by_test_id("stSidebar")
    assert upload(page, [{"name": "tiny.png", "mimeType": "image/png", "buffer": sample_png}],
                  lambda p: "Using your upload: tiny.png" in sidebar.inner_text(), timeout=180)
    assert not exceptions_on_screen(page)
    assert view_state(page)["cell"] == [2, 3]  # 96 x 64 px: a 4 x 6 map, its centre
    # a new photo starts at its centre: the old photo's cell is no bad link to warn about
    assert "aspp_cell" not in page.get_by_test_id("stMain").inner_text()
    assert "aspp_cell=2%2C3" in page.url or "aspp_cell=2,3" in page.url  # the view wrote it


def test_a_shared_korean_link_restores_the_settings(page, server_url):
    open_aspp(page, server_url, "?lang=한국어&aspp_os=8&aspp_rates=4,8&aspp_cell=2,7")
    assert page.locator("h1").first.inner_text().startswith("ASPP: 아트러스")
    assert view_state(page)["cell"] == [2, 7]
    assert page.get_by_test_id("stTextInput").first.locator("input").input_value() == "4,8"
    assert page.get_by_text("직접 정한 팽창률: 4, 8.").count() == 1
