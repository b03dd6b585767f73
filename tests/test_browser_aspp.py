"""Real browser: click a point on the photo and the taps move there; upload; a shared link."""

from __future__ import annotations

import re

import pytest

from browser import exceptions_on_screen, open_page, wait_idle

pytestmark = pytest.mark.browser

# Page position of the clickable marker of cell (row, col) of the first chart (the taps figure).
CELL_XY = """([row, col, width]) => {
  const gd = document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')[0];
  const cells = gd._fullData[1], i = row * width + col, L = gd._fullLayout;
  const box = gd.getBoundingClientRect();
  return {x: box.left + L.xaxis._offset + L.xaxis.d2p(cells.x[i]),
          y: box.top + L.yaxis._offset + L.yaxis.d2p(cells.y[i])};
}"""
# Where the 1x1 branch's marker (the chosen cell's centre) is drawn, in data coordinates.
CENTRE = """() => {
  const gd = document.querySelectorAll('[data-testid=stPlotlyChart] .js-plotly-plot')[0];
  const one = gd._fullData.find(d => d.legendgroup === '1x1' && d.mode === 'markers');
  return [one.x[0], one.y[0]];
}"""


def point_inputs(page) -> tuple[int, int]:
    inputs = page.get_by_test_id("stNumberInput").locator("input")
    return int(inputs.nth(0).input_value()), int(inputs.nth(1).input_value())


def point_text(page) -> str:
    return page.get_by_text(re.compile("^Chosen cell")).first.inner_text()


def open_aspp(page, server_url: str, query: str = "") -> None:
    open_page(page, server_url)  # a fresh server needs app.py's st.navigation to run first
    open_page(page, f"{server_url}/aspp{query}")
    page.get_by_test_id("stPlotlyChart").first.wait_for()


def click_cell(page, row: int, col: int, width: int) -> None:
    chart = page.get_by_test_id("stPlotlyChart").first
    chart.scroll_into_view_if_needed()
    chart.locator(".nsewdrag").first.hover()  # plotly needs a mouse move before a click
    xy = page.evaluate(CELL_XY, [row, col, width])
    page.mouse.move(xy["x"], xy["y"])
    page.wait_for_timeout(200)
    page.mouse.click(xy["x"], xy["y"])
    page.wait_for_timeout(300)
    wait_idle(page, timeout=180)


def test_clicking_the_photo_moves_the_point_and_its_taps(page, server_url):
    open_aspp(page, server_url)
    assert point_inputs(page) == (9, 14)  # chelsea, stage7 at OS 16: 19 x 29 cells
    centre_before = page.evaluate(CENTRE)
    click_cell(page, 3, 5, width=29)
    assert not exceptions_on_screen(page)
    assert point_inputs(page) == (3, 5)
    assert "row 3, column 5 of the 19 × 29 map" in point_text(page)
    centre = page.evaluate(CENTRE)
    assert centre != centre_before
    # FieldInfo.center(3, 5) + 0.5 for this photo: (16*5 - 423 + 425, 16*3 - 414 + 425)
    assert centre == [82.5, 59.5]
    assert "aspp_row=3" in page.url and "aspp_col=5" in page.url
    # the number inputs still work after a click (the old selection is not re-applied)
    box = page.get_by_test_id("stNumberInput").nth(0).locator("input")
    box.fill("12")
    box.press("Enter")
    page.wait_for_timeout(300)
    wait_idle(page, timeout=180)
    assert point_inputs(page) == (12, 5)
    assert page.evaluate(CENTRE) == [82.5, 16 * 12 - 414 + 425 + 0.5]


def test_an_upload_shrinks_the_map_and_the_point_follows(page, server_url, sample_png,
                                                         tmp_path):
    open_aspp(page, server_url, "?aspp_row=18&aspp_col=28")
    assert point_inputs(page) == (18, 28)
    photo = tmp_path / "tiny.png"
    photo.write_bytes(sample_png)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
    page.wait_for_timeout(500)
    wait_idle(page, timeout=180)
    assert not exceptions_on_screen(page)
    assert point_inputs(page) == (3, 5)  # 96 x 64 px: a 4 x 6 map
    assert "of the 4 × 6 map" in point_text(page)


def test_a_shared_korean_link_restores_the_settings(page, server_url):
    open_aspp(page, server_url, "?lang=한국어&aspp_os=8&aspp_rates=4,8&aspp_row=2&aspp_col=7")
    assert page.locator("h1").first.inner_text().startswith("ASPP: 아트러스")
    assert point_inputs(page) == (2, 7)
    assert page.get_by_test_id("stTextInput").first.locator("input").input_value() == "4,8"
    assert page.get_by_text("직접 정한 팽창률: 4, 8.").count() == 1


def test_the_sliding_kernel_animation_plays(page, server_url):
    open_aspp(page, server_url)
    chart = page.get_by_test_id("stPlotlyChart").last
    chart.scroll_into_view_if_needed()
    current = chart.locator(".slider-group > .slider-label").first  # the current value
    assert current.text_content().endswith("(0, 0)")
    chart.locator(".updatemenu-button").first.click()  # ▶ Play
    page.wait_for_timeout(2500)
    chart.locator(".updatemenu-button").nth(1).click()  # pause
    position = current.text_content().rsplit("=", 1)[-1].strip()
    assert position != "(0, 0)" and re.fullmatch(r"\(\d, \d\)", position)
