"""The browser views' own unit tests (``node --test pyramidviz/web/``), run by pytest so CI
runs them; their payload fixtures are what the builders make now; and the views type no
colour or breakpoint of their own (it all comes in the payload's style block)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pyramidviz import bundle

ROOT = Path(__file__).resolve().parents[1]
NODE = shutil.which("node")
VIEWS = ("spp_bins.js", "taps.js", "kernel.js", "gridding.js")
"""The page views this suite checks (the deck's modules have their own tests)."""


@pytest.mark.skipif(NODE is None, reason="needs node")
def test_node_unit_tests_of_every_view_pass():
    out = subprocess.run([NODE, "--test", str(bundle.WEB_DIR) + "/"], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    summary = dict(re.findall(r"^# (pass|fail) (\d+)$", out.stdout, re.M))
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert int(summary["fail"]) == 0 and int(summary["pass"]) >= 30, summary


def test_every_view_has_a_pure_layout_and_node_tests():
    for name in VIEWS:
        text = (bundle.WEB_DIR / name).read_text()
        assert re.search(r"^export function layout\(P, state, ctx\)", text, re.M), name
        assert (bundle.WEB_DIR / name.replace(".js", ".test.js")).is_file(), name


def test_the_node_fixtures_are_what_the_payload_builders_make_now():
    sys.path.insert(0, str(ROOT / "tests" / "web_fixtures"))
    try:
        import make
    finally:
        sys.path.pop(0)
    for name, data in make.fixtures().items():
        stored = (ROOT / "tests" / "web_fixtures" / f"{name}.json").read_text(encoding="utf-8")
        assert stored == make.text(data), f"run python tests/web_fixtures/make.py ({name})"


@pytest.mark.parametrize("name", [*VIEWS, "common.js", "views.css"])
def test_views_type_no_colour_breakpoint_or_formula_of_their_own(name):
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", (bundle.WEB_DIR / name).read_text(), flags=re.S)
    if name.endswith(".js"):
        assert not re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(", text), name  # colours: style
        assert "stride[" not in text and "padding[" not in text, name  # FieldInfo formulas
        assert ".rate *" not in text and "* P.stride" not in text, name  # tap spacing
    assert not re.findall(r"\b6[24]0\b|\b641\b", text), name  # the phone breakpoint: style
    assert "#cc79a7" not in text.lower()
