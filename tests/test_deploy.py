"""Two replicas behind deploy/nginx.conf: sticky sessions, websockets, and losing a replica.

The same topology as deploy/compose.yaml without containers (no Docker daemon here): two
``streamlit run`` replicas on loopback ports, Debian's nginx running the shipped config with
only its upstream servers and listen port rewritten, and a real browser through the proxy.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from browser import exceptions_on_screen, open_page, wait_idle
from conftest import ROOT, _free_port, start_server, wait_healthy

pytestmark = pytest.mark.browser

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SECRET = "pyramidviz-test-secret-shared-by-every-replica"


def nginx_conf(upstreams: list[str], port: int, prefix: Path) -> str:
    """The shipped config, pointed at these servers and this port, logging under prefix."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"        server {u} max_fails=1 fail_timeout=10s;\n" for u in upstreams)
    text, n = re.subn(r"        server app:8501[^\n]*\n", servers, text)
    assert n == 1
    text, n = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert n == 1
    head = (f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\n"
            f"daemon off;\nuser root;\n")
    text = text.replace("http {", f"http {{\n    access_log {prefix}/access.log;\n"
                        f"    client_body_temp_path {prefix}/body;\n"
                        f"    proxy_temp_path {prefix}/proxy;\n", 1)
    return head + text


@pytest.fixture
def cluster():
    if not Path(NGINX).exists():
        pytest.fail("the deployment test needs Debian's nginx: apt-get install nginx")
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": SECRET}
    replicas = {name: start_server(extra_env={**env, "PYRAMIDVIZ_REPLICA": name})
                for name in ("alpha", "beta")}
    prefix = Path(tempfile.mkdtemp(prefix="pyramidviz-nginx-"))
    port = _free_port()
    upstreams = [url.removeprefix("http://") for _, url in replicas.values()]
    (prefix / "nginx.conf").write_text(nginx_conf(upstreams, port, prefix))
    proxy = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    assert wait_healthy(url, 20), "nginx did not answer"
    yield url, replicas, prefix
    proxy.send_signal(signal.SIGQUIT)
    try:
        proxy.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proxy.kill()
    for proc, _ in replicas.values():
        if proc.poll() is None:
            proc.kill()
    shutil.rmtree(prefix, ignore_errors=True)


def replica_of(page) -> str:
    text = page.get_by_test_id("stSidebar").inner_text()
    match = re.search(r"Server replica: (\w+)", text)
    assert match, text[-400:]
    return match.group(1)


def test_a_class_behind_the_proxy_stays_on_one_replica_and_survives_losing_it(
        cluster, browser, sample_png, tmp_path):
    url, replicas, prefix = cluster
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(90_000)
    try:
        open_page(page, url)
        first = replica_of(page)
        # every page and an upload (HTTP, not the websocket) reach the same replica
        photo = tmp_path / "class.png"
        photo.write_bytes(sample_png)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo))
        page.get_by_test_id("stSidebar").get_by_text("Using your upload: class.png").wait_for()
        assert "upload=" in page.url
        for name in ("SPP", "ASPP", "Compare"):
            page.get_by_test_id("stSidebarNavLink").filter(has_text=name).first.click()
            wait_idle(page, timeout=120)
            assert replica_of(page) == first
            assert not exceptions_on_screen(page)
        assert page.locator("[data-testid=pv-compare]").count() == 1
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert "pv_route" in cookies

        # the replica this student is on goes away
        proc, _ = replicas[first]
        proc.kill()
        proc.wait(timeout=10)
        survivor = ({"alpha", "beta"} - {first}).pop()
        # Streamlit's client reconnects through the proxy (nginx moves it to the survivor);
        # the next action runs there in a new session, the settings coming from the URL
        wait_idle(page, timeout=120)
        page.get_by_role("radio", name="8", exact=True).first.click()
        wait_idle(page, timeout=120)
        assert replica_of(page) == survivor
        assert not exceptions_on_screen(page)
        view = page.locator("[data-testid=pv-compare]")
        assert view.count() == 1 and '"stride":8' in view.get_attribute("data-state")
        assert "cmp_os=8" in page.url
        # the upload stayed on the lost replica: the page says so rather than silently
        # showing the sample
        main_text = page.get_by_test_id("stMain").inner_text()
        assert "Your uploaded photo is not on this server" in main_text
        assert "Using the sample" in page.get_by_test_id("stSidebar").inner_text()
        # a new student (no cookie) is served by the survivor too
        other = browser.new_context().new_page()
        open_page(other, url)
        assert replica_of(other) == survivor
        other.context.close()
    finally:
        context.close()
        log = (prefix / "error.log")
        if log.exists():
            print(log.read_text()[-2000:])
