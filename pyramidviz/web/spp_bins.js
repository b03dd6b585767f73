// SPP bins view: one level's bins over the feature map, where the current bin looks on the
// photo, its pooled value, the pyramid of every level and the SPP vector with that bin's C
// entries lit. Level, bin and channel view change here, in the browser; only a channel
// outside the shipped views asks the server (setStateValue "channel").
// Contract (browser tests): [data-testid=pv-spp-bins] tabindex=0, data-state JSON
// {"level": n, "bin": b (0-based), "view": name}; ArrowRight / ArrowLeft step the bin.

import {
  svg, setAttrs, html, fmt, num, rectOf, writeUrl, savePng, button, pointIn, colourAt,
} from "./common.js";

// Fallback only: the payload's "colours" (pyramidviz.palette) replace these on mount.
const COLORS = { current: "#d55e00", winner: "#f0e442", stride: "#009e73", field: "#e69f00",
  grid: "rgba(255,255,255,0.85)", text: "#222" };

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const P = data.payload, L = data.labels;
  if (P.colours) Object.assign(COLORS, { current: P.colours.current, winner: P.colours.winner,
    stride: P.colours.stride, field: P.colours.field });
  let root = parentElement.querySelector("[data-testid=pv-spp-bins]");
  if (!root) root = build(parentElement, L);
  root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const v = root.__pv;
  // A rerun with the same payload keeps what the student was looking at.
  if (v.token !== data.token) {
    v.token = data.token;
    v.P = P; v.L = L; v.present = !!data.present;
    const s = data.state || {};
    v.level = P.levels.includes(s.level) ? s.level : P.levels[0];
    v.bin = clampBin(P, v.level, s.bin || 0);
    v.view = Math.max(0, P.views.findIndex((x) => x.name === s.view));
    v.setStateValue = setStateValue;
    v.layoutKey = null;
    renderToolbar(v);
    draw(v);
  }
  return () => { if (v.timer) clearInterval(v.timer); v.timer = null; };
}

function clampBin(P, level, bin) {
  const count = level * level;
  return Math.min(Math.max(Number.isInteger(bin) ? bin : 0, 0), count - 1);
}

function build(parent, L) {
  const root = html("div", "pv-view", null, parent);
  setAttrs(root, { "data-testid": "pv-spp-bins", tabindex: 0, role: "application",
    "aria-roledescription": L.role, "aria-label": L.aria });
  const bar = html("div", "pv-toolbar", null, root);
  const levels = html("div", "pv-group", null, bar);
  const views = html("div", "pv-group", null, bar);
  const steps = html("div", "pv-group", null, bar);
  const svgEl = svg("svg", { class: "pv-svg", role: "img" }, root);
  const readout = html("div", "pv-readout", null, root);
  readout.setAttribute("aria-live", "polite");
  const v = { root, bar, levels, views, steps, svg: svgEl, readout, timer: null, pinned: false };
  root.__pv = v;
  root.addEventListener("keydown", (e) => onKey(v, e));
  new ResizeObserver(() => draw(v)).observe(root);
  return root;
}

function renderToolbar(v) {
  const { P, L } = v;
  v.levels.replaceChildren(html("span", "pv-label", L.level));
  v.levelButtons = P.levels.map((n) => button(v.levels, `${n}×${n}`, fmt(L.level_n, { n }),
    () => { v.level = n; v.bin = clampBin(P, n, v.bin); draw(v); }));
  v.views.replaceChildren(html("span", "pv-label", L.view));
  v.viewButtons = P.views.map((x, i) => button(v.views, L.views[x.name] || `#${x.name}`,
    L.views_help[x.name] || fmt(L.channel_n, { c: x.name }), () => { v.view = i; draw(v); }));
  const other = html("input", "pv-input", null, v.views);
  setAttrs(other, { type: "number", min: 0, max: P.channels - 1, step: 1,
    placeholder: L.other, title: fmt(L.other_help, { max: P.channels - 1 }),
    "aria-label": fmt(L.other_help, { max: P.channels - 1 }) });
  other.addEventListener("keydown", (e) => e.stopPropagation());
  other.addEventListener("change", () => {
    const c = Number(other.value);
    if (!Number.isInteger(c) || c < 0 || c >= P.channels) { other.value = ""; return; }
    const i = P.views.findIndex((x) => x.name === String(c));
    if (i >= 0) { v.view = i; draw(v); } else v.setStateValue("channel", String(c));
  });
  v.steps.replaceChildren();
  button(v.steps, "◀", L.prev, () => step(v, -1));
  v.playButton = button(v.steps, "▶", L.play, () => togglePlay(v));
  button(v.steps, "▶|", L.next, () => step(v, 1));
  button(v.steps, "PNG", L.save, () => savePng(v.svg, "pyramidviz-spp-bins.png"));
}

