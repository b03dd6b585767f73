"""Helpers for the real-browser tests: wait for a Streamlit run, read errors off the page."""

from __future__ import annotations

import time
from pathlib import Path

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


def settle(page, done, *, timeout: float = 90.0) -> bool:
    """Wait for a finished run after which ``done(page)`` holds; False if none comes in time.

    A run that ends is not always the run one waits for: an upload first travels over HTTP
    and only then starts a rerun, and replacing a file runs the script twice. On a busy machine
    the quiet gap between can outlast ``wait_idle``'s settle time.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait_idle(page, timeout=max(1.0, deadline - time.monotonic()))
        if done(page):
            return True
        time.sleep(0.2)
    return False


def upload(page, files, done, *, scope: str = "body", timeout: float = 90.0) -> bool:
    """Put ``files`` into the file uploader inside ``scope`` and wait until ``done(page)``.

    A file already in that uploader is removed first (and that run awaited), so a state left
    by the previous file cannot pass for the answer to this one. Returns whether ``done``
    came true in time.
    """
    root = page.locator(scope)
    delete = root.get_by_test_id("stFileChipDeleteBtn")
    if delete.count():
        delete.first.click()
        settle(page, lambda p: root.get_by_test_id("stFileChip").count() == 0, timeout=timeout)
    root.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files)
    return settle(page, done, timeout=timeout)


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


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
"""WCAG 2.1 levels A and AA: the rules the app is held to."""


def axe_violations(page, *, impacts: tuple[str, ...] = ("serious", "critical")
                   ) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on ``page`` at these impacts.

    Each is ``{"id", "impact", "help", "nodes": [{"target", "summary"}]}``; axe looks into open
    shadow roots, so the browser views are audited with the page.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))
            .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => ({target: n.target.flat().join(' '),
                                        summary: n.failureSummary}))}))""",
        list(AXE_TAGS))
    return [v for v in found if v["impact"] in impacts]


def axe_report(violations: list[dict]) -> str:
    """One line per violation and node, for an assertion message."""
    return "\n".join(f"{v['id']} ({v['impact']}): {n['target']}: {n['summary']}"
                     for v in violations for n in v["nodes"])
