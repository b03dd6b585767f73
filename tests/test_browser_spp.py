"""Real browser: upload a photo on the SPP page, step and play through bins, resize it."""

from __future__ import annotations

import time

import pytest

from browser import exceptions_on_screen, open_page, wait_idle
from conftest import ROOT

pytestmark = pytest.mark.browser

PHOTO = ROOT / "assets" / "samples" / "coffee.png"  # 600 x 400: a 13 x 19 stage7 map


def metric_values(page) -> list[str]:
    return [m.inner_text().strip() for m in page.locator("[data-testid=stMetricValue]").all()]


def slider(page, label: str):
    return page.locator("[data-testid=stSlider]").filter(has_text=label).get_by_role("slider")


def bins_title(page) -> str:
    chart = page.locator("[data-testid=stPlotlyChart]").first
    return chart.locator(".gtitle").first.text_content() or ""


def open_spp_with_upload(page, server_url: str) -> None:
    open_page(page, server_url)  # the router first, as a student would arrive
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(PHOTO))
    wait_idle(page)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="SPP").first.click()
    wait_idle(page, timeout=180)
    assert not exceptions_on_screen(page)
    sidebar = page.get_by_test_id("stSidebar").inner_text()
    assert "Using your upload: coffee.png (600 × 400 px)" in sidebar


def test_upload_step_play_and_resize(page, server_url):
    open_spp_with_upload(page, server_url)
    assert "13 × 19 cells" in page.get_by_test_id("stMain").inner_text()
    assert bins_title(page).startswith("Bin 1 of 16")

    # Server-side step: the fragment writes out bin 3 (row 0, column 2).
    bin_slider = slider(page, "Bin")
    bin_slider.focus()
    bin_slider.press("ArrowRight")
    bin_slider.press("ArrowRight")
    wait_idle(page)
    main = page.get_by_test_id("stMain").inner_text()
    assert "Bin 3 of 16 (row 0, column 2)" in main
    assert bins_title(page).startswith("Bin 3 of 16")

    # Client-side animation: Play walks the highlighted bin (one frame per bin, 0.7 s each).
    chart = page.locator("[data-testid=stPlotlyChart]").first
    chart.locator(".updatemenu-button").first.click()
    seen = []
    for _ in range(14):
        seen.append(bins_title(page).split(":")[0])
        time.sleep(0.25)
    chart.locator(".updatemenu-button").nth(1).click()
    assert len(set(seen)) >= 3, seen
    assert all(title.startswith("Bin ") and " of 16 " in title for title in seen), seen

    # Any size in, same length out.
    before = metric_values(page)
    assert before[-1] == "320 × 21 = 6,720" and before[-2] == "13 × 19"
    size_slider = slider(page, "Photo size")
    seen_maps = {before[-2]}
    for key in ("ArrowLeft", "ArrowLeft", "ArrowRight", "ArrowRight", "ArrowRight"):
        size_slider.focus()
        size_slider.press(key)
        wait_idle(page, timeout=180)
        values = metric_values(page)
        assert values[-1] == "320 × 21 = 6,720", values
        seen_maps.add(values[-2])
    assert seen_maps >= {"7 × 10", "10 × 15", "13 × 19", "19 × 29"}  # 0.5x ... 1.5x
    assert not exceptions_on_screen(page)


def test_a_bad_custom_level_list_shows_a_message(page, server_url):
    open_page(page, f"{server_url}/spp?spp_levels=custom&spp_custom=4,0")  # a deep link
    alert = page.get_by_test_id("stAlert").filter(has_text="0 is not allowed")
    assert alert.count() == 1 and "between 1 and 32" in alert.inner_text()
    assert "320 × 21 = 6,720" in metric_values(page)  # the default levels stay in use


def test_korean_presentation_mode_has_one_place_for_every_control(page, server_url):
    open_page(page, f"{server_url}/spp?present=true&lang=한국어")
    folded = page.get_by_test_id("stExpander")
    assert folded.count() == 1
    folded.locator("summary").click()
    wait_idle(page)
    assert folded.get_by_test_id("stSelectbox").count() == 3  # source, levels, channel
    assert folded.get_by_test_id("stRadio").count() == 1  # pooling
    main = page.get_by_test_id("stMain")
    assert "채널 방향 최댓값" in main.inner_text()  # default: max map, max pooling
    # Channel lives in the view fragment, which writes into the folded controls: pick "mean".
    channel = folded.get_by_test_id("stSelectbox").filter(has_text="채널")
    channel.scroll_into_view_if_needed()
    channel.locator("input").click()
    page.get_by_role("listbox").wait_for()
    page.keyboard.type("mean")
    page.get_by_role("option", name="mean", exact=True).click()
    wait_idle(page)
    assert "spp_ch=mean" in page.url
    assert "벡터에 들어가는 값이 아닙니다" in main.inner_text()  # mean map, max pooling
    assert page.get_by_test_id("stExpander").count() == 1
    assert folded.get_by_test_id("stSelectbox").count() == 3  # redrawn in place, not added
    assert not exceptions_on_screen(page)
