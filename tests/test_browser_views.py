"""Real browser: the SPP, ASPP and Compare views work in the browser, with no server round trip.

The contract (issue 10): the SPP view ``[data-testid=pv-spp-bins]`` and the ASPP view
``[data-testid=pv-aspp-taps]`` take the keyboard focus, keep their state in ``data-state``
(and the drawn taps in ``data-taps``), and no overlay action reruns the script or makes the
server send a websocket frame. Everything drawn is compared with pyramidviz's own numbers.
"""

from __future__ import annotations

import json
import struct
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import torch
from PIL import Image

from pyramidviz import bins, payloads, sizes
from pyramidviz.backbones import extract, load_backbone, tap_info
from pyramidviz.bins import bin_edges
from pyramidviz.samples import sample_path
from pyramidviz.spp import spatial_pyramid_pool

from browser import Frames, exceptions_on_screen, open_page, wait_idle

pytestmark = pytest.mark.browser

CHELSEA = np.asarray(Image.open(sample_path("chelsea")).convert("RGB"))
WATCH = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__pvRuns = 0;
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__pvRuns += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def state(locator, attribute: str = "data-state"):
    return json.loads(locator.get_attribute(attribute))


PINNED = "img=chelsea&spp_src=stage7&aspp_tap=stage7"
"""The photo and stages the oracles below are computed for (the app opens on astronaut)."""


def open_view(page, server_url: str, path: str, testid: str):
    open_page(page, server_url)  # the router first, as a student would arrive
    open_page(page, f"{server_url}{path}{'&' if '?' in path else '?'}{PINNED}")
    view = page.locator(f"[data-testid={testid}]")
    view.wait_for()
    page.evaluate(WATCH)
    return view


def url_has(page, *parts: str) -> None:
    """Wait until the URL holds every part (a view writes it when the student pauses)."""
    page.wait_for_function("(parts) => parts.every((p) => decodeURIComponent("
                           "location.search).includes(p))", arg=list(parts), timeout=10_000)


def no_round_trip(page, frames: Frames, before: int) -> None:
    page.wait_for_timeout(400)  # anything the server would send arrives well within this
    assert frames.count == before, f"{frames.count - before} websocket frames from the server"
    assert page.evaluate("window.__pvRuns") == 0, "an overlay action reran the script"
    assert not exceptions_on_screen(page)


def spp_truth(levels=(4, 2, 1)):
    """What the SPP view must show on chelsea, stage7 at OS 32, max over channels."""
    features = extract(load_backbone(output_stride=32), CHELSEA, "stage7")
    shown = torch.from_numpy(features.max(0))[None, None]
    result = spatial_pyramid_pool(shown, levels)
    return result, tap_info(32, "stage7", CHELSEA.shape[:2])


def centre_of_cell(page, view, row: int, col: int, h: int, w: int) -> tuple[float, float]:
    """Page coordinates of a feature-map cell of the SPP view's map image."""
    box = view.locator("svg image").first.bounding_box()
    return box["x"] + (col + 0.5) * box["width"] / w, box["y"] + (row + 0.5) * box["height"] / h


def test_spp_view_steps_by_keyboard_mouse_and_touch_in_the_browser(page, server_url):
    view = open_view(page, server_url, "/spp", "pv-spp-bins")
    frames = Frames(page)
    result, info = spp_truth()
    assert view.get_attribute("tabindex") == "0"
    start = frames.count
    view.focus()
    s = state(view)
    assert (s["level"], s["bin"], s["view"]) == (4, 0, "max")
    for key, level, bin_ in (("ArrowRight", 4, 1), ("ArrowRight", 4, 2), ("ArrowLeft", 4, 1),
                             ("End", 4, 15), ("Home", 4, 0), ("ArrowDown", 4, 4),
                             ("PageDown", 2, 3), ("PageDown", 1, 0), ("PageUp", 2, 0)):
        page.keyboard.press(key)
        s = state(view)
        assert (s["level"], s["bin"]) == (level, bin_), key
        i = (4, 2, 1).index(level)
        n, (row, col) = level, divmod(bin_, level)
        rows, cols = bin_edges(10, n)[row], bin_edges(15, n)[col]
        assert (tuple(s["rows"]), tuple(s["cols"])) == (rows, cols)
        assert s["value"] == pytest.approx(float(result.pooled[i][0, 0, row, col]), rel=1e-6)
        assert s["winner"] == result.argmax[i][0, 0, row, col].tolist()
        field = info.field
        stride = field.stride_box(rows, cols, image_size=(300, 451))
        block = field.block_box(rows, cols, image_size=(300, 451))
        assert s["stride_box"] == [stride.top, stride.left, stride.bottom, stride.right]
        assert s["field_box"] == [block.top, block.left, block.bottom, block.right]
    page.keyboard.press("PageDown")  # back to 4 x 4
    page.keyboard.press("PageDown")
    assert state(view)["level"] == 4
    x, y = centre_of_cell(page, view, 6, 13, 10, 15)  # rows [5, 8) x cols [11, 15): bin 11
    page.mouse.click(x, y)
    assert state(view)["bin"] == 11
    view.get_by_role("button", name="Mean over all channels at each cell").click()
    assert state(view)["view"] == "mean"
    view.get_by_role("button", name="Show the 2 × 2 level").click()
    assert state(view)["level"] == 2
    url_has(page, "spp_level=2", "spp_view=mean")
    readout = view.locator("[data-role=readout]").inner_text()
    assert readout.startswith(
        "Bin 4 of 4 (row 2, column 2) covers feature rows 6 to 10 and columns 8 to 15")
    assert view.locator("svg").first.get_attribute("role") == "img"
    assert "Where the bin looks on the photo" in view.locator("svg").first.get_attribute(
        "aria-label")
    no_round_trip(page, frames, start)


