"""Helpers for the AppTest suites: open a page of the real app (router, sidebar and all)."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

import ui

TIMEOUT = 240
"""AppTest's default of 3 s is shorter than importing torch and loading the backbone."""


PINNED = {"img": "chelsea", "spp_src": "stage7", "aspp_tap": "stage7"}
"""The photo and stages most suites' numbers were derived for (chelsea: 451 x 300 px, stage7
sees 851 px, a 19 x 29 map at output stride 16). The app's own defaults (astronaut, stage4)
are tested with ``pinned=False``."""


def open_page(name: str, /, *, pinned: bool = True, **params: str) -> AppTest:
    """Run app.py with these URL parameters, then switch to page ``name`` (home stays).

    With ``pinned`` the :data:`PINNED` settings come first (``params`` override them).
    """
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    for key, value in ({**PINNED, **params} if pinned else params).items():
        at.query_params[key] = value
    at.run()
    if name != "home":
        at.switch_page(ui.page_path(name)).run()
    return at


def figures(at: AppTest) -> list[dict]:
    """Every Plotly figure on screen, as the JSON spec Streamlit sends."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def view_data(at: AppTest, key: str) -> dict:
    """The data a browser view was mounted with (payload, labels, state), by its key."""
    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f"-{key}"):
            return json.loads(element.proto.json)
    raise KeyError(f"no view with key {key!r} on the page")
