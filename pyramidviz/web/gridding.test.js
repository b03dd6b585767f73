import { test } from "node:test";
import assert from "node:assert/strict";
import { layout, keyLayer } from "./gridding.js";
import { fixture, labels, smallestText } from "./testing.mjs";

const L = labels("aspp", "g_");
const { payload: P, expected } = fixture("gridding");

test("each layer shows pyramidviz's holes per stack", () => {
  for (const e of expected) {
    const s = JSON.parse(layout(P, { layer: e.layer, offset: null }, { labels: L, width: 900 }).data.state);
    assert.equal(s.layer, e.layer);
    assert.deepEqual(s.holes, e.holes);
  }
});

test("a hovered offset is read from the layer's offsets table", () => {
  const scene = layout(P, { layer: 3, offset: [-6, 2], stack: 0 }, { labels: L, width: 900 });
  assert.match(scene.readout, /dy -6, dx 2/);
  assert.deepEqual(P.stacks[0].layers[2].offsets.slice(0, 2), [-6, -5]);
});

test("keys clamp to the layers; text readable on a phone", () => {
  assert.equal(keyLayer("ArrowRight", 3, 3), 3);
  assert.equal(keyLayer("ArrowLeft", 1, 3), 1);
  assert.equal(keyLayer("End", 1, 3), 3);
  for (const width of [358, 900]) {
    assert.ok(smallestText(layout(P, { layer: 2, offset: null }, { labels: L, width }), width) >= 12 - 1e-9);
  }
});