function step(v, delta) {
  const count = v.level * v.level;
  v.bin = (v.bin + delta + count) % count;
  draw(v);
}

function togglePlay(v) {
  if (v.timer) { clearInterval(v.timer); v.timer = null; }
  else v.timer = setInterval(() => step(v, 1), 700);
  v.playButton.textContent = v.timer ? "❚❚" : "▶";
  v.playButton.title = v.timer ? v.L.pause : v.L.play;
  v.playButton.setAttribute("aria-label", v.playButton.title);
}

function onKey(v, e) {
  const count = v.level * v.level, levels = v.P.levels;
  const li = levels.indexOf(v.level);
  const keys = {
    ArrowRight: () => step(v, 1), ArrowLeft: () => step(v, -1),
    ArrowDown: () => step(v, v.level), ArrowUp: () => step(v, -v.level),
    Home: () => { v.bin = 0; draw(v); }, End: () => { v.bin = count - 1; draw(v); },
    PageDown: () => { v.level = levels[(li + 1) % levels.length]; v.bin = clampBin(v.P, v.level, v.bin); draw(v); },
    PageUp: () => { v.level = levels[(li - 1 + levels.length) % levels.length]; v.bin = clampBin(v.P, v.level, v.bin); draw(v); },
    " ": () => togglePlay(v),
  };
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
}

/** ``text`` broken between words into at most ``most`` lines of about ``width`` characters
 * (the last line takes the rest): a phone's narrow view wraps its long titles. */
