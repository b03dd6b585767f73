// Sliding dilated kernel: one k x k kernel at rate d walks over a padded input; the output
// fills in as it goes. Play, step (arrow keys) and jump (Home/End) run in the browser.
// Output (oy, ox) reads padded cells (oy*s + a*d, ox*s + b*d), a, b = 0..k-1: the formula of
// pyramidviz.atrous.sliding_taps, checked against it in a browser test.
// Contract: [data-testid=pv-kernel] tabindex=0, data-state {"position": [oy, ox],
// "taps": [[row, col, real], ...]} in padded-input cells.

import { svg, setAttrs, html, fmt, savePng, button } from "./common.js";

const K = { tap: "#d55e00", pad: "#999999", done: "rgba(0,114,178,0.35)", now: "#cc79a7",
  grid: "#bbbbbb", ink: "#222" };

export default function (component) {
  const { parentElement, data } = component;
  let root = parentElement.querySelector(".pv-view");
  if (!root) {
    root = html("div", "pv-view", null, parentElement);
    setAttrs(root, { "data-testid": "pv-kernel", tabindex: 0, role: "application",
      "aria-roledescription": data.labels.role, "aria-label": data.labels.aria });
    const bar = html("div", "pv-toolbar", null, root);
    const v = { root, bar, svg: svg("svg", { class: "pv-svg", role: "img" }, root),
      readout: html("div", "pv-readout", null, root), timer: null };
    v.readout.setAttribute("aria-live", "polite");
    root.__pv = v;
    root.addEventListener("keydown", (e) => {
      const n = v.P.out * v.P.out, map = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: v.P.out,
        ArrowUp: -v.P.out };
      if (e.key in map) { e.preventDefault(); go(v, (v.k + map[e.key] + n) % n); }
      else if (e.key === "Home") { e.preventDefault(); go(v, 0); }
      else if (e.key === "End") { e.preventDefault(); go(v, n - 1); }
      else if (e.key === " ") { e.preventDefault(); play(v); }
    });
  }
  root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const v = root.__pv;
  if (v.token !== data.token) {
    v.token = data.token; v.P = data.payload; v.L = data.labels; v.k = 0;
    if (v.timer) { clearInterval(v.timer); v.timer = null; }
    v.bar.replaceChildren();
    button(v.bar, "◀", v.L.prev, () => go(v, (v.k - 1 + v.P.out ** 2) % v.P.out ** 2));
    v.playButton = button(v.bar, "▶", v.L.play, () => play(v));
    button(v.bar, "▶|", v.L.next, () => go(v, (v.k + 1) % v.P.out ** 2));
    button(v.bar, "PNG", v.L.save, () => savePng(v.svg, "pyramidviz-sliding-kernel.png"));
    scene(v);
    go(v, 0);
  }
  return () => { if (v.timer) clearInterval(v.timer); };
}

function play(v) {
  if (v.timer) { clearInterval(v.timer); v.timer = null; }
  else v.timer = setInterval(() => go(v, (v.k + 1) % v.P.out ** 2), 450);
  v.playButton.textContent = v.timer ? "❚❚" : "▶";
  v.playButton.setAttribute("aria-label", v.timer ? v.L.pause : v.L.play);
  v.playButton.title = v.timer ? v.L.pause : v.L.play;
}

function scene(v) {
  const P = v.P, n = P.size + 2 * P.padding, gap = 1.5, W = n + gap + P.out;
  const s = v.svg;
  s.replaceChildren();
  setAttrs(s, { viewBox: `-0.3 -1.4 ${W + 0.6} ${n + 1.8}`, "font-family": "Noto Sans, Noto Sans CJK KR, sans-serif" });
  svg("rect", { x: -0.3, y: -1.4, width: W + 0.6, height: n + 1.8, fill: "#fff" }, s);
  svg("rect", { x: 0, y: 0, width: n, height: n, fill: "#eeeeee" }, s);
  svg("rect", { x: P.padding, y: P.padding, width: P.size, height: P.size, fill: "#fff", stroke: "#888", "stroke-width": 0.04 }, s);
  const lines = [];
  for (let i = 0; i <= n; i++) lines.push(`M${i},0V${n}M0,${i}H${n}`);
  for (let i = 0; i <= P.out; i++) lines.push(`M${n + gap + i},0V${P.out}M${n + gap},${i}H${n + gap + P.out}`);
  svg("path", { d: lines.join(""), stroke: K.grid, "stroke-width": 0.03, fill: "none" }, s);
  const t1 = svg("text", { x: n / 2, y: -0.5, "font-size": 0.55, "text-anchor": "middle", fill: K.ink }, s);
  t1.textContent = v.L.input;
  const t2 = svg("text", { x: n + gap + P.out / 2, y: -0.5, "font-size": 0.55, "text-anchor": "middle", fill: K.ink }, s);
  t2.textContent = fmt(v.L.output, { o: P.out });
  v.layer = svg("g", {}, s);
  v.n = n; v.gap = gap;
}

function go(v, k) {
  const P = v.P, oy = Math.floor(k / P.out), ox = k % P.out, x0 = v.n + v.gap;
  v.k = k;
  const g = v.layer;
  g.replaceChildren();
  const done = [];
  if (oy > 0) done.push(`M${x0},0H${x0 + P.out}V${oy}H${x0}Z`);
  if (ox > 0) done.push(`M${x0},${oy}H${x0 + ox}V${oy + 1}H${x0}Z`);
  svg("path", { d: done.join(""), fill: K.done }, g);
  svg("rect", { x: x0 + ox, y: oy, width: 1, height: 1, fill: K.now, "data-role": "output" }, g);
  const taps = [];
  for (let a = 0; a < P.kernel; a++) for (let b = 0; b < P.kernel; b++) {
    const r = oy * P.stride + a * P.rate, c = ox * P.stride + b * P.rate;
    const real = r >= P.padding && r < P.padding + P.size && c >= P.padding && c < P.padding + P.size;
    taps.push([r, c, real]);
    svg("rect", { x: c + 0.18, y: r + 0.18, width: 0.64, height: 0.64,
      fill: real ? K.tap : "none", stroke: real ? "#fff" : K.pad, "stroke-width": 0.06 }, g);
  }
  const span = (P.kernel - 1) * P.rate + 1;
  svg("rect", { x: ox * P.stride, y: oy * P.stride, width: span, height: span, fill: "none",
    stroke: K.tap, "stroke-width": 0.06, "stroke-dasharray": "0.2 0.12" }, g);
  const real = taps.filter((t) => t[2]).length;
  v.readout.textContent = fmt(v.L.readout, { oy, ox, o: P.out, real, kk: P.kernel * P.kernel, span });
  v.root.setAttribute("data-state", JSON.stringify({ position: [oy, ox], taps }));
}