def test_spp_play_walks_the_bins_and_a_tap_pins_one(browser, server_url):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    try:
        view = open_view(page, server_url, "/spp", "pv-spp-bins")
        frames = Frames(page)
        start = frames.count
        view.scroll_into_view_if_needed()
        view.get_by_role("button", name="Play through the bins (space)").click()
        page.wait_for_timeout(1600)
        playing = state(view)["bin"]
        assert playing >= 1
        view.get_by_role("button", name="Pause (space)").click()
        x, y = centre_of_cell(page, view, 0, 0, 10, 15)
        page.touchscreen.tap(x, y)
        assert state(view)["bin"] == 0
        no_round_trip(page, frames, start)
    finally:
        context.close()


def taps_truth(output_stride: int, rates=(6, 12, 18), spp_level=None) -> dict:
    info = tap_info(output_stride, "stage7", CHELSEA.shape[:2])
    return payloads.taps_payload(np.zeros_like(CHELSEA), field=info.field,
                              feature_size=info.feature_size, stride=info.stride, rates=rates,
                              kernel=3, spp_level=spp_level)


def assert_taps(view, payload: dict) -> None:
    """The drawing is the payload's tables at the view's cell: the data attribute, and the
    markers in the SVG (tests/test_payloads.py checks the tables against pyramidviz)."""
    s, drawn = state(view), state(view, "data-taps")
    assert drawn == payloads.taps_at(payload, tuple(s["cell"]))
    assert s["stride"] == payload["stride"]
    for b in payload["branches"][1:]:
        xs = sorted({t["x"] for t in drawn if t["rate"] == b["rate"]})
        assert np.diff(xs).tolist() == [b["spacing"]] * 2
    row, col = s["cell"]
    cell = view.locator("svg [data-role=cell]").last
    assert float(cell.get_attribute("cx")) == pytest.approx(payload["centres"]["cols"][col])
    assert float(cell.get_attribute("cy")) == pytest.approx(payload["centres"]["rows"][row])
    for k, b in enumerate(payload["branches"]):
        (top, bottom), (left, right) = b["rows"]["span"][row], b["cols"]["span"][col]
        rect = view.locator(f"svg [data-key=field{k}]").last
        assert [float(rect.get_attribute(a)) for a in ("x", "y", "width", "height")] == [
            left, top, right - left, bottom - top]


