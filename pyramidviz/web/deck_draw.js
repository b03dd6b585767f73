// The lecture deck's thin draw: one <section> per slide, built once from the payload into
// any document (the audience page, the presenter window). Everything is placed by CSS and
// by the numbers of deck_layout.js; no listener lives here, nothing reacts to the pointer.

import { chartLayout, strokeWidth, fillTemplate } from "./deck_layout.js";

const SVG = "http://www.w3.org/2000/svg";

function el(doc, tag, cls, text, parent) {
  const e = doc.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function sv(doc, tag, attrs, parent) {
  const e = doc.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

function rect(box) {
  const [top, left, bottom, right] = box;
  return { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** One panel's SVG: its image, the cell lines, boxes and dots, in the panel's own pixels. */
function panelSvg(doc, images, panel, label) {
  const [x0, y0, w, h] = panel.view;
  const svg = sv(doc, "svg", { viewBox: `${x0} ${y0} ${w} ${h}`, class: "pv-deck-svg",
    role: "img", "aria-label": label || null, preserveAspectRatio: "xMidYMid meet" });
  if (!label) svg.setAttribute("aria-hidden", "true");
  if (panel.shade) sv(doc, "rect", { x: x0, y: y0, width: w, height: h, fill: "#eef0f3" }, svg);
  const [px, py, pw, ph] = panel.place;
  const img = sv(doc, "image", { href: images[panel.image], x: px, y: py, width: pw, height: ph,
    preserveAspectRatio: "none" }, svg);
  if (panel.pixelated) img.setAttribute("style", "image-rendering: pixelated");
  if (panel.overlay) {
    sv(doc, "image", { href: images[panel.overlay], x: px, y: py, width: pw, height: ph,
      preserveAspectRatio: "none", opacity: 0.62, style: "image-rendering: pixelated" }, svg);
  }
  const lineWidth = strokeWidth(panel, 1.6);
  if (panel.lines) {
    const d = [...panel.lines.x.map((x) => `M${x},${py}V${py + ph}`),
      ...panel.lines.y.map((y) => `M${px},${y}H${px + pw}`)].join("");
    if (d) sv(doc, "path", { d, stroke: "rgba(255,255,255,0.6)", "stroke-width": lineWidth,
      fill: "none" }, svg);
  }
  for (const b of panel.boxes || []) {
    const sw = strokeWidth(panel, b.width);
    sv(doc, "rect", { ...rect(b.box), fill: "none", stroke: b.colour, "stroke-width": sw,
      "stroke-dasharray": b.dash ? `${sw * 2.5} ${sw * 1.5}` : null }, svg);
  }
  for (const dot of panel.dots || []) {
    sv(doc, "circle", { cx: dot.x, cy: dot.y, r: dot.r, fill: dot.hollow ? "#ffffff" : dot.colour,
      "fill-opacity": dot.hollow ? 0.35 : 1, stroke: dot.hollow ? dot.colour : "#ffffff",
      "stroke-width": dot.r * 0.35 }, svg);
  }
  return svg;
}

function legend(doc, items, parent) {
  const box = el(doc, "ul", "pv-deck-legend", null, parent);
  for (const item of items) {
    const li = el(doc, "li", null, null, box);
    const key = el(doc, "span", "pv-deck-key" + (item.dot ? " pv-deck-dot" : "")
      + (item.dash ? " pv-deck-dash" : "") + (item.hollow ? " pv-deck-hollow" : ""), null, li);
    key.style.setProperty("--c", item.colour);
    key.setAttribute("aria-hidden", "true");
    el(doc, "span", null, item.text, li);
  }
  return box;
}

function panels(doc, images, picture, area, after) {
  const row = el(doc, "div", "pv-deck-row" + (picture.align === "end" ? " pv-deck-end" : ""),
    null, area);
  row.style.setProperty("--aspect", String(picture.aspect));
  row.style.setProperty("--gaps", String(picture.panels.length - 1));
  const captioned = picture.panels.some((p) => p.caption);
  if (!captioned) row.classList.add("pv-deck-bare");
  for (const panel of picture.panels) {
    const fig = el(doc, "figure", "pv-deck-panel", null, row);
    fig.style.flexGrow = String(panel.weight);
    fig.appendChild(panelSvg(doc, images, panel, panel.caption));
    if (panel.caption) el(doc, "figcaption", null, panel.caption, fig);
  }
  if (picture.strip) {
    const strip = el(doc, "figure", "pv-deck-strip", null, after);
    const svg = sv(doc, "svg", { viewBox: "0 0 1000 40", preserveAspectRatio: "none",
      class: "pv-deck-strip-svg", "aria-hidden": "true" }, strip);
    sv(doc, "image", { href: images[picture.strip.image], x: 0, y: 0, width: 1000, height: 40,
      preserveAspectRatio: "none" }, svg);
    for (const seg of picture.strip.segments) {
      sv(doc, "rect", { x: seg.from * 1000 + 1, y: 2, width: (seg.to - seg.from) * 1000 - 2,
        height: 36, fill: "none", stroke: seg.colour, "stroke-width": 4,
        "vector-effect": "non-scaling-stroke" }, svg);
    }
    el(doc, "figcaption", null, picture.strip.caption, strip);
  }
  if (picture.legend) legend(doc, picture.legend, after);
}

function chart(doc, picture, area, after) {
  const c = chartLayout(picture);
  const box = el(doc, "div", "pv-deck-chart", null, area);
  const plot = el(doc, "div", "pv-deck-plot", null, box);
  const svg = sv(doc, "svg", { viewBox: "0 0 100 100", preserveAspectRatio: "none",
    class: "pv-deck-chart-svg", "aria-hidden": "true" }, plot);
  for (const t of c.yTicks) {
    sv(doc, "line", { x1: 0, x2: 100, y1: t.at, y2: t.at, stroke: "#d0d0d0", "stroke-width": 1,
      "vector-effect": "non-scaling-stroke" }, svg);
    const label = el(doc, "span", "pv-deck-ytick", t.text, plot);
    label.style.top = `${t.at}%`;
  }
  for (const t of c.xTicks) {
    const label = el(doc, "span", "pv-deck-xtick", t.text, plot);
    label.style.left = `${t.at}%`;
  }
  c.marks.forEach((m, i) => {
    sv(doc, "line", { x1: m.at, x2: m.at, y1: 0, y2: 100, stroke: "#555", "stroke-width": 2,
      "stroke-dasharray": "6 5", "vector-effect": "non-scaling-stroke" }, svg);
    const label = el(doc, "span", "pv-deck-mark", m.text, plot);
    label.style.left = `${m.at}%`;
    label.style.top = `${4 + (i % 2) * 9}%`;
  });
  for (const s of c.series) {
    sv(doc, "polyline", { points: s.points, fill: "none", stroke: s.colour, "stroke-width": 5,
      "stroke-dasharray": s.dash ? "12 8" : null, "vector-effect": "non-scaling-stroke" }, svg);
  }
  el(doc, "span", "pv-deck-xlabel", picture.x_label, box);
  el(doc, "span", "pv-deck-ylabel", picture.y_label, box);
  legend(doc, c.series.map((s) => ({ colour: s.colour, dash: s.dash, text: s.label })), after);
}

/** The section of slide `index` (0-based) of the payload, built into document `doc`. */
export function buildSlide(doc, payload, index) {
  const slide = payload.slides[index];
  const count = payload.slides.length;
  const section = el(doc, "section", `pv-deck-slide pv-deck-s-${slide.id}`);
  section.setAttribute("data-slide", String(index + 1));
  section.setAttribute("aria-roledescription", "slide");
  section.setAttribute("aria-label", `${fillTemplate(payload.labels.counter, { i: index + 1, n: count })}: ${slide.title}`);
  el(doc, index === 0 ? "h1" : "h2", "pv-deck-title", slide.title, section);
  for (const line of slide.text) el(doc, "p", "pv-deck-text", line, section);
  const picture = slide.picture;
  const area = el(doc, "div", "pv-deck-picture", null, section);
  const after = el(doc, "div", "pv-deck-after", null, section);
  if (picture.kind === "panels") panels(doc, payload.images, picture, area, after);
  else if (picture.kind === "chart") chart(doc, picture, area, after);
  else if (picture.kind === "list") {
    const list = el(doc, "ul", "pv-deck-list" + (picture.small ? " pv-deck-small" : ""), null, area);
    for (const item of picture.items) el(doc, "li", null, item, list);
  }
  if (!after.childNodes.length) after.remove();
  el(doc, "span", "pv-deck-count", fillTemplate(payload.labels.counter, { i: index + 1, n: count }),
    section).setAttribute("aria-hidden", "true");
  return section;
}

/** Reserve under each row of panels the height its captions really take (they wrap more in
 * narrow panels: a tall photo, a small window), so no caption runs into the next line or
 * picture. Measures the shown slide; call it after a slide is shown or the window resized. */
export function fitCaptions(section) {
  for (const row of section.querySelectorAll(".pv-deck-row:not(.pv-deck-bare)")) {
    const area = row.parentElement;
    row.style.removeProperty("font-size");
    for (let scale = 1; scale >= 0.7; scale -= 0.1) {  // last resort: smaller captions
      if (scale < 1) row.style.fontSize = `${scale.toFixed(1)}em`;
      let last = -1;
      for (let pass = 0; pass < 4; pass++) {  // the row's width depends on the reserve
        const caps = [...row.querySelectorAll("figcaption")];
        const tallest = Math.ceil(Math.max(0, ...caps.map((c) => c.getBoundingClientRect().height
          + parseFloat(getComputedStyle(c).marginTop || "0")))) + 2;
        if (tallest === last) break;
        row.style.setProperty("--cap", `${tallest}px`);
        last = tallest;
      }
      if (row.getBoundingClientRect().height <= area.getBoundingClientRect().height + 1) break;
    }
  }
}
