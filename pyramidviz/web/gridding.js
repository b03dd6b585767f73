// Gridding: which input offsets the centre output of a stack of dilated convs reaches, layer
// after layer (pyramidviz.atrous.stack_coverage, one PNG per layer in the payload, schema
// pv.gridding/2). Step the layers and hover an offset in the browser.
// Contract: [data-testid=pv-gridding] tabindex=0, data-state {"layer": i (1-based),
// "holes": [per stack], "offset": [dy, dx] or null}.

import {
  fmt, frame, textSize, savePng, button, pointIn, html, shell, relabel, show, changes, widthOf,
} from "./common.js";

const SCHEMA = "pv.gridding/2";
const views = new WeakMap();  // parentElement -> the view's small state object

export default function (component) {
  const { parentElement, data } = component;
  if (data.payload.schema !== SCHEMA) throw new Error(`gridding view needs ${SCHEMA}`);
  let v = views.get(parentElement);
  if (!v) { v = build(parentElement, data); views.set(parentElement, v); }
  v.root.classList.toggle("pv-present", !!data.present);  // scale to the screen
  const changed = changes(v, data);
  if (changed.payload) {
    v.P = data.payload;
    v.state = { layer: v.P.depth, offset: null };
  }
  if (changed.payload || changed.labels) {
    v.L = data.labels;
    relabel(v, v.L);
    renderToolbar(v);
    draw(v);
  }
}

/** The layer after a key (null: not a key of this view). */
export function keyLayer(key, layer, depth) {
  if (key === "ArrowRight" || key === "ArrowUp") return Math.min(layer + 1, depth);
  if (key === "ArrowLeft" || key === "ArrowDown") return Math.max(layer - 1, 1);
  if (key === "Home") return 1;
  if (key === "End") return depth;
  return null;
}

function build(parent, data) {
  const v = shell(parent, "pv-gridding", data.labels);
  v.root.addEventListener("keydown", (e) => {
    const layer = keyLayer(e.key, v.state.layer, v.P.depth);
    if (layer === null) return;
    e.preventDefault();
    set(v, { ...v.state, layer, offset: null });
  });
  v.svg.addEventListener("pointermove", (e) => {
    const g = e.target.closest && e.target.closest("[data-stack]");
    if (!g) return;
    const q = pointIn(g, e), i = Number(g.getAttribute("data-stack"));
    const L = layerOf(v.P.stacks[i], v.state.layer);
    const row = Math.floor(q.y), col = Math.floor(q.x);  // 1 unit = 1 offset
    if (row < 0 || col < 0 || row >= L.span || col >= L.span) return;
    set(v, { ...v.state, offset: [L.offsets[row], L.offsets[col]], stack: i });
  });
  new ResizeObserver(() => draw(v)).observe(v.root);
  return v;
}

function set(v, state) {
  v.state = state;
  draw(v);
}

function renderToolbar(v) {
  v.bar.replaceChildren(html("span", "pv-label", v.L.layers));
  v.buttons = [];
  for (let i = 1; i <= v.P.depth; i++) {
    v.buttons.push(button(v.bar, String(i), fmt(v.L.after, { i }), () => set(v, { ...v.state, layer: i, offset: null })));
  }
  button(v.bar, "PNG", v.L.save, () => savePng(v.svg, "pyramidviz-gridding.png",
    v.P.style.colours.background));
}

function layerOf(stack, layer) { return stack.layers[Math.min(layer, stack.layers.length) - 1]; }

/** The scene after `state.layer` layers for a container `width` px wide: pure. */
export function layout(P, state, ctx) {
  const L = ctx.labels, C = P.style.colours, side = 300, gap = 40, n = P.stacks.length;
  const phone = frame(P.style, ctx.width).phone, cols = phone ? 1 : n;  // phones: one a row
  const W = cols * side + (cols - 1) * gap;
  const font = textSize(P.style, 15, W, ctx.width), small = textSize(P.style, 13, W, ctx.width);
  const head = font * 1.3 + small * 2 + 8, rowH = side + head + 10, rows = Math.ceil(n / cols);
  const items = [{ key: "bg", tag: "rect", attrs: { x: 0, y: 0, width: W, height: rows * rowH, fill: C.background } }];
  const holes = [];
  P.stacks.forEach((stack, i) => {
    const lay = layerOf(stack, state.layer), cell = side / stack.side;
    const x0 = (i % cols) * (side + gap), y0 = Math.floor(i / cols) * rowH;
    const off = lay.inset * cell, c = lay.offsets.indexOf(0);
    holes.push(lay.holes);
    items.push({ key: `title${i}`, tag: "text", text: fmt(L.title, { rates: stack.rates.slice(0,
      Math.min(state.layer, stack.rates.length)).join(", ") }), attrs: { x: x0, y: y0 + font * 1.2,
      "font-size": font, fill: C.ink } });
    items.push({ key: `holes${i}`, tag: "text", text: fmt(L.holes, { holes: lay.holes, total: lay.total }),
      attrs: { x: x0, y: y0 + font * 1.3 + small * 1.5, "font-size": small, fill: C.muted } });
    items.push({ key: `frame${i}`, tag: "rect", attrs: { x: x0, y: y0 + head, width: side, height: side,
      fill: C.margin } });
    const kids = [
      { key: "image", tag: "image", attrs: { x: 0, y: 0, width: lay.span, height: lay.span, href: lay.png,
        preserveAspectRatio: "none", style: "image-rendering:pixelated" } },
      { key: "centre", tag: "rect", attrs: { x: c, y: c, width: 1, height: 1, fill: C.current } },
    ];
    if (lay.span <= 41) {
      const d = [];
      for (let k = 0; k <= lay.span; k++) d.push(`M${k},0V${lay.span}M0,${k}H${lay.span}`);
      kids.push({ key: "grid", tag: "path", attrs: { d: d.join(""), stroke: C.background, "stroke-width": 1,
        "vector-effect": "non-scaling-stroke", fill: "none" } });
    }
    items.push({ key: `stack${i}`, tag: "g", attrs: { transform: `translate(${x0 + off},${y0 + head + off}) scale(${cell})`,
      "data-stack": i }, children: kids });
  });
  const readout = state.offset
    ? fmt(L.hover, { dy: state.offset[0], dx: state.offset[1], rates: P.stacks[state.stack].rates.join(", ") })
    : fmt(L.readout, { i: state.layer });
  return { viewBox: `0 0 ${W} ${+(rows * rowH).toFixed(2)}`, items, readout, phone,
    picture: P.stacks.map((s) => fmt(L.title, { rates: s.rates.join(", ") })).join("; "),
    data: { state: JSON.stringify({ layer: state.layer, holes, offset: state.offset }) },
    pressed: state.layer - 1 };
}

function draw(v) {
  if (!v.P) return;
  const scene = layout(v.P, v.state, { labels: v.L, width: widthOf(v) });
  show(v, scene);
  v.buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i === scene.pressed)));
}
