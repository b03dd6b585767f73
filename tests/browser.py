"""Helpers for the real-browser tests: wait for a Streamlit run, read errors off the page."""

from __future__ import annotations

import time

APP = "[data-testid=stApp]"


def wait_idle(page, *, timeout: float = 90.0, settle: float = 0.4) -> None:
    """Wait until the app is connected, its script has finished, and no skeleton is left."""
    deadline = time.monotonic() + timeout
    calm_since = None
    while time.monotonic() < deadline:
        app = page.locator(APP)
        ready = (
            app.count() == 1
            and app.get_attribute("data-test-connection-state") == "CONNECTED"
            and app.get_attribute("data-test-script-state") == "notRunning"
            and page.locator("[data-testid=stSkeleton]").count() == 0
        )
        if ready:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= settle:
                return
        else:
            calm_since = None
        time.sleep(0.1)
    raise TimeoutError("the Streamlit app did not finish its run in time")


def exceptions_on_screen(page) -> list[str]:
    """Texts of every exception box the page shows (empty when there is none)."""
    return [box.inner_text() for box in page.locator("[data-testid=stException]").all()]


def open_page(page, url: str) -> None:
    """Go to ``url`` and wait for the run to finish, failing on any exception on screen."""
    page.goto(url)
    wait_idle(page)
    errors = exceptions_on_screen(page)
    assert not errors, errors


class Frames:
    """Websocket frames the server sends to a page, counted through the DevTools protocol
    (Playwright's own websocket events miss Streamlit's frames)."""

    def __init__(self, page) -> None:
        self.count = 0
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", self._seen)

    def _seen(self, _event) -> None:
        self.count += 1
