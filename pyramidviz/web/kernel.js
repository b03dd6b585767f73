// Sliding dilated kernel: one k x k kernel at rate d walks over a padded input; the output
// fills in as it goes. Play, step (arrow keys) and jump (Home/End) run in the browser; the
// taps, their real/padding flags and counts are looked up in the payload (schema
// pv.kernel/2, pyramidviz/payloads.py: kernel_payload).
// Contract: [data-testid=pv-kernel] tabindex=0, data-state {"position": [oy, ox],
// "taps": [[row, col, real], ...]} in padded-input cells (0-based).

import {
  fmt, textSize, savePng, button, shell, relabel, show, changes, widthOf,
} from "./common.js";

const SCHEMA = "pv.kernel/2";
const views = new WeakMap();  // parentElement -> the view's small state object

export default function (component) {
  const { parentElement, data } = component;
  if (data.payload.schema !== SCHEMA) throw new Error(`kernel view needs ${SCHEMA}`);
  let v = views.get(parentElement);
  if (!v) { v = build(parentElement, data); views.set(parentElement, v); }
  v.root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const changed = changes(v, data);
  if (changed.payload) {
    stop(v);
    v.P = data.payload;
    v.state = { k: 0 };
  }
  if (changed.payload || changed.labels) {
    v.L = data.labels;
    relabel(v, v.L);
    renderToolbar(v);
    draw(v);
  }
  return () => stop(v);
}

/** The output index after a key on an o x o output (null: not a key; "play": toggle). */
export function keyStep(key, k, out) {
  const n = out * out;
  const map = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: out, ArrowUp: -out };
  if (key in map) return (k + map[key] + n) % n;
  if (key === "Home") return 0;
  if (key === "End") return n - 1;
  if (key === " ") return "play";
  return null;
}

function build(parent, data) {
  const v = shell(parent, "pv-kernel", data.labels);
  v.timer = null;
  v.root.addEventListener("keydown", (e) => {
    const next = keyStep(e.key, v.state.k, v.P.out);
    if (next === null) return;
    e.preventDefault();
    if (next === "play") play(v); else go(v, next);
  });
  new ResizeObserver(() => draw(v)).observe(v.root);
  return v;
}

function renderToolbar(v) {
  const L = v.L;
  v.bar.replaceChildren();
  button(v.bar, "←", L.prev, () => go(v, keyStep("ArrowLeft", v.state.k, v.P.out)));
  v.playButton = button(v.bar, "▶", L.play, () => play(v));
  button(v.bar, "→", L.next, () => go(v, keyStep("ArrowRight", v.state.k, v.P.out)));
  button(v.bar, "PNG", L.save, () => savePng(v.svg, "pyramidviz-sliding-kernel.png",
    v.P.style.colours.background));
  if (v.timer) { v.playButton.textContent = "❚❚"; v.playButton.setAttribute("aria-label", L.pause); }
}

function stop(v) {
  if (v.timer) clearInterval(v.timer);
  v.timer = null;
}

function play(v) {
  if (v.timer) stop(v);
  else v.timer = setInterval(() => go(v, keyStep("ArrowRight", v.state.k, v.P.out)),
    v.P.style.timings.kernel_play_ms);
  v.playButton.textContent = v.timer ? "❚❚" : "▶";
  v.playButton.setAttribute("aria-label", v.timer ? v.L.pause : v.L.play);
  v.playButton.title = v.timer ? v.L.pause : v.L.play;
}

function go(v, k) {
  v.state = { k };
  draw(v);
}

/** The scene at output index `state.k` for a container `width` px wide: pure. */
export function layout(P, state, ctx) {
  const L = ctx.labels, C = P.style.colours, n = P.padded, gap = 1.5, W = n + gap + P.out;
  const oy = Math.floor(state.k / P.out), ox = state.k % P.out, x0 = n + gap;
  const vbw = W + 0.6, font = textSize(P.style, 0.55, vbw, ctx.width);
  const top = font * 2.4, vbh = n + top + 0.4;
  const lines = [];
  for (let i = 0; i <= n; i++) lines.push(`M${i},0V${n}M0,${i}H${n}`);
  for (let i = 0; i <= P.out; i++) lines.push(`M${x0 + i},0V${P.out}M${x0},${i}H${x0 + P.out}`);
  const done = [];
  if (oy > 0) done.push(`M${x0},0H${x0 + P.out}V${oy}H${x0}Z`);
  if (ox > 0) done.push(`M${x0},${oy}H${x0 + ox}V${oy + 1}H${x0}Z`);
  const taps = [], marks = [];
  P.taps[oy].forEach((r, a) => P.taps[ox].forEach((c, b) => {
    const real = P.real[oy][a] && P.real[ox][b];
    taps.push([r, c, real]);
    marks.push({ key: `t${a}_${b}`, tag: "rect", attrs: { x: c + 0.18, y: r + 0.18, width: 0.64,
      height: 0.64, fill: real ? C.current : "none", stroke: real ? C.background : C.pad,
      "stroke-width": 0.06 } });
  }));
  const real = P.count[P.valid[oy]][P.valid[ox]];
  const items = [
    { key: "bg", tag: "rect", attrs: { x: -0.3, y: -top, width: vbw, height: vbh, fill: C.background } },
    { key: "padded", tag: "rect", attrs: { x: 0, y: 0, width: n, height: n, fill: C.margin } },
    { key: "input", tag: "rect", attrs: { x: P.padding, y: P.padding, width: P.size, height: P.size,
      fill: C.background, stroke: C.pad, "stroke-width": 0.04 } },
    { key: "grid", tag: "path", attrs: { d: lines.join(""), stroke: C.pad, "stroke-opacity": 0.5,
      "stroke-width": 0.03, fill: "none" } },
    { key: "t1", tag: "text", text: L.input, attrs: { x: n / 2, y: -font * 0.6, "font-size": font,
      "text-anchor": "middle", fill: C.ink } },
    { key: "t2", tag: "text", text: fmt(L.output, { o: P.out }), attrs: { x: x0 + P.out / 2,
      y: -font * 0.6, "font-size": font, "text-anchor": "middle", fill: C.ink } },
    { key: "done", tag: "path", attrs: { d: done.join("") || "M0,0", fill: C.done } },
    { key: "now", tag: "rect", attrs: { x: x0 + ox, y: oy, width: 1, height: 1, fill: C.current,
      "data-role": "output" } },
    { key: "taps", tag: "g", children: marks },
    { key: "span", tag: "rect", attrs: { x: P.start[ox], y: P.start[oy], width: P.span,
      height: P.span, fill: "none", stroke: C.current, "stroke-width": 0.06,
      "stroke-dasharray": "0.2 0.12" } },
  ];
  // people count outputs from 1 (the state keeps 0-based positions)
  const readout = fmt(L.readout, { oy: oy + 1, ox: ox + 1, o: P.out, real, kk: P.kernel * P.kernel,
    span: P.span });
  return { viewBox: `-0.3 ${+(-top).toFixed(3)} ${vbw} ${+vbh.toFixed(3)}`, items, readout,
    picture: `${L.input}; ${fmt(L.output, { o: P.out })}`, phone: false,
    data: { state: JSON.stringify({ position: [oy, ox], taps }) } };
}

function draw(v) {
  if (!v.P) return;
  show(v, layout(v.P, v.state, { labels: v.L, width: widthOf(v) }));
}
