// ASPP taps view (and the Compare page's linked pair): click, tap, drag, arrow-key or step
// a feature cell on the photo; every branch's k x k taps (off-map taps hollow), each
// branch's field box and the valid-tap counts follow in the browser. Everything is looked
// up in the payload's tables (schema pv.taps/2, pyramidviz/payloads.py: taps_payload).
// Contract (browser tests): [data-testid=pv-aspp-taps] (or pv-compare) tabindex=0,
// data-state JSON {"cell": [row, col] (0-based), "stride": px, "valid", "boxes"}; data-taps
// JSON [{"rate", "x", "y", "on_map"}, ...] of every drawn tap in photo pixels.

import {
  fmt, num, rectOf, nearestIndex, frame, textSize, marker, writeUrl, savePng, button,
  pointIn, shell, relabel, show, changes, html, widthOf, flushUrl,
} from "./common.js";

const SCHEMA = "pv.taps/2";
const views = new WeakMap();  // parentElement -> the view's small state object

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  if (data.payload.schema !== SCHEMA) throw new Error(`taps view needs ${SCHEMA}`);
  let v = views.get(parentElement);
  if (!v) { v = build(parentElement, data); views.set(parentElement, v); }
  v.root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const changed = changes(v, data);
  v.setStateValue = setStateValue;
  if (changed.payload) {
    v.P = data.payload; v.urlKey = data.url_key; v.erf = !!data.erf;
    const [h, w] = v.P.map, s = carried(v, data) || (data.state && data.state.cell)
      || [Math.floor(h / 2), Math.floor(w / 2)];
    v.state = { cell: [clamp(s[0], 0, h - 1), clamp(s[1], 0, w - 1)] };
    v.mapId = data.map;
  }
  if (changed.payload || changed.labels) {
    v.L = data.labels;
    relabel(v, v.L);
    renderToolbar(v);
    draw(v);
  }
  if (data.status !== undefined) v.status.textContent = data.status || "";
}

// The cell this view was moved to, on the new data's map: kept on the same map, looked up
// in the server's carry table after a change of map (ui.carried_cell); null: use the state.
function carried(v, data) {
  if (!v.state || !v.mapId || !data.map) return null;
  if (data.map === v.mapId) return v.state.cell;
  const c = data.carry;
  if (!c || c.from !== v.mapId) return null;
  const [r, col] = v.state.cell;
  return r < c.rows.length && col < c.cols.length ? [c.rows[r], c.cols[col]] : null;
}

export function clamp(x, lo, hi) {
  return Math.min(Math.max(Number.isInteger(x) ? x : lo, lo), hi);
}

function build(parent, data) {
  const v = shell(parent, data.testid, data.labels);
  v.uid = `pv${Math.random().toString(36).slice(2, 8)}`;
  v.root.addEventListener("keydown", (e) => onKey(v, e));
  bindPointer(v);
  new ResizeObserver(() => draw(v)).observe(v.root);
  return v;
}

function renderToolbar(v) {
  const L = v.L;
  v.bar.replaceChildren();
  const g = html("div", "pv-group", null, v.bar);
  html("span", "pv-label", L.hint, g);
  const steps = html("div", "pv-group", null, v.bar);
  for (const [text, label, dr, dc] of [["↑", L.step_up, -1, 0], ["↓", L.step_down, 1, 0],
    ["←", L.step_left, 0, -1], ["→", L.step_right, 0, 1]]) {
    button(steps, text, label, () => {
      const [r, c] = v.state.cell;
      moveTo(v, [r + dr, c + dc]);
    });
  }
  const t = html("div", "pv-group", null, v.bar);
  if (v.erf) {
    button(t, L.erf, L.erf_help, () => { flushUrl(); v.setStateValue("erf_cell", v.state.cell.slice()); });
  }
  button(t, "PNG", L.save, () => savePng(v.svg, `pyramidviz-${v.root.dataset.testid}.png`,
    v.P.style.colours.background));
}

/** The cell a key moves to from `cell` on an h x w map (null: not a key of this view). */
export function keyMove(key, [r, c], [h, w]) {
  const moves = { ArrowUp: [r - 1, c], ArrowDown: [r + 1, c], ArrowLeft: [r, c - 1],
    ArrowRight: [r, c + 1], Home: [r, 0], End: [r, w - 1], PageUp: [0, c], PageDown: [h - 1, c] };
  return moves[key] || null;
}

