"""pyramidviz/web/history.js and lang.js: the pure parts, run in node (no browser)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from pyramidviz.bundle import WEB_DIR

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="needs node")
BASE = "http://host/"


def _call(module: str, expr: str):
    """Evaluate ``expr`` with the module's exports as ``m``; return it as JSON."""
    uri = (WEB_DIR / module).as_uri()
    script = f"import('{uri}').then(m => console.log(JSON.stringify({expr})))"
    out = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30,
                         check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize(("here", "target", "change"), [
    ("aspp?a=1", "/aspp?a=2", False), ("aspp", "/compare", True), ("", "/?lang=x", False),
    ("spp?x=1", "/aspp?x=1", True),
])
def test_a_page_change_is_a_change_of_path(here, target, change):
    assert _call("history.js", f"m.isPageChange('{BASE}{here}', '{target}')") is change


@pytest.mark.parametrize(("now", "was", "stripped"), [
    ("aspp?lang=en", "aspp?lang=en&aspp_os=8", True),  # what a page change leaves
    ("aspp?lang=en", "aspp?lang=en", False),  # nothing dropped
    ("aspp?lang=ko", "aspp?lang=en&aspp_os=8", False),  # a value changed
    ("aspp?lang=en", "spp?lang=en&spp_src=stage4", False),  # another page
])
def test_stripped_urls_keep_a_subset_of_the_same_values(now, was, stripped):
    assert _call("history.js", f"m.isStripped('{BASE}{now}', '{BASE}{was}')") is stripped


def test_the_entry_left_keeps_the_url_of_the_click_else_the_latest_fuller_one():
    here, full = f"{BASE}aspp?lang=en", f"{BASE}aspp?lang=en&aspp_os=8&aspp_tap=stage4"
    partial = f"{BASE}aspp?lang=en&aspp_cell=3,4"  # a view's write after Streamlit's strip
    assert _call("history.js", f"m.urlToKeep('{here}', '{full}', [])") == full
    assert _call("history.js", f"m.urlToKeep('{here}', null, ['{full}', '{partial}'])") \
        == partial
    assert _call("history.js", f"m.urlToKeep('{here}', '{BASE}spp?x=1', ['{here}'])") is None


def test_one_entry_per_page_in_a_fake_window():
    """Same-page pushes replace the entry; a page change keeps the clicked URL behind it."""
    expr = """(() => {
      const entries = ['http://host/aspp?lang=en&aspp_os=8'];
      let at = 0;
      const win = {
        location: { get href() { return entries[at]; }, origin: 'http://host' },
        history: {
          state: null,
          pushState(s, t, u) {
            entries.splice(at + 1); entries.push(new URL(u, entries[at]).href); at += 1;
          },
          replaceState(s, t, u) { entries[at] = new URL(u, entries[at]).href; },
        },
        addEventListener() {}, document: { addEventListener() {} },
      };
      const first = m.keepOneEntryPerPage(win), again = m.keepOneEntryPerPage(win);
      win.history.pushState({}, '', '/aspp?lang=en');      // Streamlit's strip
      win.history.pushState({}, '', '/compare?lang=en');   // the page change
      win.history.pushState({}, '', '/compare?lang=en&cmp_os=8');  // a write on Compare
      return { first, again, entries };
    })()"""
    result = _call("history.js", expr)
    assert result["first"] is True and result["again"] is False
    assert result["entries"] == [f"{BASE}aspp?lang=en&aspp_os=8", f"{BASE}compare?lang=en&cmp_os=8"]


def test_apply_lang_sets_the_root_language():
    expr = """(() => {
      const attrs = { lang: 'en' };
      const doc = { documentElement: { getAttribute: (k) => attrs[k],
                                       setAttribute: (k, v) => { attrs[k] = v; } } };
      return [m.applyLang(doc, 'ko'), m.applyLang(doc, ''), attrs.lang];
    })()"""
    assert _call("lang.js", expr) == ["ko", "ko", "ko"]
