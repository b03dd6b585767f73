"""Fuzzing: hypothesis-generated URL parameters and widget values on every page.

Whatever a link or a student does with the controls, no exception may reach the screen. The
widgets are discovered from the page itself, so new controls are fuzzed without editing this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

import ui

from apptest import open_page

pytestmark = pytest.mark.slow  # AppTest runs the page script: not in the fast lane

PAGES = list(ui.PAGE_ICONS)
KINDS = ("selectbox", "radio", "segmented_control", "slider", "number_input", "text_input",
         "toggle", "checkbox", "select_slider")
SKIP_KEYS = {"upload"}  # file uploads are fuzzed by the bad-input suites


@dataclass(frozen=True)
class Control:
    kind: str
    key: str
    spec: dict[str, Any]


def _open(page: str, params: dict[str, str] | None = None) -> AppTest:
    return open_page(page, **(params or {}))


def _controls(at: AppTest) -> list[Control]:
    found = []
    for kind in KINDS:
        for widget in getattr(at, kind):
            key = getattr(widget, "key", None)
            if not key or key in SKIP_KEYS or key.startswith("$$"):
                continue
            spec = {}
            for attr in ("options", "min", "max", "min_value", "max_value", "step"):
                if hasattr(widget, attr):
                    try:
                        spec[attr] = getattr(widget, attr)
                    except Exception:  # noqa: BLE001 - some attributes raise when unset
                        pass
            found.append(Control(kind, key, spec))
    return found


_INVENTORY: dict[str, list[Control]] = {}


def inventory(page: str) -> list[Control]:
    if page not in _INVENTORY:
        at = _open(page)
        assert not at.exception, at.exception
        _INVENTORY[page] = _controls(at)
    return _INVENTORY[page]


GARBAGE = st.one_of(
    st.text(max_size=12), st.integers(-10**9, 10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "-1", "0", "1e309", "NaN", "<script>", "1,2,,3", "0,0,0",
                     "999999", "한국어", "English", "true", "false", "4-2-1", "16"]),
)


def _valid_value(control: Control) -> st.SearchStrategy:
    spec = control.spec
    options = spec.get("options")
    if options:
        return st.sampled_from([str(o) for o in options])
    lo, hi = spec.get("min", spec.get("min_value")), spec.get("max", spec.get("max_value"))
    if isinstance(lo, int | float) and isinstance(hi, int | float) and math.isfinite(lo + hi):
        step = spec.get("step", 1)
        if all(float(v).is_integer() for v in (lo, hi, step or 1)):
            return st.integers(int(lo), int(hi)).map(str)
        return st.floats(lo, hi).map(lambda v: f"{v:.3g}")
    if control.kind in ("toggle", "checkbox"):
        return st.sampled_from(["true", "false"])
    return GARBAGE


@st.composite
def url_params(draw, page: str) -> dict[str, str]:
    params = {}
    for control in inventory(page) + [Control("radio", "lang", {}), Control("x", "img", {})]:
        if draw(st.booleans()):
            params[control.key] = draw(st.one_of(_valid_value(control), GARBAGE))
    if draw(st.booleans()):
        params[draw(st.text(min_size=1, max_size=8))] = draw(GARBAGE)
    return params


FUZZ = settings(max_examples=6, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("page", PAGES)
def test_url_parameters_never_crash_a_page(page):
    @FUZZ
    @given(url_params(page))
    def check(params):
        at = _open(page, params)
        assert not at.exception, (params, [e.value for e in at.exception])
        assert at.title, params

    check()


def _set(at: AppTest, control: Control, value: str) -> None:
    widget = getattr(at, control.kind)(key=control.key)
    if control.kind in ("toggle", "checkbox"):
        widget.set_value(value == "true")
    elif control.kind in ("slider", "number_input"):
        number = float(value)
        lo = getattr(widget, "min", None)
        hi = getattr(widget, "max", None)
        if lo is not None and hi is not None:  # the range now on screen
            number = min(max(number, float(lo)), float(hi))
        widget.set_value(int(number) if number.is_integer() else number)
    elif control.kind in ("selectbox", "radio", "segmented_control", "select_slider"):
        options = list(widget.options)  # the options now on screen (they can change)
        match = [o for o in options if str(o) == value]
        widget.set_value(match[0] if match else options[len(value) % len(options)])
    else:
        widget.set_value(value)


@st.composite
def widget_moves(draw, page: str) -> list[tuple[Control, str]]:
    controls = [c for c in inventory(page) if c.key not in ("lang", "present", "img")]
    if not controls:
        return []
    moves = []
    for _ in range(draw(st.integers(1, 4))):
        control = draw(st.sampled_from(controls))
        strategy = GARBAGE if control.kind in ("text_input",) else _valid_value(control)
        moves.append((control, draw(strategy)))
    return moves


@pytest.mark.parametrize("page", [p for p in PAGES if p != "home"])
def test_widget_values_never_crash_a_page(page):
    @FUZZ
    @given(widget_moves(page))
    def check(moves):
        at = _open(page)
        for control, value in moves:
            try:
                widget = getattr(at, control.kind)(key=control.key)
            except KeyError:
                continue  # the control is not on screen in this state
            del widget
            _set(at, control, value)
            at.run()
            assert not at.exception, (moves, [e.value for e in at.exception])

    check()


HOSTILE = ["inf", "-inf", "nan", "1e309", "99999999999999999999", "-5", "١٢", "٣,٤",
           "<img src=x onerror=alert(1)>", "", "1_000", "+1"]


def _bound_keys(page: str) -> list[str]:
    """Every URL key a page reads: its bound widgets, the views' keys, language and image."""
    return sorted({c.key for c in inventory(page)} | set(ui.VIEW_URL_KEYS)
                  | {"lang", "present", "img", ui.UPLOAD_PARAM})


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_for_every_bound_key_never_crash_a_page(page, value):
    """The link ?aspp_col=inf once crashed inside Streamlit's own number input: every key the
    page reads gets each hostile value at once, and the page must still render."""
    at = _open(page, {key: value for key in _bound_keys(page)})
    assert not at.exception, (value, [e.value for e in at.exception])
    assert at.title


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e309", "١٢"])
def test_a_hostile_slider_value_is_dropped_with_a_notice(value):
    at = _open("aspp", {"aspp_an_i": value})
    assert not at.exception
    assert any("aspp_an_i" in w.value for w in at.warning)
    assert at.slider(key="aspp_an_i").value == 9