function onKey(v, e) {
  const next = keyMove(e.key, v.state.cell, v.P.map);
  if (!next) return;
  e.preventDefault();
  moveTo(v, next);
}

function moveTo(v, [r, c]) {
  const [h, w] = v.P.map;
  const cell = [clamp(r, 0, h - 1), clamp(c, 0, w - 1)];
  if (cell[0] === v.state.cell[0] && cell[1] === v.state.cell[1]) return;
  v.state = { ...v.state, cell };
  draw(v);
}

/** The cell nearest a photo pixel: a binary search over the payload's bounds tables. */
export function cellAt(P, x, y) {
  return [nearestIndex(P.bounds.rows, y), nearestIndex(P.bounds.cols, x)];
}

// Mouse and pen: press and drag. Touch: a tap moves the cell, a sideways drag moves it along
// (touch-action: pan-y leaves vertical swipes to the page, which scrolls).
function bindPointer(v) {
  const panelOf = (e) => e.target.closest && e.target.closest("[data-panel]");
  const at = (e, g) => {
    const q = pointIn(g, e);
    if (q) moveTo(v, cellAt(v.P, q.x, q.y));
  };
  v.svg.addEventListener("pointerdown", (e) => {
    const g = panelOf(e);
    if (!g) return;
    v.drag = { g, id: e.pointerId, touch: e.pointerType === "touch" };
    if (!v.drag.touch) {
      g.setPointerCapture?.(e.pointerId);
      at(e, g);
      v.root.focus({ preventScroll: true });
    }
  });
  v.svg.addEventListener("pointermove", (e) => {
    if (v.drag && v.drag.id === e.pointerId) at(e, v.drag.g);
  });
  v.svg.addEventListener("pointerup", (e) => {
    if (v.drag && v.drag.touch && v.drag.id === e.pointerId) at(e, v.drag.g);
    v.drag = null;
  });
  v.svg.addEventListener("pointercancel", () => { v.drag = null; });  // the page scrolled
}

// --------------------------------------------------------------- layout (pure)

/** Every branch's taps at the cell, looked up in the per-axis tables. */
export function branchesAt(P, [r, c]) {
  return P.branches.map((b) => {
    const ys = b.rows.pos[r], xs = b.cols.pos[c], oy = b.rows.on[r], ox = b.cols.on[c];
    const taps = [];
    ys.forEach((y, i) => xs.forEach((x, j) => {
      taps.push({ rate: b.rate, x, y, on_map: oy[i] && ox[j] });
    }));
    const [top, bottom] = b.rows.span[r], [left, right] = b.cols.span[c];
    return { name: b.name, rate: b.rate, taps, total: b.taps, spacing: b.spacing,
      valid: P.count[b.rows.valid[r]][b.cols.valid[c]], box: [top, left, bottom, right] };
  });
}

/** The SPP bin holding the cell (Compare): its number and [stride box, field box]. */
export function sppBinAt(P, [r, c]) {
  const S = P.spp, index = S.index[S.row_bin[r]][S.col_bin[c]];
  return { index, boxes: S.boxes[index] };
}

/** How far the taps reach outside the photo, in photo pixels (the margin drawn around it). */
export function reach(P) {
  if (reached.has(P)) return reached.get(P);
  let m = 0;
  for (const b of P.branches) {
    for (const [table, side] of [[b.rows.pos, P.photo.H], [b.cols.pos, P.photo.W]]) {
      for (const line of table) m = Math.max(m, -line[0], line[line.length - 1] - side);
    }
  }
  reached.set(P, m);
  return m;
}

const reached = new WeakMap();  // payload -> its reach (a payload never changes)

