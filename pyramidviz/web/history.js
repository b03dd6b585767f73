// One history entry per page visit. Streamlit pushes a new entry whenever the script changes
// the URL's query string (st.query_params, a widget value a page sets), and again, at the old
// page's path, when a page change drops the old page's widget values; so Back from one page
// used to land on the same page, or on the page before stripped of its settings. Installed
// once per tab, by lang.js:
// - a push to the page already shown only updates its entry (replaceState): a page's query
//   string is that page's state, not a place to go back to;
// - a push to another page (a page change) first gives the entry it leaves the URL it had
//   when the student clicked the link (or, failing that, the last fuller URL it had), so
//   Back returns to the page as the student left it.

/** Whether a push from `here` to `target` (URLs) is a page change. */
export function isPageChange(here, target) {
  return new URL(target, here).pathname !== new URL(here).pathname;
}

/** Whether `now` holds only parameters that `was` (the same page) held, fewer of them: what
 * Streamlit leaves of a page's URL when it changes page. */
export function isStripped(now, was) {
  const a = new URL(now), b = new URL(was);
  if (a.pathname !== b.pathname) return false;
  const keys = [...a.searchParams.keys()];
  return [...b.searchParams.keys()].length > keys.length
    && keys.every((k) => b.searchParams.get(k) === a.searchParams.get(k));
}

/** The URL the entry being left should keep: `clicked` (its URL when a link to another page
 * was clicked) if on the same page, else the latest of `seen` that `here` is stripped from. */
export function urlToKeep(here, clicked, seen) {
  if (clicked && new URL(clicked).pathname === new URL(here).pathname && clicked !== here) {
    return clicked;
  }
  for (let i = seen.length - 1; i >= 0; i -= 1) if (isStripped(here, seen[i])) return seen[i];
  return null;
}

/** Wrap `win.history.pushState` as above; returns false when it was already wrapped. */
export function keepOneEntryPerPage(win) {
  const history = win.history;
  if (history.__pvOneEntry) return false;
  const push = history.pushState.bind(history);
  const replace = history.replaceState.bind(history);
  let seen = [win.location.href], clicked = null;
  const note = () => { seen = [...seen.slice(-40), win.location.href]; };
  history.pushState = (state, title, url) => {
    const here = win.location.href;
    if (url == null || !isPageChange(here, url)) {
      replace(state, title, url);
      return note();
    }
    const kept = urlToKeep(here, clicked, seen);
    if (kept) replace(win.history.state, "", kept);
    seen = [];
    clicked = null;
    push(state, title, url);
    return note();
  };
  history.replaceState = (state, title, url) => { replace(state, title, url); note(); };
  win.addEventListener("popstate", () => { seen = [win.location.href]; clicked = null; });
  win.document.addEventListener("click", (e) => {
    const link = e.composedPath().find((el) => el.tagName === "A" && el.href);
    if (link && link.origin === win.location.origin && isPageChange(win.location.href, link.href)) {
      clicked = win.location.href;
    }
  }, true);
  history.__pvOneEntry = true;
  return true;
}
