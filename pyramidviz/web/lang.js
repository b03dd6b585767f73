// Page language: sets <html lang> to the language the app shows, on every page (app.py mounts
// this from the sidebar on every run, whether or not the page mounts a view). Chromium then
// applies `:lang(ko) { word-break: keep-all }` (Korean wraps between words, not inside them),
// and a screen reader picks the voice for the language.
// It also installs history.js's one-entry-per-page rule, once per browser tab.
// Contract (browser tests): document.documentElement.lang is data.lang after each run, and
// the mount's element carries data-testid=pv-lang with data-lang.

import { keepOneEntryPerPage } from "./history.js";

/** Set `doc`'s root language to `lang` ("en", "ko"); return the language now set. */
export function applyLang(doc, lang) {
  const root = doc.documentElement;
  if (lang && root.getAttribute("lang") !== lang) root.setAttribute("lang", lang);
  return root.getAttribute("lang");
}

export default function (component) {
  const { parentElement, data } = component;
  let mark = parentElement.querySelector("[data-testid=pv-lang]");
  if (!mark) {
    mark = document.createElement("span");
    mark.setAttribute("data-testid", "pv-lang");
    mark.hidden = true;
    parentElement.appendChild(mark);
  }
  mark.setAttribute("data-lang", applyLang(document, data.lang));
  keepOneEntryPerPage(window);
}
