import { test } from "node:test";
import assert from "node:assert/strict";
import { keyAction, moved, slideParam, stateText, presenterState, clock, chartLayout,
  strokeWidth, fillTemplate } from "./deck_layout.js";

test("the clicker's keys step and jump, clamped to the deck", () => {
  assert.equal(moved(3, keyAction("PageDown"), 11), 4);
  assert.equal(moved(3, keyAction("PageUp"), 11), 2);
  assert.equal(moved(3, keyAction(" "), 11), 4);
  assert.equal(moved(11, keyAction("ArrowRight"), 11), 11);
  assert.equal(moved(1, keyAction("ArrowLeft"), 11), 1);
  assert.equal(moved(5, keyAction("Home"), 11), 1);
  assert.equal(moved(5, keyAction("End"), 11), 11);
  let s = 1;
  for (let i = 0; i < 10; i++) s = moved(s, keyAction("PageDown"), 11);
  assert.equal(s, 11);  // ten presses, ten slides
});

test("keys with a modifier and unknown keys are left alone; B, F, P are deck actions", () => {
  assert.equal(keyAction("ArrowRight", { ctrlKey: true }), null);
  assert.equal(keyAction("r"), null);
  assert.deepEqual(keyAction("b"), { act: "blank" });
  assert.deepEqual(keyAction("F"), { act: "fullscreen" });
  assert.deepEqual(keyAction("p"), { act: "presenter" });
});

test("?slide=N opens slide N; anything else opens none", () => {
  assert.equal(slideParam("?slide=4&lang=ko", 11), 4);
  for (const bad of ["?slide=0", "?slide=12", "?slide=3.0", "?slide=%3Cb%3E", "?slide=", "",
    "?slide=-1", "?slide=1e3"]) assert.equal(slideParam(bad, 11), null, bad);
});

test("data-state is JSON {slide, of}", () => {
  assert.deepEqual(JSON.parse(stateText(2, 11)), { slide: 2, of: 11 });
});

test("the presenter view shows this slide's notes and the next slide", () => {
  const payload = { labels: { counter: "{i} / {n}" }, slides: [
    { title: "A", notes: { say: "sa", ask: "qa" } }, { title: "B", notes: { say: "sb", ask: "qb" } }] };
  assert.deepEqual(presenterState(payload, 1),
    { slide: 1, count: 2, title: "A", say: "sa", ask: "qa", next: 2, counter: "1 / 2" });
  assert.equal(presenterState(payload, 2).next, null);
});

test("clock, fill and stroke widths", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(75.9), "1:15");
  assert.equal(clock(3725), "1:02:05");
  assert.equal(fillTemplate("{i} / {n}", { i: 3, n: 11 }), "3 / 11");
  assert.equal(strokeWidth({ view: [0, 0, 1600, 1200] }, 5), 8);
  assert.equal(strokeWidth({ view: [0, 0, 4, 4] }, 30), 0.12);
});

test("the chart maps rates and shares to percent of the plot", () => {
  const c = chartLayout({ x: [1, 2, 3], series: [{ colour: "#000", dash: false, label: "l",
    y: [1, 0.5, 0] }], x_ticks: [1, 3], y_ticks: [0, 1], y_tick_labels: ["0 %", "100 %"],
    marks: [2], mark_labels: ["rate 2"] });
  assert.equal(c.series[0].points, "0.000,0.000 50.000,50.000 100.000,100.000");
  assert.deepEqual(c.xTicks, [{ at: 0, text: "1" }, { at: 100, text: "3" }]);
  assert.deepEqual(c.yTicks, [{ at: 100, text: "0 %" }, { at: 0, text: "100 %" }]);
  assert.deepEqual(c.marks, [{ at: 50, text: "rate 2" }]);
});
