// pyramidviz browser views: helpers shared by every view (plain JS, no dependencies).
// Each view imports what it needs; pyramidviz.bundle joins the modules into one for the page.
// The views draw what pyramidviz computed (the payload); they never compute a number that
// the page also shows, except positions from formulas the payload carries (see
// pyramidviz/views.py), which the browser tests check against pyramidviz.

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
  return String(template).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
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

/** Write some query parameters into the URL without a rerun (null deletes one). */
export function writeUrl(params) {
  try {
    const url = new URL(window.location.href);
    for (const [k, v] of Object.entries(params)) {
      if (v === null || v === undefined) url.searchParams.delete(k);
      else url.searchParams.set(k, String(v));
    }
    window.history.replaceState(window.history.state, "", url.toString());
  } catch (e) { /* a sandboxed page may refuse: the view keeps working */ }
}

/** Download an SVG element (self-contained: attributes only, images as data URIs) as PNG. */
export function savePng(svgEl, filename, scale = 2) {
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
    ctx.fillStyle = "#ffffff";
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
export function button(parent, text, title, onClick) {
  const b = html("button", "pv-btn", text, parent);
  b.type = "button";
  if (title) { b.title = title; b.setAttribute("aria-label", title); }
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

/** Sequential colour of t in [0, 1] from the payload's colour stops (the server's scale). */
export function colourAt(stops, t) {
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
  const c = stops[i].map((v, k) => Math.round(v * (1 - f) + stops[i + 1][k] * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}
