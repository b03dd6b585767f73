"""Helpers for the deck's browser tests: axe-core, text heights, overlaps, the deck's state."""

from __future__ import annotations

import json
from pathlib import Path

AXE_PATHS = (Path(__file__).resolve().parent / "vendor" / "axe.min.js",
             Path("/tmp/axe/package/axe.min.js"))
"""axe-core: the vendored copy first, else one unpacked from ``npm pack axe-core@4.10.3``."""
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DECK = "[data-testid=pv-deck]"


def axe_source() -> str:
    for path in AXE_PATHS:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError("axe-core not found: vendor it at tests/vendor/axe.min.js or run "
                            "'cd /tmp && npm pack axe-core@4.10.3 && mkdir -p axe && "
                            "tar -xzf axe-core-4.10.3.tgz -C axe'")


MARK_HOST = """(sel) => { for (const e of document.querySelectorAll('*')) {
  if (e.shadowRoot && e.shadowRoot.querySelector(sel)) { e.setAttribute('data-pv-host', '');
    return true; } } return false; }"""


def axe_serious(page, *, shadow: str | None = None) -> list[tuple[str, str, list]]:
    """Serious and critical WCAG 2.1 A/AA violations, as (rule, impact, targets). With
    ``shadow``, axe audits only that element inside a component's shadow root (the deck in
    the app, whose page around it belongs to other suites)."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    context = "document"
    if shadow is not None:
        assert page.evaluate(MARK_HOST, shadow), f"no shadow root holds {shadow}"
        context = "{include: [{fromShadowDom: ['[data-pv-host]', " + json.dumps(shadow) + "]}]}"
    found = page.evaluate(f"async (tags) => {{ const r = await axe.run({context}, "
                          "{runOnly: {type: 'tag', values: tags}}); "
                          "return [r.passes.length, r.violations.map(v => [v.id, v.impact, "
                          "v.nodes.map(n => n.target)])]; }", WCAG)
    passes, violations = found
    assert passes > 0  # axe looked at something
    return [(rule, impact, targets) for rule, impact, targets in violations
            if impact in ("serious", "critical")]


def state(locator) -> dict:
    return json.loads(locator.get_attribute("data-state"))


TEXT_LINES = """(root) => {
  const slide = root.querySelector('.pv-deck-slide:not([hidden])') || root;
  const out = [];
  const walker = document.createTreeWalker(slide, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width > 0) out.push({text: node.textContent.slice(0, 40), x: r.x, y: r.y,
                                 w: r.width, h: r.height});
    }
  }
  const boxes = [...slide.querySelectorAll('.pv-deck-svg, .pv-deck-strip-svg')].map(e => {
    const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; });
  const area = slide.querySelector('.pv-deck-picture');
  const main = area && area.firstElementChild;
  const a = area ? area.getBoundingClientRect() : null;
  const m = main ? main.getBoundingClientRect() : null;
  const s = slide.getBoundingClientRect();
  return {lines: out, pictures: boxes, area: a && {w: a.width, h: a.height},
          main: m && {w: m.width, h: m.height, kind: main.className},
          slide: {x: s.x, y: s.y, w: s.width, h: s.height}};
}"""


def overlaps(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (a["x"] + slack < b["x"] + b["w"] and b["x"] + slack < a["x"] + a["w"]
            and a["y"] + slack < b["y"] + b["h"] and b["y"] + slack < a["y"] + a["h"])


def layout_problems(measured: dict, *, min_height: float | None) -> list[str]:
    """Text lines under ``min_height`` px, text over text or over a picture, text or pictures
    outside the slide, and a main picture that fills neither the width nor the height."""
    problems, lines, slide = [], measured["lines"], measured["slide"]
    for line in lines:
        if min_height is not None and line["h"] < min_height:
            problems.append(f"{line['text']!r} is {line['h']:.1f} px high")
        if (line["x"] < slide["x"] - 1 or line["y"] < slide["y"] - 1
                or line["x"] + line["w"] > slide["x"] + slide["w"] + 1
                or line["y"] + line["h"] > slide["y"] + slide["h"] + 1):
            problems.append(f"{line['text']!r} leaves the slide")
    for i, a in enumerate(lines):
        for b in lines[i + 1:]:
            if overlaps(a, b, slack=2.0):
                problems.append(f"{a['text']!r} overlaps {b['text']!r}")
        for pic in measured["pictures"]:
            if overlaps(a, pic, slack=2.0):
                problems.append(f"{a['text']!r} overlaps a picture")
    area, main = measured["area"], measured["main"]
    if area and main and "pv-deck-list" not in main["kind"]:
        if main["w"] < 0.97 * area["w"] and main["h"] < 0.85 * area["h"]:
            problems.append(f"the picture {main} fills neither side of {area}")
    return problems