function wrap(text, width, most) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && (line + " " + word).length > width && lines.length < most - 1) {
      lines.push(line); line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** Panel positions in viewBox units for the container's width (side by side or stacked). */
function layout(P, width) {
  const [h, w] = P.map, H = P.photo.H, W = P.photo.W;
  const narrow = width < 620, pad = 8, gap = 18, vbw = narrow ? 600 : 1000;
  let map, photo, y;
  if (narrow) {
    const mw = vbw - 2 * pad, mh = Math.min(mw * h / w, 420), ms = mh / h;
    map = { x: pad + (mw - w * ms) / 2, y: 26, s: ms, width: w * ms, height: mh };
    const ph = Math.min((vbw - 2 * pad) * H / W, 420), ps = ph / H;
    photo = { x: pad + (vbw - 2 * pad - W * ps) / 2, y: map.y + mh + 34, s: ps, width: W * ps, height: ph };
    y = photo.y + ph;
  } else {
    const hp = Math.min((vbw - 2 * pad - gap) / (w / h + W / H), 440);
    map = { x: pad, y: 26, s: hp / h, width: hp * w / h, height: hp };
    photo = { x: pad + map.width + gap, y: 26, s: hp / H, width: hp * W / H, height: hp };
    y = 26 + hp;
  }
  const fs = narrow ? 22 : 15;  // type stays readable when a phone scales the view down
  // the legend sits under the photo; the pyramid's level labels start a line below it
  const pyramid = { x: pad, y: y + 36 + fs, width: vbw - 2 * pad, height: narrow ? 80 : 86 };
  const strip = { x: pad, y: pyramid.y + pyramid.height + 40 + (narrow ? 2 * fs * 1.35 : 0),
    width: vbw - 2 * pad, height: 34 };
  return { narrow, vbw, vbh: strip.y + strip.height + 30, map, photo, pyramid, strip, fs };
}

function draw(v) {
  if (!v.P) return;
  const { P, L } = v;
  const width = v.root.clientWidth || 1000;
  const key = `${width < 620}`;
  if (v.layoutKey !== key) { v.layoutKey = key; v.geo = layout(P, width); buildScene(v); }
  const view = P.views[v.view], n = v.level, b = v.bin;
  const bins = view.bins[String(n)], [value, wr, wc] = bins[b];
  const edges = P.edges[String(n)], row = Math.floor(b / n), col = b % n;
  const [r0, r1] = edges.rows[row], [c0, c1] = edges.cols[col];
  const [strideBox, fieldBox] = P.boxes[String(n)][b];
  const S = v.scene;
  // map: the view's image, every bin of the level, the current one, its winner
  S.mapImage.setAttribute("href", view.png);
  S.mapBins.setAttribute("d", edges.rows.flatMap(([a0, a1]) => edges.cols.map(([b0, b1]) =>
    `M${b0 + 0.06},${a0 + 0.06}H${b1 - 0.06}V${a1 - 0.06}H${b0 + 0.06}Z`)).join(""));
  setAttrs(S.current, { x: c0, y: r0, width: c1 - c0, height: r1 - r0 });
  setAttrs(S.winner, wr === null ? { visibility: "hidden" } :
    { visibility: "visible", cx: wc + 0.5, cy: wr + 0.5 });
  // photo: the level's bins at their stride, the current stride box and receptive field
  S.photoBins.setAttribute("d", P.boxes[String(n)].map(([s]) =>
    `M${s[1]},${s[0]}H${s[3]}V${s[2]}H${s[1]}Z`).join(""));
  setAttrs(S.strideBox, rectOf(strideBox));
  setAttrs(S.fieldBox, rectOf(fieldBox));
  drawPyramid(v, view);
  drawStrip(v, n, b);
  // toolbar, readout, state
  v.levelButtons.forEach((x, i) => x.setAttribute("aria-pressed", P.levels[i] === n));
  v.viewButtons.forEach((x, i) => x.setAttribute("aria-pressed", i === v.view));
  const winner = wr === null ? L.no_winner : fmt(L.winner, { r: wr, c: wc });
  v.readout.textContent = fmt(L.readout, { k: b + 1, count: n * n, row, col, r0, r1, c0, c1,
    mode: L[`mode_${P.mode}`] || P.mode, value: num(value), winner,
    stride: fmt(L.box, { x0: strideBox[1], x1: strideBox[3], y0: strideBox[0], y1: strideBox[2] }),
    field: fmt(L.box, { x0: fieldBox[1], x1: fieldBox[3], y0: fieldBox[0], y1: fieldBox[2] }) });
  S.title.textContent = fmt(L.title_map, { n, k: b + 1, count: n * n, value: num(value) });
  const state = { level: n, bin: b, view: view.name, value, winner: wr === null ? null : [wr, wc],
    rows: [r0, r1], cols: [c0, c1], stride_box: strideBox, field_box: fieldBox };
  v.root.setAttribute("data-state", JSON.stringify(state));
  writeUrl({ spp_level: n, spp_bin: b + 1, spp_view: view.name });
}

function buildScene(v) {
  const { P, L, geo } = v, [h, w] = P.map;
  const s = v.svg;
  s.replaceChildren();
  setAttrs(s, { viewBox: `0 0 ${geo.vbw} ${geo.vbh}`, "font-family": "Noto Sans, Noto Sans CJK KR, sans-serif" });
  svg("rect", { x: 0, y: 0, width: geo.vbw, height: geo.vbh, fill: "#ffffff" }, s);
  const S = {};
  S.title = svg("text", { x: geo.map.x, y: 17, "font-size": geo.fs, fill: COLORS.text }, s);
  const pt = svg("text", { x: geo.photo.x, y: geo.photo.y - 9, "font-size": geo.fs, fill: COLORS.text }, s);
  pt.textContent = L.title_photo;
  const m = svg("g", { transform: `translate(${geo.map.x},${geo.map.y}) scale(${geo.map.s})` }, s);
  S.mapImage = svg("image", { x: 0, y: 0, width: w, height: h, preserveAspectRatio: "none",
    style: "image-rendering:pixelated", "image-rendering": "pixelated" }, m);
  const stroke = { fill: "none", "vector-effect": "non-scaling-stroke" };
  S.mapBins = svg("path", { ...stroke, stroke: COLORS.grid, "stroke-width": 1.5, "data-role": "bins" }, m);
  S.current = svg("rect", { ...stroke, stroke: COLORS.current, "stroke-width": 4, "data-role": "current" }, m);
  S.winner = svg("circle", { r: 0.32, fill: "none", stroke: COLORS.winner, "stroke-width": 3,
    "vector-effect": "non-scaling-stroke", "data-role": "winner" }, m);
  S.mapGroup = m;
  const p = svg("g", { transform: `translate(${geo.photo.x},${geo.photo.y}) scale(${geo.photo.s})` }, s);
  svg("image", { x: 0, y: 0, width: P.photo.W, height: P.photo.H, href: P.photo.src,
    preserveAspectRatio: "none" }, p);
  S.photoBins = svg("path", { ...stroke, stroke: COLORS.grid, "stroke-width": 1, "stroke-opacity": 0.8 }, p);
  S.fieldBox = svg("rect", { ...stroke, stroke: COLORS.field, "stroke-width": 3, "stroke-dasharray": "8 5", "data-role": "field" }, p);
  S.strideBox = svg("rect", { ...stroke, stroke: COLORS.stride, "stroke-width": 3.5, "data-role": "stride" }, p);
  // legend under the photo
  // on a phone it spans the view's width (a square photo is narrower than three labels)
  const lx = geo.narrow ? 8 : geo.photo.x, step = geo.narrow ? (geo.vbw - 16) / 3 : 10 * geo.fs;
  const lg = svg("g", { transform: `translate(${lx},${geo.photo.y + geo.photo.height + 16})` }, s);
  [[COLORS.current, L.legend_current], [COLORS.stride, L.legend_stride], [COLORS.field, L.legend_field]]
    .forEach(([c, t], i) => {
      svg("rect", { x: i * step, y: -9, width: 14, height: 10, fill: "none", stroke: c, "stroke-width": 3 }, lg);
      svg("text", { x: i * step + 20, y: 0, "font-size": geo.fs * 0.8, fill: COLORS.text }, lg).textContent = t;
    });
  S.pyramid = svg("g", {}, s);
  S.strip = svg("g", {}, s);
  v.scene = S;
  // hover moves the current bin (until a click or tap pins it); a tap pins the bin under it
  m.addEventListener("pointermove", (e) => { if (!v.pinned && e.pointerType === "mouse") pick(v, e); });
  m.addEventListener("pointerdown", (e) => { v.pinned = true; pick(v, e); v.root.focus({ preventScroll: true }); });
  m.style.cursor = "crosshair";
  // the strip image and level segments do not depend on the bin
  const st = geo.strip;
  // on a phone the title's parenthesis goes on a line of its own (layout leaves room)
  const words = fmt(L.title_vector, { n: P.vector.length });
  const lines = geo.narrow ? wrap(words, Math.floor(st.width / (geo.fs * 0.93 * 0.55)), 3)
    : [words];
  lines.forEach((line, i) => {
    svg("text", { x: st.x, y: st.y - 22 - (lines.length - 1 - i) * geo.fs * 1.35,
      "font-size": geo.fs * 0.93, fill: COLORS.text, "data-role": "vector-title" }, S.strip)
      .textContent = line;
  });
  svg("image", { x: st.x, y: st.y, width: st.width, height: st.height, href: P.vector.png,
    preserveAspectRatio: "none", style: "image-rendering:pixelated", "image-rendering": "pixelated" }, S.strip);
  P.levels.forEach((n, i) => {
    const x0 = st.x + st.width * P.vector.offsets[i] / P.vector.length;
    svg("line", { x1: x0, x2: x0, y1: st.y - 4, y2: st.y + st.height + 4, stroke: "#000", "stroke-width": 1.5 }, S.strip);
    svg("text", { x: x0 + 3, y: st.y + st.height + 16, "font-size": geo.fs * 0.8, fill: COLORS.text }, S.strip)
      .textContent = `${n}×${n}`;
  });
  S.lit = svg("path", { stroke: COLORS.current, "stroke-width": 1, fill: "none", "data-role": "lit" }, S.strip);
}

function pick(v, e) {
  const p = pointIn(v.scene.mapGroup, e);
  if (!p) return;
  const [h, w] = v.P.map, u = Math.floor(p.y), c = Math.floor(p.x);
  if (u < 0 || u >= h || c < 0 || c >= w) return;
  const edges = v.P.edges[String(v.level)];
  const i = edges.rows.findIndex(([a, b]) => a <= u && u < b);
  const j = edges.cols.findIndex(([a, b]) => a <= c && c < b);
  const bin = i * v.level + j;
  if (i >= 0 && j >= 0 && bin !== v.bin) { v.bin = bin; draw(v); }
}

/** Every level's n x n pooled values for the current channel view, current bin outlined. */
function drawPyramid(v, view) {
  const { P, L, geo } = v, g = v.scene.pyramid, py = geo.pyramid;
  g.replaceChildren();
  const side = py.height - 18, lo = view.vmin, hi = view.vmax, span = hi > lo ? hi - lo : 1;
  let x = py.x;
  P.levels.forEach((n) => {
    const cell = side / n, bins = view.bins[String(n)];
    svg("text", { x, y: py.y - 4, "font-size": geo.fs * 0.8, fill: COLORS.text }, g).textContent =
      fmt(L.level_grid, { n, bins: n * n });
    bins.forEach(([value], k) => {
      const r = Math.floor(k / n), c = k % n;
      const rect = svg("rect", { x: x + c * cell, y: py.y + r * cell, width: cell, height: cell,
        fill: colourAt(P.colors, (value - lo) / span), stroke: "#fff", "stroke-width": n > 12 ? 0 : 0.5 }, g);
      if (n === v.level && k === v.bin) setAttrs(rect, { stroke: COLORS.current, "stroke-width": 3 });
    });
    x += side + 26;
  });
}

/** The vector strip with the current bin's C entries lit: offset + c * n^2 + bin. */
function drawStrip(v, n, b) {
  const { P, geo } = v, st = geo.strip, i = P.levels.indexOf(n);
  const scale = st.width / P.vector.length, parts = [];
  for (let c = 0; c < P.channels; c++) {
    const x = st.x + (P.vector.offsets[i] + c * n * n + b + 0.5) * scale;
    parts.push(`M${x.toFixed(2)},${st.y - 8}V${st.y - 1}`);
  }
  v.scene.lit.setAttribute("d", parts.join(""));
}
