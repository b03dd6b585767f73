"""Real browser: a shared link reopens the same view, in both languages and presentation mode."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from browser import open_page

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
    assert "Cell (row 2, column 3) of the 50 × 75 map" in view.inner_text()  # 600 x 400 at OS 8


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
