"""The package is a plain library: importing any of it never imports streamlit."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT

MODULES = ["pyramidviz", "pyramidviz.spp", "pyramidviz.receptive", "pyramidviz.aspp",
           "pyramidviz.backbones", "pyramidviz.erf", "pyramidviz.images", "pyramidviz.device",
           "pyramidviz.i18n", "pyramidviz.figures"]


def test_importing_pyramidviz_never_imports_streamlit():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "import pkgutil, pyramidviz.figures as f\n"
        "for info in pkgutil.iter_modules(f.__path__):\n"
        "    importlib.import_module('pyramidviz.figures.' + info.name)\n"
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_bare_import_is_light():
    code = "import sys, pyramidviz; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
