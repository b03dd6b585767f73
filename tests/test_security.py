"""Security invariants of the whole tree, checked from the source (see docs/security.md)."""

from __future__ import annotations

import ast
import tomllib

from conftest import ROOT

APP_CODE = [ROOT / "app.py", ROOT / "ui.py", *sorted((ROOT / "app_pages").glob("*.py")),
            *sorted((ROOT / "pyramidviz").rglob("*.py"))]
NETWORK_MODULES = {"urllib", "requests", "http", "socket", "httpx", "aiohttp", "ftplib"}


def _calls(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(func: ast.expr) -> str:
    return ast.unparse(func)


def test_every_torch_load_is_weights_only():
    loads = [(path, call) for path in APP_CODE for call in _calls(path)
             if _name(call.func) in ("torch.load", "load") and "torch" in path.read_text()]
    torch_loads = [(p, c) for p, c in loads if _name(c.func) == "torch.load"]
    assert torch_loads, "the backbone's weights are loaded with torch.load somewhere"
    for path, call in torch_loads:
        flags = {kw.arg: kw.value for kw in call.keywords}
        assert "weights_only" in flags, path
        assert isinstance(flags["weights_only"], ast.Constant) and flags["weights_only"].value


def test_nothing_is_unpickled_and_no_html_is_unsafe():
    for path in APP_CODE:
        for call in _calls(path):
            name = _name(call.func)
            assert name not in ("pickle.load", "pickle.loads", "eval", "exec"), (path, name)
            for keyword in call.keywords:
                if keyword.arg in ("unsafe_allow_html", "unsafe_allow_javascript"):
                    assert isinstance(keyword.value, ast.Constant) and not keyword.value.value
            if name == "st.html":  # only our own constant stylesheet
                assert all(isinstance(arg, ast.Name) and arg.id.isupper() for arg in call.args)


def test_no_network_client_is_imported():
    for path in APP_CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in NETWORK_MODULES, (path, name)


def test_server_config_caps_uploads_and_keeps_xsrf_on():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 50
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"


def test_browser_views_never_parse_markup_or_reach_the_network():
    """The views draw numbers and our own labels: text goes in with textContent, and no view
    fetches anything (the payload arrives with the page)."""
    sources = sorted((ROOT / "pyramidviz" / "web").glob("*.js"))
    assert {p.stem for p in sources} >= {"common", "spp_bins", "taps", "kernel", "gridding"}
    banned = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
              "new Function", "fetch(", "XMLHttpRequest", "WebSocket", "import(", "http://",
              "https://")
    for path in sources:
        text = path.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', "")
        found = [word for word in banned if word in text]  # (the SVG namespace is no URL)
        assert not found, (path.name, found)