/** Panel placement in viewBox units for a container `width` CSS px wide. */
export function panels(P, width) {
  const S = P.style, { phone, vbw, fs } = frame(S, width);
  const H = P.photo.H, W = P.photo.W, count = P.spp ? 2 : 1;
  const m = Math.min(reach(P), 0.22 * Math.max(H, W));  // room for off-map taps
  const stacked = phone && count === 2;  // phones: one panel per row
  const font = textSize(S, fs, vbw, width), small = textSize(S, fs * 0.9, vbw, width);
  const gap = 24, top = font * 1.8;
  const cols = stacked ? 1 : count;
  const pw = (vbw - gap * (cols - 1)) / cols;
  const s = Math.min(pw / (W + 2 * m), (phone ? 380 : 470) / (H + 2 * m));
  const ph = (H + 2 * m) * s;
  const boxes = [];
  for (let i = 0; i < count; i++) {
    const col = stacked ? 0 : i, row = stacked ? i : 0;
    boxes.push({ x: col * (pw + gap) + (pw - (W + 2 * m) * s) / 2 + m * s,
      y: top + row * (ph + top + 10) + m * s, s, m: P.spp && i === 0 ? 0 : m });
  }
  const rows = stacked ? count : 1;
  return { phone, vbw, font, small, m, s, boxes, ph, top: top + rows * (ph + top + 10) };
}

/** The legend's items, wrapped into rows `room` units wide. */
function legend(P, L, branches, font, room, y0) {
  const C = P.style.colours, items = [];
  let x = 0, y = 0;
  const place = (w) => {
    if (x > 0 && x + w > room) { x = 0; y += font * 1.5; }
    const at = [x, y];
    x += w;
    return at;
  };
  branches.forEach((b, i) => {
    const [colour, shape] = C.branches[i % C.branches.length];
    const label = fmt(b.rate === null ? L.legend_1x1 : L.legend_rate,
      { r: b.rate, valid: b.valid, total: b.total });
    const [lx, ly] = place(font + label.length * font * 0.55 + font);
    items.push(marker(`lm${i}`, shape, lx + font * 0.4, ly - font * 0.3, font * 0.33,
      { fill: colour, stroke: colour }));
    items.push({ key: `lt${i}`, tag: "text", text: label,
      attrs: { x: lx + font, y: ly, "font-size": font, fill: C.ink } });
  });
  if (P.spp) {
    const label = fmt(L.legend_bin, { n: P.spp.level });
    const [lx, ly] = place(font * 1.3 + label.length * font * 0.55);
    items.push({ key: "lbin", tag: "rect", attrs: { x: lx, y: ly - font * 0.7, width: font,
      height: font * 0.7, fill: "none", stroke: C.bin, "stroke-width": 3 } });
    items.push({ key: "lbint", tag: "text", text: label,
      attrs: { x: lx + font * 1.3, y: ly, "font-size": font, fill: C.ink } });
  }
  return { items, height: y + font * 1.5, y0 };
}

