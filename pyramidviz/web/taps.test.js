import { test } from "node:test";
import assert from "node:assert/strict";
import { layout, branchesAt, cellAt, keyMove, sppBinAt } from "./taps.js";
import { fixture, labels, smallestText, walk } from "./testing.mjs";

const ASPP = { ...labels("aspp", "v_"), readout: labels("aspp", "v_").readout1 };
const COMPARE = { ...labels("compare", "v_"), readout: labels("compare", "v_").readout1 };

for (const [name, L] of [["taps", ASPP], ["compare", COMPARE]]) {
  const { payload: P, expected, nearest } = fixture(name);

  test(`${name}: the taps drawn at a cell are pyramidviz's branch taps`, () => {
    for (const e of expected) {
      const scene = layout(P, { cell: e.cell }, { labels: L, width: 900 });
      assert.deepEqual(JSON.parse(scene.data.taps), e.taps);
      const state = JSON.parse(scene.data.state);
      assert.deepEqual(state.cell, e.cell);
      assert.deepEqual(state.valid, e.valid);
      assert.deepEqual(state.boxes, e.boxes);
      if (P.spp) {
        assert.equal(state.spp_bin, e.spp_bin);
        assert.deepEqual(state.spp_boxes, e.spp_boxes);
        assert.equal(sppBinAt(P, e.cell).index, e.spp_bin);
      }
    }
  });

  test(`${name}: the cell under a pixel is FieldInfo.nearest_cell`, () => {
    for (const n of nearest) assert.deepEqual(cellAt(P, n.x, n.y), n.cell);
  });

  test(`${name}: the readout counts rows and columns from 1 and prints table numbers`, () => {
    const e = expected[1];  // cell (2, 3)
    const scene = layout(P, { cell: e.cell }, { labels: L, width: 900 });
    assert.match(scene.readout, /row 3, column 4\) of the 6 × 8 map, counting from 1/);
    assert.match(scene.readout, new RegExp(`x = ${e.centre[1]}, y = ${e.centre[0]}`));
    if (!P.spp) {
      assert.match(scene.readout, /rate 2: taps 16 px apart, 9 of 9 on the map · rate 4: taps 32 px apart, 2 of 9/);
      assert.match(scene.readout, /neighbouring cells are 8 px apart/);
    }
  });

  test(`${name}: text is at least 12 px on a 390 px phone and at 900 px`, () => {
    for (const width of [358, 900]) {
      const scene = layout(P, { cell: [2, 3] }, { labels: L, width });
      assert.ok(smallestText(scene, width) >= 12 - 1e-9, `${smallestText(scene, width)} at ${width}`);
    }
  });

  test(`${name}: layout is pure and every item key is unique among its siblings`, () => {
    const state = { cell: [1, 6] }, frozen = JSON.stringify(state);
    const a = layout(P, state, { labels: L, width: 900 }), b = layout(P, state, { labels: L, width: 900 });
    assert.deepEqual(a, b);
    assert.equal(JSON.stringify(state), frozen);
    const check = (items) => {
      assert.equal(new Set(items.map((i) => i.key)).size, items.length);
      items.forEach((i) => i.children && check(i.children));
    };
    check(a.items);
    assert.ok(a.picture.length > 0);
  });

  test(`${name}: a move changes the taps, not the photo`, () => {
    const a = walk(layout(P, { cell: [0, 0] }, { labels: L, width: 900 }).items);
    const b = walk(layout(P, { cell: [0, 1] }, { labels: L, width: 900 }).items);
    const photo = (items) => items.filter((i) => i.tag === "image").map((i) => i.attrs);
    assert.deepEqual(photo(a), photo(b));
    const cell = (items) => items.find((i) => i.key === "cell").attrs.cx;
    assert.notEqual(cell(a), cell(b));
  });
}

test("keys move the cell; the caller clamps to the map", () => {
  assert.deepEqual(keyMove("ArrowUp", [2, 3], [6, 8]), [1, 3]);
  assert.deepEqual(keyMove("End", [2, 3], [6, 8]), [2, 7]);
  assert.deepEqual(keyMove("PageDown", [2, 3], [6, 8]), [5, 3]);
  assert.equal(keyMove("x", [2, 3], [6, 8]), null);
});

test("branchesAt reads the count table: 1x1 always 1 valid", () => {
  const { payload: P } = fixture("taps");
  const [one, r1] = branchesAt(P, [0, 0]);
  assert.equal(one.valid, 1);
  assert.equal(r1.valid, 4);  // the corner: 2 rows x 2 columns on the map
});
