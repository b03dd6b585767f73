// SPP bins view: one level's bins over the feature map, where the current bin looks on the
// photo, its pooled value, the pyramid of every level and the SPP vector with that bin's C
// entries lit. Level, bin and channel view change here, in the browser; only a channel
// outside the shipped views asks the server (setStateValue "channel"). Everything drawn is
// looked up in the payload (schema pv.spp/2, pyramidviz/payloads.py: spp_payload).
// Contract (browser tests): [data-testid=pv-spp-bins] tabindex=0, data-state JSON
// {"level": n, "bin": b (0-based), "view": name, ...}; ArrowRight / ArrowLeft step the bin.

import {
  setAttrs, html, fmt, num, rectOf, frame, textSize, writeUrl, savePng, button, pointIn,
  shell, relabel, show, changes, widthOf, flushUrl,
} from "./common.js";

const SCHEMA = "pv.spp/2";
const views = new WeakMap();  // parentElement -> the view's small state object

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  if (data.payload.schema !== SCHEMA) throw new Error(`SPP view needs ${SCHEMA}`);
  let v = views.get(parentElement);
  if (!v) { v = build(parentElement, data); views.set(parentElement, v); }
  v.root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  v.setStateValue = setStateValue;
  const changed = changes(v, data);
  if (changed.payload) {  // a rerun with the same payload keeps what the student looks at
    v.P = data.payload;
    v.state = initialState(v.P, data.state || {});
  }
  if (changed.payload || changed.labels) {
    v.L = data.labels;
    relabel(v, v.L);
    renderToolbar(v);
    draw(v);
  }
  return () => stop(v);
}

/** The state a mount opens on: the asked level, bin and channel view where they exist. */
export function initialState(P, asked) {
  const level = P.levels.includes(asked.level) ? asked.level : P.levels[0];
  return { level, bin: clampBin(level, asked.bin || 0),
    view: Math.max(0, P.views.findIndex((x) => x.name === asked.view)), pinned: false };
}

export function clampBin(level, bin) {
  return Math.min(Math.max(Number.isInteger(bin) ? bin : 0, 0), level * level - 1);
}

/** The state after a key (null: not a key of this view; "play": toggle play). */
export function keyState(P, state, key) {
  const n = state.level, count = n * n, levels = P.levels, li = levels.indexOf(n);
  const at = (bin) => ({ ...state, bin: ((bin % count) + count) % count });
  const level = (l) => ({ ...state, level: l, bin: clampBin(l, state.bin) });
  switch (key) {
    case "ArrowRight": return at(state.bin + 1);
    case "ArrowLeft": return at(state.bin - 1);
    case "ArrowDown": return at(state.bin + n);
    case "ArrowUp": return at(state.bin - n);
    case "Home": return { ...state, bin: 0 };
    case "End": return { ...state, bin: count - 1 };
    case "PageDown": return level(levels[(li + 1) % levels.length]);
    case "PageUp": return level(levels[(li - 1 + levels.length) % levels.length]);
    case " ": return "play";
    default: return null;
  }
}

function build(parent, data) {
  const v = shell(parent, "pv-spp-bins", data.labels);
  v.levels = html("div", "pv-group", null, v.bar);
  v.viewsBar = html("div", "pv-group", null, v.bar);
  v.steps = html("div", "pv-group", null, v.bar);
  v.timer = null;
  v.root.addEventListener("keydown", (e) => {
    const next = keyState(v.P, v.state, e.key);
    if (!next) return;
    e.preventDefault();
    if (next === "play") togglePlay(v); else set(v, next);
  });
  // hover moves the current bin (until a click or tap pins it); a tap pins the bin under it
  v.svg.addEventListener("pointermove", (e) => {
    if (!v.state.pinned && e.pointerType === "mouse") pick(v, e, false);
  });
  v.svg.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "mouse") { v.touch = e.pointerId; return; }
    if (pick(v, e, true)) v.root.focus({ preventScroll: true });
  });
  v.svg.addEventListener("pointerup", (e) => {  // a tap (a swipe is cancelled: it scrolls)
    if (v.touch === e.pointerId) pick(v, e, true);
    v.touch = null;
  });
  v.svg.addEventListener("pointercancel", () => { v.touch = null; });
  new ResizeObserver(() => draw(v)).observe(v.root);
  return v;
}

