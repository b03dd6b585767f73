// ASPP taps view (and the Compare page's linked pair): click, drag or arrow-key a feature
// cell on the photo; every branch's k x k taps (off-map taps hollow), each branch's field
// box and the valid-tap counts follow in the browser. Positions come from the formulas the
// payload carries (pyramidviz/views.py): centre(u) = u*stride - padding + (size-1)/2, tap i of
// rate r at cell u + (i - (k-1)/2)*r, a block of cells [u0, u1) sees
// [u0*stride - padding, (u1-1)*stride - padding + size) clipped to the photo.
// Contract (browser tests): [data-testid=pv-aspp-taps] (or pv-compare) tabindex=0,
// data-state JSON {"cell": [row, col], "stride": px}; data-taps JSON
// [{"rate", "x", "y", "on_map"}, ...] of every drawn tap in photo pixels.

import {
  svg, setAttrs, html, fmt, num, rectOf, writeUrl, savePng, button, pointIn,
} from "./common.js";

// Okabe-Ito colours and one marker shape per branch (colour-blind safe).
const BRANCH = [["#0072b2", "circle"], ["#d55e00", "square"], ["#009e73", "diamond"],
  ["#882255", "triangle-up"], ["#56b4e9", "asterisk"], ["#f0e442", "triangle-down"], ["#000000", "cross"]];
// (a fallback only: the payload's "colours" come from pyramidviz.palette)
const INK = "#222", SPP_BIN = "#f0e442";

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  let root = parentElement.querySelector(".pv-view");
  if (!root) root = build(parentElement, data);
  root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const v = root.__pv;
  if (v.token !== data.token) {
    v.token = data.token;
    v.P = data.payload; v.L = data.labels; v.urlKey = data.url_key; v.erf = !!data.erf;
    v.setStateValue = setStateValue;
    const [h, w] = v.P.map, s = carried(v, data) || (data.state && data.state.cell)
      || [Math.floor(h / 2), Math.floor(w / 2)];
    v.cell = [clamp(s[0], 0, h - 1), clamp(s[1], 0, w - 1)];
    v.mapId = data.map;
    v.layoutKey = null;
    renderToolbar(v);
    draw(v);
  }
  if (data.status !== undefined) v.status.textContent = data.status || "";
}

// The cell this view was moved to, on the new data's map: kept on the same map, looked up
// in the server's carry table after a change of map (ui.carried_cell); null: use the state.
function carried(v, data) {
  if (!v.cell || !v.mapId || !data.map) return null;
  if (data.map === v.mapId) return v.cell;
  const c = data.carry;
  if (!c || c.from !== v.mapId) return null;
  const [r, col] = v.cell;
  return r < c.rows.length && col < c.cols.length ? [c.rows[r], c.cols[col]] : null;
}

function clamp(x, lo, hi) { return Math.min(Math.max(Number.isInteger(x) ? x : lo, lo), hi); }

function build(parent, data) {
  const root = html("div", "pv-view", null, parent);
  setAttrs(root, { "data-testid": data.testid, tabindex: 0, role: "application",
    "aria-roledescription": data.labels.role, "aria-label": data.labels.aria });
  const bar = html("div", "pv-toolbar", null, root);
  const svgEl = svg("svg", { class: "pv-svg", role: "img" }, root);
  const readout = html("div", "pv-readout", null, root);
  readout.setAttribute("aria-live", "polite");
  const status = html("div", "pv-status", null, root);
  const v = { root, bar, svg: svgEl, readout, status };
  root.__pv = v;
  root.addEventListener("keydown", (e) => onKey(v, e));
  new ResizeObserver(() => draw(v)).observe(root);
  return root;
}

function renderToolbar(v) {
  v.bar.replaceChildren();
  const g = html("div", "pv-group", null, v.bar);
  html("span", "pv-label", v.L.hint, g);
  const t = html("div", "pv-group", null, v.bar);
  if (v.erf) button(t, v.L.erf, v.L.erf_help, () => v.setStateValue("erf_cell", v.cell.slice()));
  button(t, "PNG", v.L.save, () => savePng(v.svg, `pyramidviz-${v.root.dataset.testid}.png`));
}

function onKey(v, e) {
  const [h, w] = v.P.map, [r, c] = v.cell;
  const moves = { ArrowUp: [r - 1, c], ArrowDown: [r + 1, c], ArrowLeft: [r, c - 1],
    ArrowRight: [r, c + 1], Home: [r, 0], End: [r, w - 1], PageUp: [0, c], PageDown: [h - 1, c] };
  if (!moves[e.key]) return;
  e.preventDefault();
  moveTo(v, moves[e.key]);
}

