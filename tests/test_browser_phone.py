"""Real browser on a phone (390 x 844): no title overlaps another, a bad upload says so in
the page itself (the sidebar is closed), and the keyboard reaches the controls and views
without a trap of figure-toolbar stops."""

from __future__ import annotations

import pytest

from browser import open_page, upload, wait_idle

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PAGES = ["", "spp", "aspp", "compare"]

TITLES_JS = """() => {
  const out = [];
  const add = (el, kind) => {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && (el.textContent || '').trim())
      out.push({kind, text: el.textContent.trim().slice(0, 60),
                x0: r.left, y0: r.top, x1: r.right, y1: r.bottom});
  };
  const main = document.querySelector('[data-testid=stMain]');  // the sidebar is closed
  main.querySelectorAll('h1, h2, h3').forEach((e) => add(e, 'heading'));
  main.querySelectorAll('.js-plotly-plot .gtitle, .js-plotly-plot .annotation-text')
    .forEach((e) => add(e, 'plotly'));
  const roots = [...main.querySelectorAll('*')]  // the browser views' shadow roots
    .filter((e) => e.shadowRoot).map((e) => e.shadowRoot);
  roots.forEach((root) => root.querySelectorAll('svg text').forEach((e) => add(e, 'view')));
  return out;
}"""


def overlaps(boxes: list[dict], *, slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of titles whose boxes intersect by more than ``slack`` px each way."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > slack
                    and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > slack):
                pairs.append((a["text"], b["text"]))
    return pairs


def test_overlap_check_finds_overlaps():
    a = {"text": "a", "x0": 0, "y0": 0, "x1": 100, "y1": 20}
    assert overlaps([a, {**a, "text": "b", "x0": 50, "x1": 150}]) == [("a", "b")]
    assert overlaps([a, {**a, "text": "c", "y0": 20, "y1": 40}]) == []


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["English", "한국어"])
@pytest.mark.parametrize("path", PAGES)
def test_no_title_overlaps_another_on_a_phone(phone, server_url, path, lang):
    open_page(phone, f"{server_url}/{path}?lang={lang}")
    full = phone.evaluate("Math.max(...[...document.querySelectorAll('*')]"
                          ".map(e => e.scrollHeight))")
    phone.set_viewport_size({"width": PHONE["width"], "height": min(int(full), 12_000)})
    wait_idle(phone)
    phone.wait_for_timeout(1500)  # Plotly and the views lay out at the new size
    boxes = phone.evaluate(TITLES_JS)
    assert len(boxes) >= 2
    assert overlaps(boxes) == []
    wide = [b["text"] for b in boxes if b["x1"] > PHONE["width"] + 1 or b["x0"] < -1]
    assert wide == []


def test_a_bad_upload_is_explained_in_the_page_not_only_the_sidebar(phone, server_url):
    open_page(phone, f"{server_url}/spp")
    main = phone.get_by_test_id("stMain")
    assert upload(phone, [{"name": "notes.png", "mimeType": "image/png",
                           "buffer": b"this is not an image"}],
                  lambda p: main.get_by_test_id("stAlertContentError").count() > 0)
    alert = main.get_by_test_id("stAlertContentError").first
    assert alert.is_visible()
    assert "not an image we can read" in alert.inner_text()
    box = alert.bounding_box()
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"] + 1


def test_the_keyboard_reaches_controls_and_views_without_toolbar_traps(phone, server_url):
    """Tab from the top of the Compare page: the view and the controls get focus, and no
    run of figure-toolbar buttons (Plotly's modebar) sits between them."""
    open_page(phone, f"{server_url}/compare")
    phone.locator("h1").first.click()
    seen = []
    for _ in range(60):
        phone.keyboard.press("Tab")
        seen.append(phone.evaluate("""() => {
          let e = document.activeElement;
          while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
          const cls = e.className.baseVal ?? e.className;
          return [e.tagName, e.getAttribute('data-testid') || '', cls,
                  (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 30)];
        }"""))
    text = [" ".join(map(str, s)) for s in seen]
    assert any("pv-compare" in t for t in text), text  # the linked view
    assert any("16" in t or "4-2-1" in t for t in text), text  # the segmented controls
    cycle = text[:text.index(text[1], 2)] if text[1] in text[2:] else text  # one full loop
    figures = phone.locator(".js-plotly-plot").count()
    assert figures >= 3
    # one stop per figure (save as PNG), not a toolbar of zoom / pan / select stops each
    assert sum("modebar" in t for t in cycle) <= figures, cycle