function set(v, state) {
  v.state = state;
  draw(v);
}

function renderToolbar(v) {
  const { P, L } = v;
  v.levels.replaceChildren(html("span", "pv-label", L.level));
  v.levelButtons = P.levels.map((n) => button(v.levels, `${n}×${n}`, fmt(L.level_n, { n }),
    () => set(v, { ...v.state, level: n, bin: clampBin(n, v.state.bin) })));
  v.viewsBar.replaceChildren(html("span", "pv-label", L.view));
  v.viewButtons = P.views.map((x, i) => button(v.viewsBar, L.views[x.name] || `#${x.name}`,
    L.views_help[x.name] || fmt(L.channel_n, { c: x.name }), () => set(v, { ...v.state, view: i })));
  if (P.mode !== "geometry") {  // a map known by its geometry has no channels to pick
    const other = html("input", "pv-input", null, v.viewsBar);
    setAttrs(other, { type: "number", min: 0, max: P.channels - 1, step: 1,
      placeholder: L.other, title: fmt(L.other_help, { max: P.channels - 1 }),
      "aria-label": fmt(L.other_help, { max: P.channels - 1 }) });
    other.addEventListener("keydown", (e) => e.stopPropagation());
    other.addEventListener("change", () => {
      const c = Number(other.value);
      if (!Number.isInteger(c) || c < 0 || c >= P.channels) { other.value = ""; return; }
      const i = P.views.findIndex((x) => x.name === String(c));
      if (i >= 0) set(v, { ...v.state, view: i });
      else { flushUrl(); v.setStateValue("channel", String(c)); }
    });
  }
  v.steps.replaceChildren();
  button(v.steps, "←", L.prev, () => set(v, keyState(P, v.state, "ArrowLeft")));
  v.playButton = button(v.steps, v.timer ? "❚❚" : "▶", v.timer ? L.pause : L.play,
    () => togglePlay(v));
  button(v.steps, "→", L.next, () => set(v, keyState(P, v.state, "ArrowRight")));
  button(v.steps, "PNG", L.save, () => savePng(v.svg, "pyramidviz-spp-bins.png",
    P.style.colours.background));
}

function stop(v) {
  if (v.timer) clearInterval(v.timer);
  v.timer = null;
}

function togglePlay(v) {
  if (v.timer) stop(v);
  else v.timer = setInterval(() => set(v, keyState(v.P, v.state, "ArrowRight")),
    v.P.style.timings.spp_play_ms);
  v.playButton.textContent = v.timer ? "❚❚" : "▶";
  v.playButton.title = v.timer ? v.L.pause : v.L.play;
  v.playButton.setAttribute("aria-label", v.playButton.title);
}

/** The bin holding map cell (u, c) at `level`, from the payload's tables (null: off map). */
export function binAt(P, level, u, c) {
  const [h, w] = P.map;
  if (u < 0 || u >= h || c < 0 || c >= w) return null;
  const t = P.cell_bin[String(level)];
  return P.index[String(level)][t.rows[u]][t.cols[c]];
}

function pick(v, e, pin) {
  const g = v.svg.querySelector("[data-key=map]");
  const p = g && pointIn(g, e);
  if (!p) return false;
  const bin = binAt(v.P, v.state.level, Math.floor(p.y), Math.floor(p.x));  // 1 unit = 1 cell
  if (bin === null) return false;
  if (bin !== v.state.bin || (pin && !v.state.pinned)) set(v, { ...v.state, bin, pinned: v.state.pinned || pin });
  return true;
}

// --------------------------------------------------------------- layout (pure)

/** About how wide `text` is drawn at font size 1 (Hangul and other wide glyphs take about
 * one em, Latin about 0.56): enough to wrap a title before the view's edge. */
export function textWidth(text) {
  let w = 0;
  for (const ch of text) w += ch.codePointAt(0) >= 0x1100 ? 1.0 : 0.56;
  return w;
}

