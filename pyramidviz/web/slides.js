// Slides keys: ArrowRight / PageDown step forward, ArrowLeft / PageUp step back, Home / End
// jump to the first / last slide. The view shows the "3 / 8" counter and sends the slide
// wanted to Python (setTriggerValue "go"); Python owns the slide (and ?slide= in the URL).
// A key that a focused view already handled (defaultPrevented), a key with a modifier, or
// one typed into a field or a widget is left alone.
// Contract (browser tests): [data-testid=pv-slides-keys] data-slide (1-based, the slide
// shown) and data-count.

import { setAttrs, html, fmt } from "./common.js";

const KEYS = { ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1 };
const SKIP = "input, textarea, select, [contenteditable=true], [role=slider], [role=radio]";

export default function (component) {
  const { parentElement, data, setTriggerValue } = component;
  let root = parentElement.querySelector("[data-testid=pv-slides-keys]");
  if (!root) {
    root = html("div", "pv-slides-keys", null, parentElement);
    root.setAttribute("data-testid", "pv-slides-keys");
    root.setAttribute("aria-live", "polite");
    root.__pv = {};
  }
  const v = root.__pv;
  v.count = data.payload.count;
  v.slide = data.state.slide;
  v.send = setTriggerValue;
  setAttrs(root, { "data-slide": v.slide, "data-count": v.count, title: data.labels.keys });
  root.textContent = fmt(data.labels.counter, { i: v.slide, n: v.count });
  if (!v.listener) {
    v.listener = (e) => onKey(v, root, e);
    window.addEventListener("keydown", v.listener);
  }
}

/** The slide a key asks for from slide `slide` of `count`, or null (pure, 1-based). */
function wanted(key, slide, count) {
  if (key === "Home") return 1;
  if (key === "End") return count;
  if (!(key in KEYS)) return null;
  return Math.min(Math.max(slide + KEYS[key], 1), count);
}

function onKey(v, root, e) {
  if (!root.isConnected) { window.removeEventListener("keydown", v.listener); return; }
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const target = e.composedPath()[0];
  if (target && target.closest && target.closest(SKIP)) return;
  const next = wanted(e.key, v.slide, v.count);
  if (next === null || next === v.slide) return;
  e.preventDefault();
  v.slide = next;  // a second press before the rerun steps on from here
  v.send("go", next);
}
