import { test } from "node:test";
import assert from "node:assert/strict";
import { layout, keyStep } from "./kernel.js";
import { fixture, labels, smallestText } from "./testing.mjs";

const base = labels("aspp", "k_");
const L = { ...base, readout: base.readout1 };
const { payload: P, expected } = fixture("kernel");

test("each output position reads pyramidviz's sliding taps", () => {
  for (const e of expected) {
    const k = e.position[0] * P.out + e.position[1];
    const s = JSON.parse(layout(P, { k }, { labels: L, width: 700 }).data.state);
    assert.deepEqual(s.position, e.position);
    assert.deepEqual(s.taps, e.taps);
  }
});

test("the readout counts outputs from 1 and the real taps from the table", () => {
  const scene = layout(P, { k: 0 }, { labels: L, width: 700 });
  const real = expected[0].taps.filter((t) => t[2]).length;
  assert.match(scene.readout, new RegExp(`^Output \\(row 1, column 1\\) of ${P.out} × ${P.out}, counting from 1: ${real} of 9`));
  assert.match(scene.readout, /spans 5 × 5 cells/);
});

test("keys step and wrap; text stays readable on a phone", () => {
  assert.equal(keyStep("ArrowLeft", 0, 3), 8);
  assert.equal(keyStep("ArrowDown", 7, 3), 1);
  assert.equal(keyStep("End", 0, 3), 8);
  assert.equal(keyStep(" ", 0, 3), "play");
  for (const width of [358, 700]) {
    assert.ok(smallestText(layout(P, { k: 4 }, { labels: L, width }), width) >= 12 - 1e-9);
  }
});