function moveTo(v, [r, c]) {
  const [h, w] = v.P.map;
  const cell = [clamp(r, 0, h - 1), clamp(c, 0, w - 1)];
  if (cell[0] === v.cell[0] && cell[1] === v.cell[1]) return;
  v.cell = cell;
  draw(v);
}

// --------------------------------------------------------------- geometry (payload formulas)

function centre(F, axis, u) { return u * F.stride[axis] - F.padding[axis] + (F.size[axis] - 1) / 2; }

/** The pixel box [top, left, bottom, right] seen by the cells [r0, r1) x [c0, c1), clipped. */
function blockBox(P, r0, r1, c0, c1) {
  const F = P.field, H = P.photo.H, W = P.photo.W;
  if (F.global) return [0, 0, H, W];
  const span = (a0, a1, ax) => [a0 * F.stride[ax] - F.padding[ax], (a1 - 1) * F.stride[ax] - F.padding[ax] + F.size[ax]];
  const [t, b] = span(r0, r1, 0), [l, rr] = span(c0, c1, 1);
  const top = Math.min(Math.max(t, 0), H), left = Math.min(Math.max(l, 0), W);
  return [top, left, Math.max(top, Math.min(b, H)), Math.max(left, Math.min(rr, W))];
}

/** Every branch's taps at the cell: cells, pixels, on-map flags, field box, valid count. */
function branchTaps(P, [r, c]) {
  const [h, w] = P.map;
  return P.branches.map((br) => {
    const k = br.rate === null ? 1 : P.kernel, rate = br.rate === null ? 1 : br.rate;
    const half = (k - 1) / 2, taps = [];
    let r0 = Infinity, r1 = -Infinity, c0 = Infinity, c1 = -Infinity;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const u = r + (i - half) * rate, q = c + (j - half) * rate;
      const on = u >= 0 && u < h && q >= 0 && q < w;
      if (on) { r0 = Math.min(r0, u); r1 = Math.max(r1, u + 1); c0 = Math.min(c0, q); c1 = Math.max(c1, q + 1); }
      taps.push({ rate: br.rate, x: centre(P.field, 1, q), y: centre(P.field, 0, u), on_map: on });
    }
    return { name: br.name, rate: br.rate, k, taps, valid: taps.filter((t) => t.on_map).length,
      box: blockBox(P, r0, r1, c0, c1) };
  });
}

function sppBin(P, [r, c]) {
  const S = P.spp, n = S.level, i = S.row_bin[r], j = S.col_bin[c];
  return { i, j, index: i * n + j, boxes: S.boxes[i * n + j] };
}

// --------------------------------------------------------------- drawing

function layout(P, width) {
  const H = P.photo.H, W = P.photo.W, panels = P.spp ? 2 : 1;
  const reach = Math.max(0, ...P.branches.map((b) => (b.rate ? b.rate * (P.kernel - 1) / 2 : 0) * P.stride));
  const m = Math.min(reach, 0.22 * Math.max(H, W));  // room for off-map taps around the photo
  const phone = width < 620, narrow = phone && panels === 2;  // phones: one panel per row
  const vbw = phone ? 600 : 1000, gap = 24, top = 26, legend = phone ? 84 : 24;
  const cols = narrow ? 1 : panels;
  const pw = (vbw - gap * (cols - 1)) / cols, s = Math.min(pw / (W + 2 * m), (phone ? 380 : 470) / (H + 2 * m));
  const ph = (H + 2 * m) * s;
  const boxes = [];
  for (let i = 0; i < panels; i++) {
    const col = narrow ? 0 : i, row = narrow ? i : 0;
    boxes.push({ x: col * (pw + gap) + (pw - (W + 2 * m) * s) / 2 + m * s, y: top + row * (ph + top + 10) + m * s, s });
  }
  const rows = narrow ? panels : 1;
  return { vbw, vbh: top + rows * (ph + top + 10) + legend, m, s, panels: boxes, ph,
    fs: width < 620 ? 22 : 15 };
}

