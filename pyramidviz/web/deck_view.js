// The lecture deck's controller: mounts every slide once, then changes slides locally (no
// server, no rerun), listens for the clicker's keys on the window, writes ?slide=N with
// history.replaceState, blanks (B), goes full screen (F) and drives the presenter window (P).
// Contract (browser tests): [data-testid=pv-deck] data-state = {"slide": n, "of": N}.

import { EDITABLE, keyAction, moved, slideParam, stateText, presenterState, clock }
  from "./deck_layout.js";
import { buildSlide, fitCaptions } from "./deck_draw.js";

function writeSlide(slide) {
  try {
    const url = new URL(window.location.href);
    if (url.searchParams.get("slide") === String(slide)) return;
    url.searchParams.set("slide", String(slide));
    window.history.replaceState(window.history.state, "", url.toString());
  } catch (e) { /* a page from disk or a sandbox may refuse: the deck keeps working */ }
}

function editableTarget(event) {
  const target = event.composedPath ? event.composedPath()[0] : event.target;
  return Boolean(target && target.closest && target.closest(EDITABLE));
}

class Deck {
  constructor(root, css) {
    this.root = root;
    this.css = css || "";
    this.slide = 1;
    this.payload = null;
    this.presenter = null;
    this.stage = root.querySelector(".pv-deck-stage");
    this.blank = root.querySelector(".pv-deck-blank");
    this.onKey = (e) => this.key(e, false);
    this.onResize = () => this.fit();
    window.addEventListener("keydown", this.onKey);
    window.addEventListener("resize", this.onResize);
    window.addEventListener("beforeprint", () => this.stage.querySelectorAll(".pv-deck-row")
      .forEach((row) => row.style.removeProperty("--cap")));
  }

  load(payload) {
    const first = this.payload === null;
    this.payload = payload;
    const count = payload.slides.length;
    this.stage.replaceChildren(...payload.slides.map((_, i) => buildSlide(document, payload, i)));
    this.root.setAttribute("lang", payload.lang);
    this.root.setAttribute("aria-label", payload.labels.deck_label);
    this.root.querySelectorAll("[data-label]").forEach((b) => {
      b.textContent = payload.labels[b.dataset.label];
    });
    const asked = first ? slideParam(window.location.search, count) : null;
    this.show(asked || Math.min(this.slide, count));
    if (this.presenter && !this.presenter.closed) this.drawPresenter(true);
  }

  show(slide) {
    const count = this.payload.slides.length;
    this.slide = Math.min(Math.max(slide, 1), count);
    for (const section of this.stage.children) {
      section.hidden = section.dataset.slide !== String(this.slide);
    }
    this.fit();
    this.root.setAttribute("data-state", stateText(this.slide, count));
    const counter = this.root.querySelector(".pv-deck-counter");
    if (counter) counter.textContent = presenterState(this.payload, this.slide).counter;
    writeSlide(this.slide);
    if (this.presenter && !this.presenter.closed) this.drawPresenter(false);
  }

  fit() {
    const shown = this.stage.querySelector(".pv-deck-slide:not([hidden])");
    if (shown) fitCaptions(shown);
  }

  key(event, fromPresenter) {
    if (!this.root.isConnected) { this.destroy(); return; }
    if (!this.payload || event.defaultPrevented) return;
    if (!fromPresenter && editableTarget(event)) return;
    const action = keyAction(event.key, event);
    if (!action) return;
    event.preventDefault();
    if (event.repeat && action.act) return;
    this.act(action);
  }

  act(action) {
    if (action.act === "blank") { this.setBlank(!this.root.classList.contains("pv-deck-blanked")); return; }
    if (action.act === "fullscreen") { this.fullscreen(); return; }
    if (action.act === "presenter") { this.openPresenter(); return; }
    this.setBlank(false);
    this.show(moved(this.slide, action, this.payload.slides.length));
  }

  setBlank(on) {
    this.root.classList.toggle("pv-deck-blanked", on);
    this.blank.hidden = !on;
  }

  fullscreen() {
    try {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (this.root.requestFullscreen) this.root.requestFullscreen().catch(() => {});
    } catch (e) { /* refused: stay as is */ }
  }

  openPresenter() {
    if (this.presenter && !this.presenter.closed) { this.presenter.focus(); return; }
    const win = window.open("", "", "popup,width=1280,height=800");
    if (!win) return;
    const lang = this.payload.lang;
    const doc = win.document;  // about:blank, same origin: built with DOM calls, no markup
    doc.documentElement.lang = lang;
    const head = doc.head || doc.documentElement.appendChild(doc.createElement("head"));
    const body = doc.body || doc.documentElement.appendChild(doc.createElement("body"));
    head.replaceChildren(tree(doc, ["meta", { charset: "utf-8" }]), tree(doc, ["title", {}]),
      tree(doc, ["style", {}]));
    head.querySelector("style").textContent = this.css;
    body.className = "pv-deck-presenter-body";
    win.addEventListener("keydown", (e) => this.key(e, true));
    this.presenter = win;
    this.started = Date.now();
    this.drawPresenter(true);
    clearInterval(this.ticker);
    this.ticker = setInterval(() => {
      if (!this.presenter || this.presenter.closed) { clearInterval(this.ticker); return; }
      const t = this.presenter.document.querySelector(".pv-presenter-clock");
      if (t) t.textContent = clock((Date.now() - this.started) / 1000);
    }, 1000);
  }