def test_aspp_taps_follow_click_drag_and_keys_exactly(page, server_url):
    view = open_view(page, server_url, "/aspp", "pv-aspp-taps")
    frames = Frames(page)
    start = frames.count
    payload = taps_truth(16)
    assert state(view)["cell"] == [9, 14]
    assert_taps(view, payload)
    view.focus()
    for key, cell in (("ArrowUp", [8, 14]), ("ArrowLeft", [8, 13]), ("End", [8, 28]),
                      ("Home", [8, 0]), ("PageDown", [18, 0]), ("ArrowDown", [18, 0])):
        page.keyboard.press(key)
        assert state(view)["cell"] == cell, key
        assert_taps(view, payload)
    # a click on the photo at the centre of cell (3, 5): x = 16*5 - 423 + 425, y = 16*3 - 414 + 425
    photo = view.locator("svg image").first.bounding_box()
    scale = photo["width"] / 451
    page.mouse.click(photo["x"] + 82.5 * scale, photo["y"] + 59.5 * scale)
    assert state(view)["cell"] == [3, 5]
    assert_taps(view, payload)
    page.mouse.move(photo["x"] + 82.5 * scale, photo["y"] + 59.5 * scale)
    page.mouse.down()
    page.mouse.move(photo["x"] + 114.5 * scale, photo["y"] + 59.5 * scale, steps=4)
    page.mouse.up()
    assert state(view)["cell"] == [3, 7]
    # on the 19 x 29 map at cell (3, 7): rate 6 loses its top row (3 - 6 < 0): 6 of 9;
    # rate 12 keeps rows 3, 15 and columns 7, 19: 4; rate 18 keeps row 3, columns 7, 25: 2
    assert state(view)["valid"] == [1, 6, 4, 2]
    url_has(page, "aspp_cell=3,7")
    # the step buttons move the cell too (a phone has no arrow keys); people count from 1
    view.get_by_role("button", name="Move the cell one column right (→)").click()
    view.get_by_role("button", name="Move the cell down one row (↓)").click()
    assert state(view)["cell"] == [4, 8]
    assert_taps(view, payload)
    readout = view.locator("[data-role=readout]")
    assert readout.get_attribute("aria-live") == "polite"
    assert readout.inner_text().startswith("Cell (row 5, column 9) of the 19 × 29 map")
    assert view.locator("svg").first.get_attribute("role") == "img"
    assert view.locator("svg").first.get_attribute("aria-label")
    no_round_trip(page, frames, start)
    # asking for the effective field is the one action that goes to the server
    view.get_by_role("button", name="Compute the effective receptive field of every branch").click()
    page.wait_for_timeout(500)
    wait_idle(page, timeout=120)
    assert "Effective receptive field of cell (4, 8)" in page.get_by_test_id("stMain").inner_text()
    assert state(view)["cell"] == [4, 8]  # the view kept its cell through that rerun
    assert not exceptions_on_screen(page)


def test_compare_view_moves_the_bin_and_the_taps_together(page, server_url):
    view = open_view(page, server_url, "/compare", "pv-compare")
    frames = Frames(page)
    start = frames.count
    payload = taps_truth(16, spp_level=4)
    view.focus()
    for key in ("ArrowUp", "ArrowUp", "ArrowRight", "PageUp", "End"):
        page.keyboard.press(key)
        s = state(view)
        row, col = s["cell"]
        i = bins.bin_of(row, 19, 4)
        j = bins.bin_of(col, 29, 4)
        assert s["spp_bin"] == i * 4 + j
        assert s["spp_boxes"] == payload["spp"]["boxes"][i * 4 + j]
        assert_taps(view, payload)
    assert state(view)["cell"] == [0, 28]
    no_round_trip(page, frames, start)


def test_a_cell_moved_in_the_browser_stays_on_its_point_across_output_strides(page, server_url):
    """The server does not know where the browser moved the cell; the view carries it itself
    through the server's tables (ui.carried_cell), to the cell pyramidviz says is nearest."""
    view = open_view(page, server_url, "/compare", "pv-compare")
    assert state(view)["cell"] == [9, 14]
    view.focus()
    for key in ("ArrowUp", "ArrowUp", "ArrowRight", "ArrowRight", "ArrowRight"):
        page.keyboard.press(key)
    cell, old = state(view)["cell"], tap_info(16, "stage7", CHELSEA.shape[:2])
    assert cell == [7, 17]
    for stride in (8, 32, 16):
        page.get_by_role("radiogroup", name="Output stride of the backbone").get_by_text(
            str(stride), exact=True).click()
        page.wait_for_timeout(300)
        wait_idle(page)
        new = tap_info(stride, "stage7", CHELSEA.shape[:2])
        expected = list(new.field.nearest_cell(*old.field.center(*cell), new.feature_size))
        assert state(view)["cell"] == expected, stride
        assert state(view)["stride"] == stride
        url_has(page, f"cmp_cell={expected[0]},{expected[1]}")
        assert parse_qs(urlparse(page.url).query)["cmp_cell"] == [f"{expected[0]},{expected[1]}"]
        view.focus()
        page.keyboard.press("ArrowLeft")  # and moved again on the new map
        cell, old = state(view)["cell"], new
        assert cell == [expected[0], max(expected[1] - 1, 0)]
    assert not exceptions_on_screen(page)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize(("path", "testid"), [("/spp", "pv-spp-bins"),
                                              ("/aspp", "pv-aspp-taps")])