/** ``text`` broken between words into at most ``most`` lines no wider than ``width`` (in
 * font-size units, :func:`textWidth`; the last line takes the rest): a phone's narrow view
 * wraps its long titles. */
export function wrap(text, width, most) {
  const lines = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && textWidth(line + " " + word) > width && lines.length < most - 1) {
      lines.push(line); line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** Panel positions in viewBox units for a container `width` px wide (side by side or stacked). */
export function panels(P, width, lines) {
  const S = P.style, [h, w] = P.map, H = P.photo.H, W = P.photo.W;
  const { phone, vbw, fs } = frame(S, width), pad = 8, gap = 18;
  const font = textSize(S, fs, vbw, width), small = textSize(S, fs * 0.8, vbw, width);
  const top = font * 1.8;
  let map, photo, y;
  if (phone) {
    const mw = vbw - 2 * pad, mh = Math.min(mw * h / w, 420), ms = mh / h;
    map = { x: pad + (mw - w * ms) / 2, y: top, s: ms, width: w * ms, height: mh };
    const ph = Math.min((vbw - 2 * pad) * H / W, 420), ps = ph / H;
    photo = { x: pad + (vbw - 2 * pad - W * ps) / 2, y: map.y + mh + top + 8, s: ps, width: W * ps, height: ph };
    y = photo.y + ph;
  } else {
    const hp = Math.min((vbw - 2 * pad - gap) / (w / h + W / H), 440);
    map = { x: pad, y: top, s: hp / h, width: hp * w / h, height: hp };
    photo = { x: pad + map.width + gap, y: top, s: hp / H, width: hp * W / H, height: hp };
    y = top + hp;
  }
  const legendRows = phone ? 3 : 1;  // on a phone one legend entry a row: nothing clipped
  const legend = { x: phone ? pad : photo.x, y: y + small * 1.6, row: small * 1.5, rows: legendRows };
  const pyramid = { x: pad, y: legend.y + legendRows * legend.row + small * 1.5,
    width: vbw - 2 * pad, height: phone ? 90 : 86 };
  const strip = { x: pad, y: pyramid.y + pyramid.height + small * 1.6 + lines * font * 1.5,
    width: vbw - 2 * pad, height: 34 };
  return { phone, vbw, vbh: strip.y + strip.height + small * 2, map, photo, legend, pyramid,
    strip, font, small, pad };
}

/** The whole scene for `state` at a container `width` px wide: pure. */
export function layout(P, state, ctx) {
  const L = ctx.labels, C = P.style.colours;
  const { phone, vbw, fs } = frame(P.style, ctx.width);
  const font0 = textSize(P.style, fs, vbw, ctx.width);
  const words = fmt(L.title_vector, { n: P.vector.length });
  const lines = phone ? wrap(words, (vbw - 16) / font0, 3) : [words];
  const geo = panels(P, ctx.width, lines.length);
  const view = P.views[state.view], n = state.level, b = state.bin, key = String(n);
  const [value, wr, wc] = view.bins[key][b];
  const edges = P.edges[key], [row, col] = P.grid[key][b];
  const [r0, r1] = edges.rows[row], [c0, c1] = edges.cols[col];
  const [strideBox, fieldBox] = P.boxes[key][b];
  const [h, w] = P.map, stroke = { fill: "none", "vector-effect": "non-scaling-stroke" };
  const items = [{ key: "bg", tag: "rect", attrs: { x: 0, y: 0, width: vbw, height: geo.vbh, fill: C.background } }];
  items.push({ key: "maptitle", tag: "text", attrs: { x: geo.map.x, y: geo.font * 1.2, "font-size": geo.font, fill: C.ink },
    text: fmt(L.title_map, { n, k: b + 1, count: n * n, value: num(value) }) });
  items.push({ key: "phototitle", tag: "text", attrs: { x: geo.photo.x, y: geo.photo.y - geo.font * 0.5,
    "font-size": geo.font, fill: C.ink }, text: L.title_photo });
  items.push({ key: "map", tag: "g", attrs: { transform: `translate(${geo.map.x},${geo.map.y}) scale(${geo.map.s})`,
    cursor: "crosshair" }, children: [
    { key: "image", tag: "image", attrs: { x: 0, y: 0, width: w, height: h, href: view.png,
      preserveAspectRatio: "none", style: "image-rendering:pixelated" } },
    { key: "bins", tag: "path", attrs: { ...stroke, stroke: C.grid, "stroke-width": 1.5, "data-role": "bins",
      d: edges.rows.map(([a0, a1]) => edges.cols.map(([q0, q1]) =>
        `M${q0 + 0.06},${a0 + 0.06}H${q1 - 0.06}V${a1 - 0.06}H${q0 + 0.06}Z`).join("")).join("") } },
    { key: "current", tag: "rect", attrs: { ...stroke, stroke: C.current, "stroke-width": 4,
      "data-role": "current", x: c0, y: r0, width: c1 - c0, height: r1 - r0 } },
    { key: "winner", tag: "circle", attrs: { r: 0.32, fill: "none", stroke: C.winner, "stroke-width": 3,
      "vector-effect": "non-scaling-stroke", "data-role": "winner",
      visibility: wr === null ? "hidden" : "visible", cx: wr === null ? 0 : wc + 0.5, cy: wr === null ? 0 : wr + 0.5 } },
  ] });
  items.push({ key: "photo", tag: "g", attrs: { transform: `translate(${geo.photo.x},${geo.photo.y}) scale(${geo.photo.s})` },
    children: [
      { key: "image", tag: "image", attrs: { x: 0, y: 0, width: P.photo.W, height: P.photo.H,
        href: P.photo.src, preserveAspectRatio: "none" } },
      { key: "bins", tag: "path", attrs: { ...stroke, stroke: C.grid, "stroke-width": 1,
        d: P.boxes[key].map(([s]) => `M${s[1]},${s[0]}H${s[3]}V${s[2]}H${s[1]}Z`).join("") } },
      { key: "field", tag: "rect", attrs: { ...stroke, ...rectOf(fieldBox), stroke: C.field,
        "stroke-width": 3, "stroke-dasharray": "8 5", "data-role": "field" } },
      { key: "stride", tag: "rect", attrs: { ...stroke, ...rectOf(strideBox), stroke: C.stride,
        "stroke-width": 3.5, "data-role": "stride" } },
    ] });
  const lg = geo.legend, entries = [[C.current, L.legend_current], [C.stride, L.legend_stride],
    [C.field, L.legend_field]];
  const step = phone ? 0 : 10 * geo.small;
  items.push({ key: "legend", tag: "g", attrs: { transform: `translate(${lg.x},${lg.y})` },
    children: entries.flatMap(([c, t], i) => {
      const x = i * step, y = phone ? i * lg.row : 0;
      return [{ key: `r${i}`, tag: "rect", attrs: { x, y: y - geo.small * 0.6, width: geo.small,
        height: geo.small * 0.65, fill: "none", stroke: c, "stroke-width": 3 } },
      { key: `t${i}`, tag: "text", text: t, attrs: { x: x + geo.small * 1.4, y, "font-size": geo.small, fill: C.ink } }];
    }) });
  items.push({ key: "pyramid", tag: "g", children: pyramid(P, L, view, state, geo) });
  items.push({ key: "strip", tag: "g", children: strip(P, state, geo, lines) });
  const winner = wr === null ? L.no_winner : fmt(L.winner, { r: wr + 1, c: wc + 1 });
  const box = (q) => fmt(L.box, { x0: q[1], x1: q[3], y0: q[0], y1: q[2] });
  // people count bins, rows and columns from 1; rows r0+1 .. r1 are the half-open [r0, r1)
  const readout = fmt(L.readout, { k: b + 1, count: n * n, row: row + 1, col: col + 1,
    r0: r0 + 1, r1, c0: c0 + 1, c1, mode: L[`mode_${P.mode}`] || P.mode, value: num(value),
    winner, stride: box(strideBox), field: box(fieldBox) });
  const dataState = { level: n, bin: b, view: view.name, value,
    winner: wr === null ? null : [wr, wc], rows: [r0, r1], cols: [c0, c1],
    stride_box: strideBox, field_box: fieldBox };
  return { viewBox: `0 0 ${vbw} ${+geo.vbh.toFixed(2)}`, phone, items, readout,
    picture: `${fmt(L.title_map, { n, k: b + 1, count: n * n, value: num(value) })}; ${L.title_photo}`,
    data: { state: JSON.stringify(dataState) },
    pressed: { level: P.levels.indexOf(n), view: state.view } };
}

/** Every level's n x n pooled values (colours from the payload), current bin outlined. */
function pyramid(P, L, view, state, geo) {
  const C = P.style.colours, py = geo.pyramid, side = py.height - 18, out = [];
  let x = py.x;
  P.levels.forEach((n) => {
    const cell = side / n, key = String(n), fills = view.fills[key];
    out.push({ key: `l${n}`, tag: "text", text: fmt(L.level_grid, { n, bins: n * n }),
      attrs: { x, y: py.y - 4, "font-size": geo.small, fill: C.ink } });
    P.grid[key].forEach(([i, j], k) => {
      const now = n === state.level && k === state.bin;
      out.push({ key: `b${n}_${k}`, tag: "rect", attrs: { x: x + j * cell, y: py.y + i * cell,
        width: cell, height: cell, fill: fills[k], stroke: now ? C.current : C.background,
        "stroke-width": now ? 3 : (n > 12 ? 0 : 0.5) } });
    });
    x += Math.max(side, fmt(L.level_grid, { n, bins: n * n }).length * geo.small * 0.55) + 26;
  });
  return out;
}

/** The vector strip with the current bin's C entries lit: entry (c, bin) at first[c] + bin. */
function strip(P, state, geo, lines) {
  const C = P.style.colours, st = geo.strip, out = [];
  lines.forEach((line, i) => out.push({ key: `title${i}`, tag: "text", text: line,
    attrs: { x: st.x, y: st.y - 22 - (lines.length - 1 - i) * geo.font * 1.5,
      "font-size": geo.font, fill: C.ink, "data-role": "vector-title" } }));
  out.push({ key: "image", tag: "image", attrs: { x: st.x, y: st.y, width: st.width,
    height: st.height, href: P.vector.png, preserveAspectRatio: "none", style: "image-rendering:pixelated" } });
  const scale = st.width / P.vector.length;
  P.levels.forEach((n, i) => {
    const x0 = st.x + st.width * P.vector.offsets[i] / P.vector.length;
    out.push({ key: `sep${n}`, tag: "line", attrs: { x1: x0, x2: x0, y1: st.y - 4,
      y2: st.y + st.height + 4, stroke: C.ink, "stroke-width": 1.5 } });
    const label = `${n}×${n}`, end = st.x + st.width;  // the last label ends at the strip's end
    const past = x0 + 3 + label.length * geo.small * 0.62 > end;
    out.push({ key: `lab${n}`, tag: "text", text: label, attrs: { x: past ? end : x0 + 3,
      "text-anchor": past ? "end" : null, y: st.y + st.height + geo.small * 1.1,
      "font-size": geo.small, fill: C.ink } });
  });
  const first = P.vector.first[String(state.level)];
  const d = first.map((f) => `M${(st.x + (f + state.bin + 0.5) * scale).toFixed(2)},${st.y - 8}V${st.y - 1}`);
  out.push({ key: "lit", tag: "path", attrs: { d: d.join(""), stroke: C.current, "stroke-width": 1,
    fill: "none", "data-role": "lit" } });
  return out;
}

// --------------------------------------------------------------- draw (thin)

function draw(v) {
  if (!v.P) return;
  const scene = layout(v.P, v.state, { labels: v.L, width: widthOf(v) });
  show(v, scene);
  v.levelButtons.forEach((x, i) => x.setAttribute("aria-pressed", String(i === scene.pressed.level)));
  v.viewButtons.forEach((x, i) => x.setAttribute("aria-pressed", String(i === scene.pressed.view)));
  const s = v.state;
  writeUrl({ spp_level: s.level, spp_bin: s.bin + 1, spp_view: v.P.views[s.view].name });
}
