// pyramidviz browser views: helpers shared by every view (plain JS, no dependencies).
// Each view imports what it needs; pyramidviz.bundle joins the modules into one for the page.
//
// A view is a pure `layout(payload, state, context) -> scene` and a thin draw: `paint` puts
// the scene's items into the SVG, touching only the attributes and texts that changed since
// the last frame. The views look numbers up in the payload's tables (pyramidviz/payloads.py:
// schema, fields, units); they never compute a position, count or spacing themselves.
// Colours, sizes, breakpoints and timings come from the payload's `style` block.

export const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element with attributes, appended to parent when given. */
export function svg(tag, attrs = {}, parent = null) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  if (parent) parent.appendChild(el);
  return el;
}

/** Set (or, for null, remove) attributes on an element. */
export function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) el.removeAttribute(k);
    else el.setAttribute(k, String(v));
  }
  return el;
}

/** Create an HTML element with a class and text. */
export function html(tag, cls, text, parent) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined && text !== null) el.textContent = text;
  if (parent) parent.appendChild(el);
  return el;
}

/** Fill "{name}" placeholders of an i18n template (the app's EN/KO tables). */
export function fmt(template, values) {
  return String(template ?? "").replace(/\{(\w+)(?::[^}]*)?\}/g,
    (m, k) => (k in values ? String(values[k]) : m));
}

/** A number as the page writes it: up to 4 significant digits. */
export function num(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return Number(x.toPrecision(4)).toString();
}

