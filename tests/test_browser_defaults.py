"""The lesson at first sight: each page opens, on the default photo, on a view that teaches.

At 1280 x 800 (a projector) every page's main view is on the first screen; on the ASPP page
the fields of the rates whose taps land on the map nest strictly by rate and the rate whose
taps fall off the map is marked; on the SPP page the bins look at different photo regions.
"""

from __future__ import annotations

import json

import pytest

from browser import open_page

pytestmark = pytest.mark.browser


def _box(locator) -> tuple[float, float, float, float]:
    b = locator.bounding_box()
    return b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]


def _open(page, server_url: str, path: str, testid: str):
    open_page(page, server_url)
    open_page(page, f"{server_url}{path}")
    view = page.locator(f"[data-testid={testid}]")
    view.wait_for()
    return view


@pytest.mark.parametrize(("path", "testid"), [
    ("/spp", "pv-spp-bins"), ("/aspp", "pv-aspp-taps"), ("/compare", "pv-compare")])
def test_the_first_screen_of_each_page_holds_its_main_view(page, server_url, path, testid):
    view = _open(page, server_url, path, testid)
    left, top, right, bottom = _box(view.locator("svg").first)
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert 0 <= left < right <= width and 0 <= top < bottom <= height, (left, top, right, bottom)


STAGE4 = "stage4"
"""The default map is stage7 on every page (BRIEF.md), whose fields cover the default photo
whole; stage4's fields still show, on a link, how the fields nest and the bins differ."""


def test_default_aspp_fields_nest_by_rate_and_the_off_map_rate_is_marked(page, server_url):
    view = _open(page, server_url, f"/aspp?aspp_tap={STAGE4}", "pv-aspp-taps")
    taps = json.loads(view.get_attribute("data-taps"))
    on_map: dict[int, int] = {}
    for tap in taps:
        on_map[tap["rate"]] = on_map.get(tap["rate"], 0) + bool(tap["on_map"])
    spread = sorted(rate for rate, n in on_map.items() if n > 1)
    assert len(spread) >= 2, on_map  # at least two rates show their taps spread on the map
    assert any(n == 1 for n in on_map.values()), on_map  # one falls off (DeepLab v3 Fig. 4)
    boxes = []
    for rate in spread:
        rect = view.locator(f"[data-role=field][data-branch='rate {rate}']")
        boxes.append(tuple(float(rect.get_attribute(a)) for a in ("x", "y", "width", "height")))
    centre = view.locator("[data-role=field][data-branch='1x1']")
    inner = tuple(float(centre.get_attribute(a)) for a in ("x", "y", "width", "height"))
    for small, large in zip([inner, *boxes], boxes, strict=False):
        sx, sy, sw, sh = small
        lx, ly, lw, lh = large
        assert lx <= sx and ly <= sy and sx + sw <= lx + lw and sy + sh <= ly + lh
        assert lw * lh > sw * sh  # strictly larger
    page_text = page.locator("[data-testid=stMain]").inner_text()
    off = [rate for rate, n in on_map.items() if n == 1]
    assert any(f"rate {r}" in page_text.lower() or f"{r}" in page_text for r in off)


def test_default_spp_bins_look_at_different_parts_of_the_photo(page, server_url):
    view = _open(page, server_url, f"/spp?spp_src={STAGE4}", "pv-spp-bins")
    field = view.locator("[data-role=field]")
    boxes = set()
    view.focus()
    for _ in range(4):  # the first row of the 4 x 4 level
        boxes.add(tuple(round(float(field.get_attribute(a))) for a in ("x", "y", "width")))
        page.keyboard.press("ArrowRight")
    assert len(boxes) == 4, boxes  # four bins, four different regions
    photo_width = float(view.locator("image[href^='data:image/jpeg']").first.get_attribute("width"))
    first, *_, last = sorted(boxes)
    assert first[0] + first[2] <= last[0], boxes  # the two end bins see disjoint strips
    assert all(width < 0.6 * photo_width for _, _, width in boxes), (boxes, photo_width)