VIEWS_ON = [("spp", "pv-spp-bins"), ("aspp", "pv-aspp-taps"), ("aspp", "pv-kernel"),
            ("aspp", "pv-gridding"), ("compare", "pv-compare")]

VIEW_TEXT_JS = """(testid) => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot &&
    e.shadowRoot.querySelector(`[data-testid=${testid}]`));
  const view = host.shadowRoot.querySelector(`[data-testid=${testid}]`);
  const svg = view.querySelector('svg'), box = svg.getBoundingClientRect();
  const scale = box.width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll('text')].filter((t) => t.textContent.trim()).map((t) => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent.slice(0, 40), px: Number(t.getAttribute('font-size')) * scale,
            inside: r.left >= box.left - 1 && r.right <= box.right + 1 &&
                    r.top >= box.top - 1 && r.bottom <= box.bottom + 1};
  });
}"""


def swipe(page, x: float, y: float, dy: float = -320, steps: int = 12) -> None:
    """A finger swipe through the DevTools protocol (Playwright has no touch move)."""
    cdp = page.context.new_cdp_session(page)
    touch = lambda kind, points: cdp.send(  # noqa: E731
        "Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    touch("touchStart", [{"x": x, "y": y}])
    for i in range(1, steps + 1):
        touch("touchMove", [{"x": x, "y": y + dy * i / steps}])
        page.wait_for_timeout(16)
    touch("touchEnd", [])
    cdp.detach()


@pytest.fixture
def finger(browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True,
                                  is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


@pytest.mark.parametrize(("path", "testid"), VIEWS_ON)
def test_a_vertical_swipe_on_a_view_scrolls_the_page(finger, server_url, path, testid):
    open_page(finger, f"{server_url}/{path}")
    picture = finger.locator(f"[data-testid={testid}] svg").first
    picture.wait_for()
    picture.scroll_into_view_if_needed()
    finger.wait_for_timeout(500)
    box = picture.bounding_box()
    main = "document.querySelector('[data-testid=stMain]')"
    before, room = finger.evaluate(f"[{main}.scrollTop, {main}.scrollHeight - "
                                   f"{main}.clientHeight - {main}.scrollTop]")
    up = room > 400  # a view near the page's end: swipe the other way
    y = min(max(box["y"] + box["height"] / 2, 300), PHONE["height"] - 300)
    swipe(finger, box["x"] + box["width"] / 2, y, dy=-240 if up else 240)
    finger.wait_for_timeout(800)
    moved = finger.evaluate(f"{main}.scrollTop") - before
    assert (moved if up else -moved) > 100, (testid, moved)


@pytest.mark.parametrize(("path", "testid"), VIEWS_ON)
def test_view_text_is_at_least_12_px_and_inside_the_picture_on_a_phone(finger, server_url,
                                                                       path, testid):
    open_page(finger, f"{server_url}/{path}")
    finger.locator(f"[data-testid={testid}] svg text").first.wait_for()
    texts = finger.evaluate(VIEW_TEXT_JS, testid)
    assert texts
    assert [t for t in texts if t["px"] < 12 - 0.01] == []
    assert [t["text"] for t in texts if not t["inside"]] == []


def test_a_tap_moves_the_aspp_cell(finger, server_url):
    open_page(finger, f"{server_url}/aspp?img=chelsea")
    view = finger.locator("[data-testid=pv-aspp-taps]")
    photo = view.locator("svg image").first
    photo.scroll_into_view_if_needed()
    before = view.get_attribute("data-state")
    box = photo.bounding_box()
    finger.touchscreen.tap(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    finger.wait_for_timeout(300)
    assert view.get_attribute("data-state") != before
    import json

    assert json.loads(view.get_attribute("data-state"))["cell"][0] < 5