function marker(shape, x, y, size, attrs, parent) {
  const r = size;
  if (shape === "square") return svg("rect", { x: x - r * 0.85, y: y - r * 0.85, width: r * 1.7, height: r * 1.7, ...attrs }, parent);
  if (shape === "diamond") return svg("path", { d: `M${x},${y - r * 1.2}L${x + r * 1.2},${y}L${x},${y + r * 1.2}L${x - r * 1.2},${y}Z`, ...attrs }, parent);
  if (shape === "triangle-down") return svg("path", { d: `M${x},${y + r * 1.2}L${x + r * 1.1},${y - r * 0.8}L${x - r * 1.1},${y - r * 0.8}Z`, ...attrs }, parent);
  if (shape === "cross") return svg("path", { d: `M${x - r * 0.4},${y - r * 1.2}h${r * 0.8}v${r * 0.8}h${r * 0.8}v${r * 0.8}h${-r * 0.8}v${r * 0.8}h${-r * 0.8}v${-r * 0.8}h${-r * 0.8}v${-r * 0.8}h${r * 0.8}Z`, ...attrs }, parent);
  if (shape === "triangle-up") return svg("path", { d: `M${x},${y - r * 1.2}L${x + r * 1.1},${y + r * 0.8}L${x - r * 1.1},${y + r * 0.8}Z`, ...attrs }, parent);
  if (shape === "asterisk") return svg("path", { d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}M${x - r * 1.3},${y}H${x + r * 1.3}`, ...attrs, stroke: attrs.fill && attrs.fill !== "none" ? attrs.fill : attrs.stroke, "stroke-width": 3 }, parent);
  return svg("circle", { cx: x, cy: y, r, ...attrs }, parent);
}

function draw(v) {
  if (!v.P) return;
  const { P, L } = v;
  const width = v.root.clientWidth || 1000;
  const key = `${width < 620}`;
  if (v.layoutKey !== key) { v.layoutKey = key; v.geo = layout(P, width); buildScene(v); }
  const geo = v.geo, s = geo.s, cell = v.cell, branches = branchTaps(P, cell);
  const BR = (P.colours && P.colours.branches) || BRANCH;
  const SPP = P.colours || { bin: SPP_BIN, field: "#e69f00" };
  const [cy, cx] = [centre(P.field, 0, cell[0]), centre(P.field, 1, cell[1])];
  v.scene.overlays.forEach((g, panel) => {
    g.replaceChildren();
    const kind = P.spp && panel === 0 ? "spp" : "aspp";
    if (kind === "spp") {
      const bin = sppBin(P, cell);
      svg("rect", { ...rectOf(bin.boxes[1]), fill: "none", stroke: SPP.field, "stroke-width": 3,
        "stroke-dasharray": "8 5", "vector-effect": "non-scaling-stroke", "data-role": "spp-field" }, g);
      svg("rect", { ...rectOf(bin.boxes[0]), fill: "rgba(240,228,66,0.25)", stroke: SPP.bin, "stroke-width": 4,
        "vector-effect": "non-scaling-stroke", "data-role": "spp-bin" }, g);
    } else {
      branches.forEach((b, i) => {
        const [colour] = BR[i % BR.length];
        svg("rect", { ...rectOf(b.box), fill: "none", stroke: colour, "stroke-width": 2.5,
          "stroke-dasharray": i ? `${4 + 2 * i} 4` : null, "vector-effect": "non-scaling-stroke",
          "data-role": "field", "data-branch": b.name }, g);
      });
      branches.slice().reverse().forEach((b, ri) => {
        const i = branches.length - 1 - ri, [colour, shape] = BR[i % BR.length];
        b.taps.forEach((t) => marker(shape, t.x, t.y, (i === 0 ? 1.4 : 1) * 6 / s, t.on_map
          ? { fill: colour, stroke: "#fff", "stroke-width": 1.2, "vector-effect": "non-scaling-stroke" }
          : { fill: "none", stroke: colour, "stroke-width": 2, "vector-effect": "non-scaling-stroke" }, g));
      });
    }
    svg("circle", { cx, cy, r: 4 / s, fill: "#fff", stroke: INK, "stroke-width": 2,
      "vector-effect": "non-scaling-stroke", "data-role": "cell" }, g);
  });
  // legend and readout: valid taps of each branch
  const lg = v.scene.legend;
  lg.replaceChildren();
  let x = 0, y = 0;
  const fs = v.geo.fs * 0.87, room = v.geo.vbw - 16;
  const place = (width) => {  // legend items wrap onto a second row on narrow screens
    if (x > 0 && x + width > room) { x = 0; y += fs * 1.5; }
    const at = [x, y];
    x += width;
    return at;
  };
  branches.forEach((b, i) => {
    const [colour, shape] = BR[i % BR.length];
    const label = fmt(b.rate === null ? L.legend_1x1 : L.legend_rate, { r: b.rate, valid: b.valid, total: b.k * b.k });
    const [lx, ly] = place(16 + label.length * fs * 0.55 + 18);
    marker(shape, lx + 6, ly - 4, 5, { fill: colour, stroke: colour }, lg);
    svg("text", { x: lx + 16, y: ly, "font-size": fs, fill: INK }, lg).textContent = label;
  });
  if (P.spp) {
    const label = fmt(L.legend_bin, { n: P.spp.level });
    const [lx, ly] = place(20 + label.length * fs * 0.55);
    svg("rect", { x: lx, y: ly - 10, width: 14, height: 10, fill: "rgba(240,228,66,0.4)", stroke: SPP.bin, "stroke-width": 3 }, lg);
    svg("text", { x: lx + 20, y: ly, "font-size": fs, fill: INK }, lg).textContent = label;
  }
  const parts = branches.filter((b) => b.rate !== null).map((b) =>
    fmt(L.branch_line, { r: b.rate, px: b.rate * P.stride, valid: b.valid, total: b.k * b.k }));
  v.readout.textContent = fmt(L.readout, { row: cell[0], col: cell[1], h: P.map[0], w: P.map[1],
    x: num(cx), y: num(cy), stride: P.stride }) + " " + parts.join(" · ");
  const taps = branches.flatMap((b) => b.taps);
  v.root.setAttribute("data-taps", JSON.stringify(taps));
  const state = { cell: cell.slice(), stride: P.stride, valid: branches.map((b) => b.valid),
    boxes: branches.map((b) => b.box) };
  if (P.spp) { const bin = sppBin(P, cell); state.spp_bin = bin.index; state.spp_boxes = bin.boxes; }
  v.root.setAttribute("data-state", JSON.stringify(state));
  if (v.urlKey) writeUrl({ [v.urlKey]: `${cell[0]},${cell[1]}` });
}

function buildScene(v) {
  const { P, L, geo } = v, s = v.svg;
  s.replaceChildren();
  setAttrs(s, { viewBox: `0 0 ${geo.vbw} ${geo.vbh}`, "font-family": "Noto Sans, Noto Sans CJK KR, sans-serif" });
  svg("rect", { x: 0, y: 0, width: geo.vbw, height: geo.vbh, fill: "#ffffff" }, s);
  const defs = svg("defs", {}, s);
  v.scene = { overlays: [], groups: [] };
  geo.panels.forEach((p, i) => {
    const m = P.spp && i === 0 ? 0 : geo.m;  // SPP's bins never leave the photo
    const clip = svg("clipPath", { id: `pv-clip-${i}` }, defs);
    svg("rect", { x: -m, y: -m, width: P.photo.W + 2 * m, height: P.photo.H + 2 * m }, clip);
    const title = svg("text", { x: p.x - m * p.s, y: p.y - geo.m * p.s - 8, "font-size": geo.fs, fill: INK }, s);
    title.textContent = P.spp ? (i === 0 ? fmt(L.title_spp, { n: P.spp.level }) : L.title_aspp) : L.title;
    const g = svg("g", { transform: `translate(${p.x},${p.y}) scale(${p.s})`, "clip-path": `url(#pv-clip-${i})` }, s);
    svg("rect", { x: -m, y: -m, width: P.photo.W + 2 * m, height: P.photo.H + 2 * m, fill: "#eeeeee" }, g);
    svg("image", { x: 0, y: 0, width: P.photo.W, height: P.photo.H, href: P.photo.src, preserveAspectRatio: "none" }, g);
    if (P.spp && i === 0) {
      const path = P.spp.boxes.map(([b]) => `M${b[1]},${b[0]}H${b[3]}V${b[2]}H${b[1]}Z`).join("");
      svg("path", { d: path, fill: "none", stroke: "rgba(255,255,255,0.85)", "stroke-width": 1, "vector-effect": "non-scaling-stroke" }, g);
    }
    v.scene.overlays.push(svg("g", {}, g));
    v.scene.groups.push(g);
    g.style.cursor = "crosshair";
    const at = (e) => {
      const q = pointIn(g, e);
      if (!q) return;
      const F = P.field;
      moveTo(v, [Math.round((q.y + F.padding[0] - (F.size[0] - 1) / 2) / F.stride[0]),
                 Math.round((q.x + F.padding[1] - (F.size[1] - 1) / 2) / F.stride[1])]);
    };
    g.addEventListener("pointerdown", (e) => { v.dragging = true; g.setPointerCapture?.(e.pointerId); at(e); v.root.focus({ preventScroll: true }); });
    g.addEventListener("pointermove", (e) => { if (v.dragging) at(e); });
    g.addEventListener("pointerup", () => { v.dragging = false; });
    g.addEventListener("pointercancel", () => { v.dragging = false; });
  });
  v.scene.legend = svg("g", { transform: `translate(8,${geo.vbh - (geo.vbw > 0 && geo.fs > 15 ? 66 : 8)})` }, s);
}
