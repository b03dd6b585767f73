// The lecture deck's pure part: which slide a key asks for, what the URL says, what a
// slide's picture and chart place where. No DOM here, so node --test checks all of it.
// Numbers come from the payload (pyramidviz.deck.deck_payload); this file only maps them to
// positions in percent or counts slides.

/** What each handled key does: a step, a jump, or a deck action. */
export const KEYS = {
  ArrowRight: { step: 1 }, PageDown: { step: 1 }, " ": { step: 1 }, Spacebar: { step: 1 },
  ArrowDown: { step: 1 }, ArrowLeft: { step: -1 }, PageUp: { step: -1 }, ArrowUp: { step: -1 },
  Home: { to: "first" }, End: { to: "last" },
  b: { act: "blank" }, B: { act: "blank" }, ".": { act: "blank" },
  f: { act: "fullscreen" }, F: { act: "fullscreen" },
  p: { act: "presenter" }, P: { act: "presenter" },
};

/** Focus targets whose keys belong to them (a sidebar input, a text field), not the deck. */
export const EDITABLE = "input, textarea, select, [contenteditable=''], [contenteditable=true], "
  + "[role=slider], [role=combobox], [role=textbox], [role=spinbutton]";

/** The action of a key event's fields, or null when the deck leaves the key alone. */
export function keyAction(key, mods = {}) {
  if (mods.altKey || mods.ctrlKey || mods.metaKey) return null;
  const action = KEYS[key];
  if (!action) return null;
  if (mods.shiftKey && action.act) return null;
  return action;
}

/** Slide (1-based) after `action` from `slide` of `count`; clamped to the deck. */
export function moved(slide, action, count) {
  if (!action) return slide;
  if (action.to === "first") return 1;
  if (action.to === "last") return count;
  if (action.step) return Math.min(Math.max(slide + action.step, 1), count);
  return slide;
}

/** The slide a URL's query asks for (`?slide=N`), or null for none or a bad value. */
export function slideParam(search, count) {
  const raw = new URLSearchParams(search || "").get("slide");
  if (raw === null || !/^[0-9]{1,6}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= count ? n : null;
}

/** The deck's `data-state` contract: JSON `{"slide": n, "of": N}`. */
export function stateText(slide, count) {
  return JSON.stringify({ slide, of: count });
}

/** Fill "{name}" placeholders of a template. */
export function fillTemplate(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

/** What the presenter view shows for `slide` (1-based): this slide, the next, the notes. */
export function presenterState(payload, slide) {
  const count = payload.slides.length;
  const here = payload.slides[slide - 1];
  return {
    slide, count, title: here.title, say: here.notes.say, ask: here.notes.ask,
    next: slide < count ? slide + 1 : null,
    counter: fillTemplate(payload.labels.counter, { i: slide, n: count }),
  };
}

/** Elapsed seconds as m:ss (h:mm:ss past an hour). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const pad = (x) => String(x).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

/** Stroke width of a drawn box in a panel's pixels (the payload gives thousandths of the
 * panel's longer side, so lines look alike on a 1 x 1 grid and a 1600 px photo). */
export function strokeWidth(panel, width) {
  const [, , w, h] = panel.view;
  return (width * Math.max(w, h)) / 1000;
}

/** A row of panels: each panel's flex share and the row's aspect (CSS does the fitting). */
export function rowLayout(picture) {
  return {
    aspect: picture.aspect,
    panels: picture.panels.map((p) => ({ grow: p.weight, view: p.view.join(" ") })),
  };
}

/** The chart in percent of its plot area: polylines, ticks and marked rates. */
export function chartLayout(chart) {
  const x0 = chart.x[0], x1 = chart.x[chart.x.length - 1];
  const px = (x) => (x1 > x0 ? ((x - x0) / (x1 - x0)) * 100 : 50);
  const py = (y) => (1 - y) * 100;
  return {
    series: chart.series.map((s) => ({
      colour: s.colour, dash: s.dash, label: s.label,
      points: chart.x.map((x, i) => `${px(x).toFixed(3)},${py(s.y[i]).toFixed(3)}`).join(" "),
    })),
    xTicks: chart.x_ticks.map((x) => ({ at: px(x), text: String(x) })),
    yTicks: chart.y_ticks.map((y, i) => ({ at: py(y), text: chart.y_tick_labels[i] })),
    marks: chart.marks.map((x, i) => ({ at: px(x), text: chart.mark_labels[i] })),
  };
}
