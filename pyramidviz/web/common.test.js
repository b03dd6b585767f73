import { test } from "node:test";
import assert from "node:assert/strict";
import { nearestIndex, fmt, paint, textSize, frame, marker, accessibleName } from "./common.js";
import { fakeDocument } from "./testing.mjs";

test("nearestIndex counts the bounds at or below a value (a binary search)", () => {
  const bounds = [8, 24, 40];
  assert.deepEqual([-5, 7.9, 8, 23, 24, 40, 99].map((x) => nearestIndex(bounds, x)),
    [0, 0, 1, 1, 2, 3, 3]);
  assert.equal(nearestIndex([], 5), 0);
});

test("fmt fills placeholders and ignores a particle spec", () => {
  assert.equal(fmt("row {row}, {n:을/를} {x}", { row: 3, n: 2 }), "row 3, 2 {x}");
});

test("textSize keeps text at least min_text_px on screen", () => {
  const style = { sizes: { min_text_px: 12 }, breakpoints: { phone: 620 } };
  assert.equal(textSize(style, 15, 1000, 2000), 15);  // drawn at 2 px per unit: 30 px
  assert.equal(textSize(style, 15, 600, 300), 24);  // 0.5 px per unit: 24 units = 12 px
  const z = { ...style, sizes: { ...style.sizes, width: 1000, width_phone: 600, font: 15, font_phone: 22 } };
  assert.deepEqual(frame(z, 390), { phone: true, vbw: 600, fs: 22 });
  assert.deepEqual(frame(z, 900), { phone: false, vbw: 1000, fs: 15 });
});

test("paint writes only what changed and removes what left", () => {
  const doc = fakeDocument();
  globalThis.document = doc;
  const root = doc.root(), memo = new Map();
  const scene = (x, extra) => [{ key: "a", tag: "rect", attrs: { x, y: 1 } },
    { key: "g", tag: "g", children: [{ key: "t", tag: "text", text: `x=${x}`, attrs: {} }] },
    ...(extra ? [{ key: "b", tag: "circle", attrs: { r: 2 } }] : [])];
  paint(root, scene(1, true), memo);
  assert.equal(root.children.length, 3);
  doc.writes = 0;
  assert.equal(paint(root, scene(1, true), memo), 0);  // nothing changed: nothing written
  assert.equal(doc.writes, 0);
  assert.equal(paint(root, scene(2, false), memo), 3);  // x, the text, and b removed
  assert.deepEqual(root.children.map((c) => c.tag), ["rect", "g"]);
  assert.equal(root.children[0].attrs.x, "2");
  assert.equal(root.children[1].children[0].textContent, "x=2");
  delete globalThis.document;
});

test("marker draws each branch shape; a circle by default", () => {
  assert.equal(marker("k", "circle", 1, 2, 3, {}).tag, "circle");
  assert.equal(marker("k", "square", 0, 0, 1, {}).attrs.d, "M-0.85,-0.85h1.7v1.7h-1.7Z");
  assert.equal(marker("k", "asterisk", 0, 0, 1, { fill: "#000" }).attrs.stroke, "#000");
});

test("a button's name holds its visible words (WCAG 2.5.3), a symbol's name is its title", () => {
  assert.equal(accessibleName("max", "Largest value over channels"), "max: Largest value over channels");
  assert.equal(accessibleName("max", "Maximum over channels"), "max: Maximum over channels");
  assert.equal(accessibleName("mean", "The mean over channels"), "The mean over channels");
  assert.equal(accessibleName("PNG", "이 보기를 PNG로 저장"), "PNG: 이 보기를 PNG로 저장");
  assert.equal(accessibleName("#189", "채널 189만"), "#189: 채널 189만");
  assert.equal(accessibleName("PNG", "Save this view as PNG"), "Save this view as PNG");
  assert.equal(accessibleName("▶", "Play"), "Play");
  assert.equal(accessibleName("↑", "Move the cell up"), "Move the cell up");
  assert.equal(accessibleName("max", ""), "max");
});