def test_save_png_downloads_the_view_at_twice_its_size(page, server_url, path, testid):
    view = open_view(page, server_url, path, testid)
    box = view.locator("svg").first.evaluate(
        "s => [s.viewBox.baseVal.width, s.viewBox.baseVal.height]")
    with page.expect_download() as download:
        view.get_by_role("button", name="Save this view as PNG").click()
    data = open(download.value.path(), "rb").read()
    assert png_size(data) == (round(box[0] * 2), round(box[1] * 2))
    assert download.value.suggested_filename.endswith(".png")


def test_a_shared_link_reopens_the_same_bin_and_cell(page, server_url, browser):
    spp = open_view(page, server_url, "/spp", "pv-spp-bins")
    spp.focus()
    for key in ("PageDown", "ArrowRight", "ArrowDown"):  # 2 x 2 level, bin 1, then bin 3
        page.keyboard.press(key)
    spp.get_by_role("button", name="Mean over all channels at each cell").click()
    url_has(page, "spp_level=2", "spp_bin=4", "spp_view=mean")
    shared, before = page.url, state(spp)
    assert (before["level"], before["bin"], before["view"]) == (2, 3, "mean")
    other = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        open_page(other, shared)
        again = other.locator("[data-testid=pv-spp-bins]")
        again.wait_for()
        assert state(again) == before
        open_page(other, f"{server_url}/aspp?aspp_cell=2,7&aspp_os=8&{PINNED}")
        taps = other.locator("[data-testid=pv-aspp-taps]")
        taps.wait_for()
        assert state(taps)["cell"] == [2, 7] and state(taps)["stride"] == 8
        assert not exceptions_on_screen(other)
    finally:
        other.context.close()


def test_the_sliding_kernel_and_the_gridding_run_in_the_browser(page, server_url):
    from pyramidviz import atrous

    kernel = open_view(page, server_url, "/aspp?aspp_an_i=9&aspp_an_d=2&aspp_an_p=1&aspp_an_s=2",
                       "pv-kernel")
    frames = Frames(page)
    start = frames.count
    kernel.focus()
    out = sizes.conv_output_size(9, 3, padding=1, stride=2, dilation=2)
    for key, position in (("ArrowRight", (0, 1)), ("ArrowDown", (1, 1)), ("End", (3, 3)),
                          ("Home", (0, 0)), ("ArrowLeft", (out - 1, out - 1))):
        page.keyboard.press(key)
        s = state(kernel)
        assert tuple(s["position"]) == position, key
        cells, real = atrous.sliding_taps(9, 3, rate=2, padding=1, stride=2, position=position)
        assert s["taps"] == [[r, c, bool(x)] for (r, c), x in zip(cells.tolist(), real.tolist(),
                                                                 strict=True)]
    kernel.get_by_role("button", name="Play (space)").click()
    page.wait_for_timeout(1200)
    kernel.get_by_role("button", name="Pause (space)").click()
    assert tuple(state(kernel)["position"]) != (out - 1, out - 1)
    grid = page.locator("[data-testid=pv-gridding]")
    grid.focus()
    assert state(grid)["layer"] == 3 and state(grid)["holes"] == [120, 0, 184]
    page.keyboard.press("Home")
    assert state(grid)["layer"] == 1
    assert state(grid)["holes"] == [atrous.stack_coverage(r).holes for r in ((2,), (1,), (1,))]
    page.keyboard.press("ArrowRight")
    assert state(grid)["holes"] == [atrous.stack_coverage(r).holes
                                    for r in ((2, 2), (1, 2), (1, 2))]
    no_round_trip(page, frames, start)


def test_the_views_own_labels_follow_a_language_switch_at_once(page, server_url):
    """Same photo, same settings (the same token): new labels alone must redraw the text,
    and the view keeps where the student was."""
    view = open_view(page, server_url, "/spp", "pv-spp-bins")
    view.focus()
    page.keyboard.press("ArrowRight")
    assert view.locator("[data-role=readout]").inner_text().startswith("Bin 2 of 16")
    page.get_by_test_id("stSidebar").get_by_text("한국어", exact=True).click()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.wait_for_function("""() => {
      const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot &&
        e.shadowRoot.querySelector('[data-testid=pv-spp-bins]'));
      const r = host && host.shadowRoot.querySelector('[data-role=readout]');
      return r && r.textContent.startsWith('빈 2/16');
    }""", timeout=30_000)
    assert state(view)["bin"] == 1
    assert "사진" in view.locator("svg").first.get_attribute("aria-label")
    assert view.get_by_role("button", name="이 보기를 PNG로 저장").count() == 1
