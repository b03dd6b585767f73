// Helpers for the views' node tests (*.test.js): the payload fixtures pyramidviz built
// (tests/web_fixtures, checked against the builders by tests/test_web_node.py), the app's
// English labels, and a scene walker. Not a view: pyramidviz.bundle never joins it.

import { readFileSync } from "node:fs";

const ROOT = new URL("../../", import.meta.url);

/** A fixture: {"payload": ..., "expected": ...} from tests/web_fixtures/<name>.json. */
export function fixture(name) {
  return JSON.parse(readFileSync(new URL(`tests/web_fixtures/${name}.json`, ROOT), "utf8"));
}

/** The app's labels `section.prefix*` with the prefix dropped (pyramidviz/data/i18n). */
export function labels(section, prefix, lang = "en") {
  const table = JSON.parse(readFileSync(
    new URL(`pyramidviz/data/i18n/${lang}/${section}.json`, ROOT), "utf8"));
  const out = {};
  for (const [k, v] of Object.entries(table)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** Every item of a scene, depth first. */
export function walk(items, out = []) {
  for (const item of items) {
    out.push(item);
    if (item.children) walk(item.children, out);
  }
  return out;
}

/** The smallest text of a scene on screen, in CSS px, drawn `width` px wide. */
export function smallestText(scene, width) {
  const vbw = Number(scene.viewBox.split(" ")[2]);
  const sizes = walk(scene.items).filter((i) => i.tag === "text").map((i) => i.attrs["font-size"]);
  return Math.min(...sizes) * width / vbw;
}

/** A minimal DOM for `paint`: elements with attributes, children and text, and a count of
 * attribute writes. */
export function fakeDocument() {
  const doc = { writes: 0 };
  class El {
    constructor(tag) { this.tag = tag; this.attrs = {}; this.children = []; this.parent = null; this._text = ""; }
    setAttribute(k, v) { doc.writes += 1; this.attrs[k] = v; }
    removeAttribute(k) { doc.writes += 1; delete this.attrs[k]; }
    getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
    appendChild(c) { c.parent = this; this.children.push(c); return c; }
    remove() { if (this.parent) this.parent.children = this.parent.children.filter((c) => c !== this); }
    set textContent(t) { doc.writes += 1; this._text = t; }
    get textContent() { return this._text; }
  }
  doc.createElementNS = (ns, tag) => new El(tag);
  doc.createElement = (tag) => new El(tag);
  doc.root = () => new El("svg");
  return doc;
}
