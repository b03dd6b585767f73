"""Real browser: every file of the bad-input corpus goes through the real upload widget.

Each upload ends as the image in use (sidebar says so) or as a clear message, never as an
exception on screen, and the same session keeps working afterwards. File names with markup
are shown as plain text. The server's peak memory is reported.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import ui
from pyramidviz.images import ImageLoadError, load_image

from badinputs import bad_inputs, markup_filenames
from browser import exceptions_on_screen, upload, wait_idle
from conftest import start_server

pytestmark = pytest.mark.browser

EXTENSIONS = {"jpeg": ".jpg", "mpo": ".jpg", "gif": ".gif", "webp": ".webp", "tiff": ".tif",
              "bmp": ".bmp"}
UPLOAD_INPUT = "stFileUploaderDropzoneInput"


def _file_name(case: str) -> str:
    prefix = case.split("_")[0]
    return case + EXTENSIONS.get(prefix, ".png")


def _app_outcome(data: bytes) -> str | None:
    """What the app must do with ``data``: None (use it) or the error code it must explain."""
    try:
        load_image(data, min_side=ui.MIN_SIDE)
    except ImageLoadError as error:
        return error.code
    return None


@pytest.fixture(scope="module")
def own_server():
    proc, url = start_server()
    yield proc, url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


SIDEBAR_ALERT = "[data-testid=stSidebar] [data-testid=stAlert]"


def _upload(page, name: str, data: bytes, mime: str = "application/octet-stream") -> bool:
    """Upload ``data`` as ``name``; True once the sidebar says it is in use or shows an error."""
    sidebar = page.get_by_test_id("stSidebar")
    return upload(page, [{"name": name, "mimeType": mime, "buffer": data}],
                  lambda p: "Using your upload" in sidebar.inner_text()
                  or p.locator(SIDEBAR_ALERT).count() > 0, scope="[data-testid=stSidebar]")


def test_every_bad_input_through_the_upload_widget(own_server, browser):
    proc, url = own_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{url}/")
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    failures = []
    for case, (data, _) in bad_inputs().items():
        expected = _app_outcome(data)
        answered = _upload(page, _file_name(case), data)
        text = sidebar.inner_text()
        errors = exceptions_on_screen(page)
        shown_error = page.locator(SIDEBAR_ALERT).count()
        if not answered:
            failures.append(f"{case}: the app never answered the upload")
        elif errors:
            failures.append(f"{case}: exception on screen {errors}")
        elif expected is None and "Using your upload" not in text:
            failures.append(f"{case}: expected the upload to be used; sidebar: {text[:200]}")
        elif expected is not None and (not shown_error or "Using the sample" not in text):
            failures.append(f"{case}: expected a clear message ({expected})")
        if not page.locator("h1").first.inner_text().startswith("Multi-scale"):
            failures.append(f"{case}: the page stopped working")
    print(f"server peak memory after the corpus: {_peak_rss_mib(proc.pid):.0f} MiB")
    context.close()
    assert not failures, "\n".join(failures)
    assert _peak_rss_mib(proc.pid) < 3072


def test_markup_file_names_are_shown_as_plain_text(own_server, browser, sample_png):
    _, url = own_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{url}/")
    wait_idle(page)
    for name in markup_filenames():
        if not name.strip(" .") or "/" in name or "\\" in name:
            continue  # browsers refuse such names for uploads
        answered = _upload(page, name if name.endswith((".png", ".jpg")) else name + ".png",
                           sample_png, "image/png")
        assert answered, name
        assert not exceptions_on_screen(page), name
        caption = page.get_by_test_id("stSidebar").inner_text()
        assert "Using your upload" in caption, name
    assert page.locator("[data-testid=stSidebar] img[src='x']").count() == 0
    assert page.locator("[data-testid=stSidebar] script").count() == 0
    assert page.locator("[data-testid=stSidebar] strong").count() == 0  # no **bold** rendered
    assert dialogs == []
    context.close()
