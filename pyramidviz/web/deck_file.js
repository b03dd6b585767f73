// The lecture deck as one HTML file opened from disk (pyramidviz.deck.export_html): the
// payload sits in the page as JSON, the stylesheet in its <style>.

import { mount } from "./deck_view.js";

const data = JSON.parse(document.getElementById("pv-deck-data").textContent);
mount(document.getElementById("pv-deck-root"), data,
  { css: document.querySelector("style").textContent, file: true, token: "file" });
