import { test } from "node:test";
import assert from "node:assert/strict";
import { layout, keyState, binAt, initialState, wrap, clampBin } from "./spp_bins.js";
import { fixture, labels, smallestText, walk } from "./testing.mjs";

const base = labels("spp", "v_");
const L = { ...base, readout: base.readout1, views: { max: "max", mean: "mean" },
  views_help: { max: "max help", mean: "mean help" } };
const { payload: P, expected, cells } = fixture("spp");

test("every bin shows pyramidviz's edges, pooled value, winner and boxes", () => {
  for (const e of expected) {
    const scene = layout(P, { level: e.level, bin: e.bin, view: 0 }, { labels: L, width: 900 });
    const s = JSON.parse(scene.data.state);
    assert.deepEqual([s.level, s.bin, s.view], [e.level, e.bin, "max"]);
    assert.deepEqual([s.rows, s.cols], [e.rows, e.cols]);
    assert.ok(Math.abs(s.value - e.value) < 1e-6);
    assert.deepEqual(s.winner, e.winner);
    assert.deepEqual([s.stride_box, s.field_box], [e.stride_box, e.field_box]);
  }
});

test("the lit strip marks the bin's entry in every channel", () => {
  for (const e of expected) {
    const scene = layout(P, { level: e.level, bin: e.bin, view: 0 }, { labels: L, width: 900 });
    const lit = walk(scene.items).find((i) => i.key === "lit").attrs.d;
    const strip = walk(scene.items).find((i) => i.key === "strip").children.find((i) => i.key === "image").attrs;
    const xs = [...lit.matchAll(/M([\d.]+),/g)].map((m) => Number(m[1]));
    const entries = xs.map((x) => Math.round((x - strip.x) / strip.width * P.vector.length - 0.5) + 0);
    assert.deepEqual(entries, e.entries);
  }
});

test("the bin under a map cell comes from the payload's tables", () => {
  for (const c of cells) assert.equal(binAt(P, c.level, ...c.cell), c.bin);
  assert.equal(binAt(P, 3, -1, 0), null);
});

test("the readout counts bins, rows and columns from 1", () => {
  const scene = layout(P, { level: 3, bin: 4, view: 0 }, { labels: L, width: 900 });
  assert.match(scene.readout, /^Bin 5 of 9 \(row 2, column 2\) covers feature rows 3 to 4 and columns 3 to 6\./);
  assert.match(scene.readout, /count from 1/);
});

test("keys step, wrap and change level", () => {
  const s = { level: 3, bin: 8, view: 0 };
  assert.equal(keyState(P, s, "ArrowRight").bin, 0);
  assert.equal(keyState(P, s, "ArrowDown").bin, 2);
  assert.deepEqual([keyState(P, s, "PageDown").level, keyState(P, s, "PageDown").bin], [2, 3]);
  assert.equal(keyState(P, s, "PageUp").level, 1);
  assert.equal(keyState(P, s, " "), "play");
  assert.equal(keyState(P, s, "q"), null);
  assert.deepEqual(initialState(P, { level: 2, bin: 9, view: "mean" }),
    { level: 2, bin: 3, view: 1, pinned: false });
  assert.equal(clampBin(2, -4), 0);
});

test("text is at least 12 px at 390 px and at 900 px; titles wrap on a phone", () => {
  for (const width of [358, 900]) {
    const scene = layout(P, { level: 3, bin: 0, view: 0 }, { labels: L, width });
    assert.ok(smallestText(scene, width) >= 12 - 1e-9, `${smallestText(scene, width)} at ${width}`);
  }
  assert.deepEqual(wrap("a bb ccc dddd", 3, 3), ["a bb", "ccc", "dddd"]);
  assert.deepEqual(wrap("빈 빈 빈", 2.5, 3), ["빈", "빈", "빈"]);  // Hangul: one em a glyph
});

test("a bin step changes the current outline and the title, not the images", () => {
  const a = walk(layout(P, { level: 3, bin: 0, view: 0 }, { labels: L, width: 900 }).items);
  const b = walk(layout(P, { level: 3, bin: 1, view: 0 }, { labels: L, width: 900 }).items);
  const byKey = (items, k) => items.filter((i) => i.key === k).map((i) => i.attrs);
  assert.deepEqual(byKey(a, "image"), byKey(b, "image"));
  assert.notDeepEqual(byKey(a, "current"), byKey(b, "current"));
});