/** Rectangle attributes of a [top, left, bottom, right] box. */
export function rectOf(box) {
  const [top, left, bottom, right] = box;
  return { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** How many of the ascending `bounds` are <= value: a binary search over a payload table
 * (the cell nearest a pixel, `bounds` from pyramidviz.payloads). */
export function nearestIndex(bounds, value) {
  let lo = 0, hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid] <= value) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Whether a container `width` CSS px wide gets the phone layout (the style's breakpoint). */
export function isPhone(style, width) { return width < style.breakpoints.phone; }

/** The layout's viewBox width and base font for a container `width` px wide. */
export function frame(style, width) {
  const phone = isPhone(style, width), z = style.sizes;
  return { phone, vbw: phone ? z.width_phone : z.width, fs: phone ? z.font_phone : z.font };
}

/** A font size in viewBox units that shows at least the style's `min_text_px` on screen
 * when a viewBox `vbw` units wide is drawn `width` px wide. */
export function textSize(style, size, vbw, width) {
  return Math.max(size, style.sizes.min_text_px * vbw / Math.max(width, 1));
}

/** Put `items` ({key, tag, attrs, text, children}) into `parent`, reusing the elements of
 * the last call (kept in `memo`, a Map): only changed attributes and texts are written,
 * missing items are created (in order), stale ones removed. Returns the number of writes. */
export function paint(parent, items, memo) {
  let writes = 0;
  const seen = new Set();
  for (const item of items) {
    seen.add(item.key);
    let m = memo.get(item.key);
    if (!m) {
      m = { el: document.createElementNS(SVG_NS, item.tag), attrs: {}, text: undefined,
        kids: new Map() };
      m.el.setAttribute("data-key", item.key);
      parent.appendChild(m.el);
      memo.set(item.key, m);
    }
    const attrs = item.attrs || {};
    for (const k in attrs) {
      const v = attrs[k];
      if (m.attrs[k] === v) continue;
      if (v === null || v === undefined) m.el.removeAttribute(k);
      else m.el.setAttribute(k, String(v));
      m.attrs[k] = v;
      writes += 1;
    }
    for (const k in m.attrs) {
      if (!(k in attrs)) { m.el.removeAttribute(k); delete m.attrs[k]; writes += 1; }
    }
    if (item.text !== undefined && m.text !== item.text) {
      m.el.textContent = item.text; m.text = item.text; writes += 1;
    }
    if (item.children) writes += paint(m.el, item.children, m.kids);
  }
  for (const [k, m] of memo) {
    if (!seen.has(k)) { m.el.remove(); memo.delete(k); writes += 1; }
  }
  return writes;
}

/** Set an attribute or text only when it changed (the HTML side of `paint`). */
export function put(el, name, value) {
  if (name === "text") { if (el.textContent !== value) el.textContent = value; return; }
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** The marker of a branch: one shape per branch (the style's marker names), as a scene item. */
export function marker(key, shape, x, y, r, attrs) {
  const f = (v) => Math.round(v * 100) / 100;
  let d = null;
  switch (shape) {
    case "square":
      d = `M${f(x - r * 0.85)},${f(y - r * 0.85)}h${f(r * 1.7)}v${f(r * 1.7)}h${f(-r * 1.7)}Z`; break;
    case "diamond":
      d = `M${f(x)},${f(y - r * 1.2)}L${f(x + r * 1.2)},${f(y)}L${f(x)},${f(y + r * 1.2)}L${f(x - r * 1.2)},${f(y)}Z`; break;
    case "triangle-up":
      d = `M${f(x)},${f(y - r * 1.2)}L${f(x + r * 1.1)},${f(y + r * 0.8)}L${f(x - r * 1.1)},${f(y + r * 0.8)}Z`; break;
    case "triangle-down":
      d = `M${f(x)},${f(y + r * 1.2)}L${f(x + r * 1.1)},${f(y - r * 0.8)}L${f(x - r * 1.1)},${f(y - r * 0.8)}Z`; break;
    case "cross": {
      const a = f(r * 0.8);
      d = `M${f(x - r * 0.4)},${f(y - r * 1.2)}h${a}v${a}h${a}v${a}h${-a}v${a}h${-a}v${-a}h${-a}v${-a}h${a}Z`; break;
    }
    case "asterisk": {
      d = `M${f(x - r)},${f(y - r)}L${f(x + r)},${f(y + r)}M${f(x - r)},${f(y + r)}L${f(x + r)},${f(y - r)}M${f(x - r * 1.3)},${f(y)}H${f(x + r * 1.3)}`;
      const colour = attrs.fill && attrs.fill !== "none" ? attrs.fill : attrs.stroke;
      return { key, tag: "path", attrs: { ...attrs, d, fill: "none", stroke: colour, "stroke-width": 3 } };
    }
    default:
      return { key, tag: "circle", attrs: { ...attrs, cx: f(x), cy: f(y), r: f(r) } };
  }
  return { key, tag: "path", attrs: { ...attrs, d } };
}

/** Write some query parameters into the URL without a rerun (null deletes one). The write
 * waits until the student pauses (`delay` ms): a link needs the last value, and
 * history.replaceState on every key press costs a phone part of its frame. */
export function writeUrl(params, delay = 150) {
  Object.assign(pendingUrl, params);
  if (urlTimer !== null) clearTimeout(urlTimer);
  urlTimer = setTimeout(flushUrl, delay);
}

const pendingUrl = {};
let urlTimer = null;

/** Write the pending URL parameters now. */
export function flushUrl() {
  if (urlTimer !== null) clearTimeout(urlTimer);
  urlTimer = null;
  const params = Object.entries(pendingUrl);
  if (!params.length) return;
  for (const [k] of params) delete pendingUrl[k];
  try {
    const url = new URL(window.location.href);
    for (const [k, v] of params) {
      if (v === null || v === undefined) url.searchParams.delete(k);
      else url.searchParams.set(k, String(v));
    }
    const next = url.toString();
    if (next !== window.location.href) window.history.replaceState(window.history.state, "", next);
  } catch (e) { /* a sandboxed page may refuse: the view keeps working */ }
}

if (typeof window !== "undefined") {
  // A pending write lands before anything can follow the URL: leaving the page, a click or
  // tap (a link to another page records the URL it leaves), Enter or Space on a control.
  window.addEventListener("pagehide", flushUrl);
  window.addEventListener("pointerdown", flushUrl, true);
  window.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") flushUrl(); },
    true);
}

/** Download an SVG element (self-contained: attributes only, images as data URIs) as PNG. */
export function savePng(svgEl, filename, background, scale = 2) {
  const box = svgEl.viewBox.baseVal;
  const width = Math.round(box.width * scale), height = Math.round(box.height * scale);
  const clone = svgEl.cloneNode(true);
  setAttrs(clone, { width, height, xmlns: SVG_NS });
  clone.querySelectorAll("[data-ui]").forEach((el) => el.remove());  // no UI chrome
  const text = new XMLSerializer().serializeToString(clone);
  const image = new Image();
  image.onload = () => {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(image, 0, 0, width, height);
    canvas.toBlob((blob) => {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = filename;
      document.body.appendChild(a);
      a.click();
      setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }, "image/png");
  };
  image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(text);
}

/** A toolbar button; returns it. */
/** A button's accessible name: its title, led by its visible words when the title lacks
 * them (WCAG 2.5.3, label in name: a voice user says what they see). Symbol-only text
 * (▶, ↑, ❚❚) names nothing, so the title alone names the button. */
export function accessibleName(text, title) {
  const visible = String(text ?? "").trim();
  if (!title) return visible;
  const words = (t) => t.toLowerCase().split(/[\s\p{P}\p{S}]+/u).filter(Boolean);
  const named = new Set(words(title));
  const shown = words(visible);
  if (!shown.length || shown.every((w) => named.has(w))) return title;
  return `${visible}: ${title}`;
}

export function button(parent, text, title, onClick) {
  const b = html("button", "pv-btn", text, parent);
  b.type = "button";
  if (title) { b.title = title; b.setAttribute("aria-label", accessibleName(text, title)); }
  b.addEventListener("click", (e) => { e.stopPropagation(); onClick(e); });
  return b;
}

/** Pointer position in the coordinates of an SVG group (its own user units). */
export function pointIn(group, event) {
  const ctm = group.getScreenCTM();
  if (!ctm) return null;
  const p = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
  return { x: p.x, y: p.y };
}

/** The shell every view shares: a focusable root with a toolbar, an SVG picture with an
 * accessible name (role img), a polite live readout and a status line. */
export function shell(parent, testid, labels) {
  const root = html("div", "pv-view", null, parent);
  setAttrs(root, { "data-testid": testid, tabindex: 0, role: "application" });
  const bar = html("div", "pv-toolbar", null, root);
  const picture = svg("svg", { class: "pv-svg", role: "img" }, root);
  const readout = html("div", "pv-readout", null, root);
  setAttrs(readout, { "aria-live": "polite", "data-role": "readout" });
  const status = html("div", "pv-status", null, root);
  const view = { root, bar, svg: picture, readout, status, memo: new Map(), labelsKey: null };
  relabel(view, labels);
  return view;
}

/** The root's accessible name and description (they follow the language). */
export function relabel(view, labels) {
  setAttrs(view.root, { "aria-roledescription": labels.role, "aria-label": labels.aria });
}

/** The width in CSS px the view's picture is drawn at (what its layout is for). */
export function widthOf(view) {
  return view.svg.clientWidth || view.root.clientWidth || 1000;
}

/** Put a scene into a view: viewBox, items, picture name, readout, data attributes. */
export function show(view, scene) {
  put(view.svg, "viewBox", scene.viewBox);
  put(view.svg, "aria-label", scene.picture);
  const writes = paint(view.svg, scene.items, view.memo);
  put(view.readout, "text", scene.readout);
  for (const [k, v] of Object.entries(scene.data || {})) put(view.root, `data-${k}`, v);
  view.root.classList.toggle("pv-phone", !!scene.phone);
  return writes;
}

/** What a rerun brings: whether the payload (token) or only the labels (language) changed. */
export function changes(view, data) {
  const labelsKey = JSON.stringify(data.labels);
  const out = { payload: view.token !== data.token, labels: view.labelsKey !== labelsKey };
  view.token = data.token;
  view.labelsKey = labelsKey;
  return out;
}