  drawPresenter(rebuild) {
    const doc = this.presenter.document;
    const labels = this.payload.labels;
    let view = doc.querySelector("[data-testid=pv-presenter]");
    if (rebuild || !view) {
      doc.title = labels.presenter_title;
      doc.documentElement.lang = this.payload.lang;
      view = doc.createElement("main");
      view.className = "pv-presenter pv-deck";
      view.setAttribute("data-testid", "pv-presenter");
      view.setAttribute("aria-label", labels.presenter_title);
      view.replaceChildren(...PRESENTER.map((spec) => tree(doc, spec)));
      doc.body.replaceChildren(view);
      view.querySelector(".pv-presenter-h").textContent = labels.presenter_title;
      view.querySelector(".pv-presenter-tl").textContent = labels.timer;
      view.querySelector(".pv-l-now").textContent = labels.this_slide;
      view.querySelector(".pv-l-next").textContent = labels.next_slide;
      view.querySelector(".pv-l-say").textContent = labels.notes;
      view.querySelector(".pv-l-ask").textContent = labels.ask;
      this.presenterSlides = this.payload.slides.map((_, i) => buildSlide(doc, this.payload, i));
      this.presenterSlides.forEach((s) => {
        s.removeAttribute("aria-roledescription");
        s.querySelectorAll("h1, h2").forEach((h) => {
          const p = doc.createElement("p");
          p.className = h.className;
          p.textContent = h.textContent;
          h.replaceWith(p);
        });
      });
    }
    const state = presenterState(this.payload, this.slide);
    view.setAttribute("data-state", stateText(state.slide, state.count));
    view.querySelector(".pv-presenter-counter").textContent = state.counter;
    view.querySelector(".pv-presenter-say").textContent = state.say;
    view.querySelector(".pv-presenter-ask").textContent = state.ask;
    const now = view.querySelector(".pv-now"), next = view.querySelector(".pv-next");
    now.replaceChildren(this.presenterSlides[state.slide - 1].cloneNode(true));
    fitCaptions(now);
    if (state.next) {
      next.replaceChildren(this.presenterSlides[state.next - 1].cloneNode(true));
      fitCaptions(next);
    }
    else {
      const end = doc.createElement("p");
      end.className = "pv-presenter-end";
      end.textContent = labels.end;
      next.replaceChildren(end);
    }
  }

  destroy() {
    window.removeEventListener("keydown", this.onKey);
    window.removeEventListener("resize", this.onResize);
    clearInterval(this.ticker);
  }
}

/** Build a DOM tree from `[tag, attributes, ...children]` specs (no markup is parsed). */
function tree(doc, [tag, attrs, ...children]) {
  const el = doc.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const child of children) el.append(typeof child === "string" ? child : tree(doc, child));
  return el;
}

const CHROME = [
  ["div", { class: "pv-deck-stage" }], ["div", { class: "pv-deck-blank", hidden: "" }],
  ["div", { class: "pv-deck-bar" },
    ["span", { class: "pv-deck-counter", "aria-live": "polite" }],
    ["button", { type: "button", class: "pv-deck-btn", "data-do": "presenter",
      "data-label": "presenter" }],
    ["button", { type: "button", class: "pv-deck-btn", "data-do": "fullscreen",
      "data-label": "fullscreen" }]],
];

const PRESENTER = [
  ["header", { class: "pv-presenter-head" }, ["h1", { class: "pv-presenter-h" }],
    ["span", { class: "pv-presenter-counter" }],
    ["span", { class: "pv-presenter-time" }, ["span", { class: "pv-presenter-tl" }], " ",
      ["span", { class: "pv-presenter-clock" }, "0:00"]]],
  ["section", { class: "pv-presenter-now" }, ["h2", { class: "pv-presenter-label pv-l-now" }],
    ["div", { class: "pv-deck-stage pv-presenter-stage pv-now" }]],
  ["section", { class: "pv-presenter-next" }, ["h2", { class: "pv-presenter-label pv-l-next" }],
    ["div", { class: "pv-deck-stage pv-presenter-stage pv-next" }]],
  ["section", { class: "pv-presenter-notes" }, ["h2", { class: "pv-presenter-label pv-l-say" }],
    ["p", { class: "pv-presenter-say" }], ["h2", { class: "pv-presenter-label pv-l-ask" }],
    ["p", { class: "pv-presenter-ask" }]],
];

/** Mount (or refresh) the deck inside `container` with `payload`; returns the deck. */
export function mount(container, payload, options = {}) {
  let root = container.querySelector("[data-testid=pv-deck]");
  if (!root) {
    root = document.createElement("div");
    root.className = "pv-deck" + (options.file ? " pv-deck-file-root" : "");
    root.setAttribute("data-testid", "pv-deck");
    root.setAttribute("role", "region");
    root.replaceChildren(...CHROME.map((spec) => tree(document, spec)));
    container.appendChild(root);
    root.__deck = new Deck(root, options.css);
    // A click on a slide must not move the focus (the page's main area would draw a focus
    // frame across the slide after the next key); the deck's own buttons still take it.
    // A click elsewhere on the deck hands the keys back to it: a sidebar input loses focus.
    root.addEventListener("mousedown", (e) => {
      if (e.target.closest && e.target.closest("button")) return;
      e.preventDefault();
      const active = document.activeElement;
      const ours = active && (root.contains(active)
        || (active.shadowRoot && active.shadowRoot.contains(root)));
      if (active && active !== document.body && !ours && active.blur) active.blur();
    });
    root.querySelectorAll("[data-do]").forEach((b) => b.addEventListener("click", (e) => {
      e.currentTarget.blur();
      root.__deck.act({ act: e.currentTarget.dataset.do });
    }));
  }
  const deck = root.__deck;
  if (options.css) deck.css = options.css;
  if (deck.token !== options.token || options.token === undefined) {
    deck.token = options.token;
    deck.load(payload);
  }
  return deck;
}