/** The whole scene for `state` (the cell) at a container `width` px wide: pure. */
export function layout(P, state, ctx) {
  const L = ctx.labels, C = P.style.colours, geo = panels(P, ctx.width);
  const cell = state.cell, branches = branchesAt(P, cell);
  const cy = P.centres.rows[cell[0]], cx = P.centres.cols[cell[1]];
  const bin = P.spp ? sppBinAt(P, cell) : null;
  const uid = ctx.uid || "pv";
  const items = [], defs = [];
  geo.boxes.forEach((p, i) => {
    const m = p.m, W = P.photo.W, H = P.photo.H;
    defs.push({ key: `clip${i}`, tag: "clipPath", attrs: { id: `${uid}-clip-${i}` },
      children: [{ key: "r", tag: "rect", attrs: { x: -m, y: -m, width: W + 2 * m, height: H + 2 * m } }] });
    items.push({ key: `title${i}`, tag: "text", attrs: { x: p.x - m * p.s,
      y: p.y - geo.m * p.s - geo.font * 0.5, "font-size": geo.font, fill: C.ink },
      text: P.spp ? (i === 0 ? fmt(L.title_spp, { n: P.spp.level }) : L.title_aspp) : L.title });
    const kids = [
      { key: "margin", tag: "rect", attrs: { x: -m, y: -m, width: W + 2 * m, height: H + 2 * m, fill: C.margin } },
      { key: "photo", tag: "image", attrs: { x: 0, y: 0, width: W, height: H, href: P.photo.src,
        preserveAspectRatio: "none" } },
    ];
    const dot = { key: "cell", tag: "circle", attrs: { cx, cy, r: 4 / p.s, fill: C.background,
      stroke: C.ink, "stroke-width": 2, "vector-effect": "non-scaling-stroke", "data-role": "cell" } };
    if (P.spp && i === 0) {
      kids.push({ key: "bins", tag: "path", attrs: { d: P.spp.boxes.map(([b]) =>
        `M${b[1]},${b[0]}H${b[3]}V${b[2]}H${b[1]}Z`).join(""), fill: "none", stroke: C.grid,
      "stroke-width": 1, "vector-effect": "non-scaling-stroke" } });
      kids.push({ key: "sppfield", tag: "rect", attrs: { ...rectOf(bin.boxes[1]), fill: "none",
        stroke: C.field, "stroke-width": 3, "stroke-dasharray": "8 5",
        "vector-effect": "non-scaling-stroke", "data-role": "spp-field" } });
      kids.push({ key: "sppbin", tag: "rect", attrs: { ...rectOf(bin.boxes[0]), fill: C.bin,
        "fill-opacity": 0.25, stroke: C.bin, "stroke-width": 4,
        "vector-effect": "non-scaling-stroke", "data-role": "spp-bin" } });
    } else {
      branches.forEach((b, k) => {
        const [colour] = C.branches[k % C.branches.length];
        kids.push({ key: `field${k}`, tag: "rect", attrs: { ...rectOf(b.box), fill: "none",
          stroke: colour, "stroke-width": 2.5, "stroke-dasharray": k ? `${4 + 2 * k} 4` : null,
          "vector-effect": "non-scaling-stroke", "data-role": "field", "data-branch": b.name } });
      });
      for (let k = branches.length - 1; k >= 0; k--) {  // the 1x1 on top
        const b = branches[k], [colour, shape] = C.branches[k % C.branches.length];
        const r = (k === 0 ? 1.4 : 1) * 6 / p.s;
        b.taps.forEach((t, j) => kids.push(marker(`tap${k}_${j}`, shape, t.x, t.y, r, t.on_map
          ? { fill: colour, stroke: C.background, "stroke-width": 1.2, "vector-effect": "non-scaling-stroke" }
          : { fill: "none", stroke: colour, "stroke-width": 2, "vector-effect": "non-scaling-stroke" })));
      }
    }
    kids.push(dot);
    items.push({ key: `panel${i}`, tag: "g", children: kids, attrs: {
      transform: `translate(${p.x},${p.y}) scale(${p.s})`, "clip-path": `url(#${uid}-clip-${i})`,
      "data-panel": i, cursor: "crosshair" } });
  });
  const lg = legend(P, L, branches, geo.small, geo.vbw - 16, geo.top);
  items.push({ key: "legend", tag: "g", attrs: { transform: `translate(8,${geo.top + geo.font})` },
    children: lg.items });
  const vbh = geo.top + geo.font + lg.height;
  items.unshift({ key: "defs", tag: "defs", children: defs });
  items.unshift({ key: "bg", tag: "rect", attrs: { x: 0, y: 0, width: geo.vbw, height: vbh, fill: C.background } });
  const parts = branches.filter((b) => b.rate !== null).map((b) =>
    fmt(L.branch_line, { r: b.rate, px: b.spacing, valid: b.valid, total: b.total }));
  // people count rows and columns from 1 (the state and the URL keep 0-based indices)
  const readout = fmt(L.readout, { row: cell[0] + 1, col: cell[1] + 1, h: P.map[0], w: P.map[1],
    x: num(cx), y: num(cy), stride: P.stride }) + (parts.length ? " " + parts.join(" · ") : "");
  const dataState = { cell: cell.slice(), stride: P.stride, valid: branches.map((b) => b.valid),
    boxes: branches.map((b) => b.box) };
  if (bin) { dataState.spp_bin = bin.index; dataState.spp_boxes = bin.boxes; }
  return {
    viewBox: `0 0 ${geo.vbw} ${+vbh.toFixed(2)}`, phone: geo.phone, items, readout,
    picture: P.spp ? `${fmt(L.title_spp, { n: P.spp.level })}; ${L.title_aspp}` : L.title,
    data: { state: JSON.stringify(dataState), taps: JSON.stringify(branches.flatMap((b) => b.taps)) },
  };
}

// --------------------------------------------------------------- draw (thin)

function draw(v) {
  if (!v.P) return;
  const scene = layout(v.P, v.state, { labels: v.L, width: widthOf(v), uid: v.uid });
  show(v, scene);
  if (v.urlKey) writeUrl({ [v.urlKey]: `${v.state.cell[0]},${v.state.cell[1]}` });
}
