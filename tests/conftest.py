"""Shared fixtures: a clean Streamlit data cache per test, a live server and a real browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _clear_streamlit_data_cache():
    """AppTest caches are process-wide; start every test from an empty data cache."""
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
    yield


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout: float) -> bool:
    """Poll ``url/_stcore/health`` (a replica, or a proxy in front of some) until it says ok."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return True
        except OSError:
            time.sleep(0.25)
    return False


def start_server(*, extra_env: dict[str, str] | None = None, root: Path = ROOT
                 ) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run app.py`` on a free loopback port and wait until it is healthy.

    ``root`` is the checkout to serve (a benchmark serves an older one beside this one).
    """
    port = _free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(root / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    env = {**os.environ, **(extra_env or {})}
    log = tempfile.NamedTemporaryFile(prefix="pyramidviz-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log.name  # the server's own log, for diagnosing a failed browser test
    url = f"http://127.0.0.1:{port}"
    if wait_healthy(url, 60):
        return proc, url
    proc.kill()
    raise RuntimeError("streamlit server did not become healthy within 60 s")


@pytest.fixture(scope="session")
def server_url():
    """One live app server for the browser tests of this session."""
    proc, url = start_server()
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (never ``playwright install``)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian chromium at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page at the projector size (1280 x 800)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


@pytest.fixture(scope="session")
def sample_png() -> bytes:
    """A small 96 x 64 PNG photo-like gradient, for upload tests."""
    import io

    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:64, 0:96]
    rgb = np.stack([x * 2, y * 3, (x + y) % 256], axis=-1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()
