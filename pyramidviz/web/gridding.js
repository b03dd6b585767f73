// Gridding: which input offsets the centre output of a stack of dilated convs reaches, layer
// after layer (pyramidviz.atrous.stack_coverage, one PNG per layer in the payload). Step the
// layers and hover an offset in the browser.
// Contract: [data-testid=pv-gridding] tabindex=0, data-state {"layer": i (1-based),
// "holes": [per stack], "offset": [dy, dx] or null}.

import { svg, setAttrs, html, fmt, savePng, button, pointIn } from "./common.js";

export default function (component) {
  const { parentElement, data } = component;
  let root = parentElement.querySelector(".pv-view");
  if (!root) {
    root = html("div", "pv-view", null, parentElement);
    setAttrs(root, { "data-testid": "pv-gridding", tabindex: 0, role: "application",
      "aria-roledescription": data.labels.role, "aria-label": data.labels.aria });
    const v = { root, bar: html("div", "pv-toolbar", null, root),
      svg: svg("svg", { class: "pv-svg", role: "img" }, root), readout: html("div", "pv-readout", null, root) };
    v.readout.setAttribute("aria-live", "polite");
    root.__pv = v;
    root.addEventListener("keydown", (e) => {
      const top = Math.max(...v.P.stacks.map((x) => x.layers.length));
      if (e.key === "ArrowRight" || e.key === "ArrowUp") { e.preventDefault(); show(v, Math.min(v.layer + 1, top)); }
      if (e.key === "ArrowLeft" || e.key === "ArrowDown") { e.preventDefault(); show(v, Math.max(v.layer - 1, 1)); }
      if (e.key === "Home") { e.preventDefault(); show(v, 1); }
      if (e.key === "End") { e.preventDefault(); show(v, top); }
    });
  }
  root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const v = root.__pv;
  if (v.token !== data.token) {
    v.token = data.token; v.P = data.payload; v.L = data.labels; v.offset = null;
    const top = Math.max(...v.P.stacks.map((x) => x.layers.length));
    v.bar.replaceChildren(html("span", "pv-label", v.L.layers));
    v.buttons = [];
    for (let i = 1; i <= top; i++) v.buttons.push(button(v.bar, String(i), fmt(v.L.after, { i }), () => show(v, i)));
    button(v.bar, "PNG", v.L.save, () => savePng(v.svg, "pyramidviz-gridding.png"));
    show(v, top);
  }
}

function show(v, layer) {
  const P = v.P, side = 300, gap = 40, n = P.stacks.length, s = v.svg;
  const cols = (v.root.clientWidth || 1000) < 620 ? 1 : n;  // phones: one stack per row
  v.layer = layer;
  s.replaceChildren();
  const W = cols * side + (cols - 1) * gap, rowH = side + 56, rows = Math.ceil(n / cols);
  setAttrs(s, { viewBox: `0 0 ${W} ${rows * rowH}`, "font-family": "Noto Sans, Noto Sans CJK KR, sans-serif" });
  svg("rect", { x: 0, y: 0, width: W, height: rows * rowH, fill: "#fff" }, s);
  const holes = [];
  P.stacks.forEach((stack, i) => {
    const L = stack.layers[Math.min(layer, stack.layers.length) - 1], full = stack.layers[stack.layers.length - 1];
    const cell = side / full.span, x0 = (i % cols) * (side + gap), y0 = Math.floor(i / cols) * rowH;
    const off = (full.span - L.span) / 2 * cell;
    holes.push(L.holes);
    const t = svg("text", { x: x0, y: y0 + 16, "font-size": 15, fill: "#222" }, s);
    t.textContent = fmt(v.L.title, { rates: stack.rates.slice(0, Math.min(layer, stack.rates.length)).join(", ") });
    const u = svg("text", { x: x0, y: y0 + 38, "font-size": 13, fill: "#444" }, s);
    u.textContent = fmt(v.L.holes, { holes: L.holes, total: L.span * L.span });
    svg("rect", { x: x0, y: y0 + 46, width: side, height: side, fill: "#f4f4f4" }, s);
    const g = svg("g", { transform: `translate(${x0 + off},${y0 + 46 + off}) scale(${cell})` }, s);
    svg("image", { x: 0, y: 0, width: L.span, height: L.span, href: L.png, preserveAspectRatio: "none",
      style: "image-rendering:pixelated", "image-rendering": "pixelated" }, g);
    const c = (L.span - 1) / 2;
    svg("rect", { x: c, y: c, width: 1, height: 1, fill: "#d55e00" }, g);
    if (L.span <= 41) {
      const d = [];
      for (let k = 0; k <= L.span; k++) d.push(`M${k},0V${L.span}M0,${k}H${L.span}`);
      svg("path", { d: d.join(""), stroke: "#fff", "stroke-width": 1, "vector-effect": "non-scaling-stroke", fill: "none" }, g);
    }
    g.addEventListener("pointermove", (e) => {
      const q = pointIn(g, e);
      if (!q) return;
      v.offset = [Math.floor(q.y) - c, Math.floor(q.x) - c];
      v.readout.textContent = fmt(v.L.hover, { dy: v.offset[0], dx: v.offset[1], rates: stack.rates.join(", ") });
      v.root.setAttribute("data-state", JSON.stringify({ layer, holes, offset: v.offset }));
    });
  });
  v.buttons.forEach((b, i) => b.setAttribute("aria-pressed", i + 1 === layer));
  v.readout.textContent = fmt(v.L.readout, { i: layer });
  v.root.setAttribute("data-state", JSON.stringify({ layer, holes, offset: v.offset }));
}
