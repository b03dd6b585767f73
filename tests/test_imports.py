"""The package is a plain library: importing any of it never imports streamlit."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_importing_pyramidviz_never_imports_streamlit():
    code = (
        "import importlib, pkgutil, sys\n"
        "import pyramidviz\n"
        "names = [m.name for m in pkgutil.walk_packages(pyramidviz.__path__, 'pyramidviz.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'\n"
        "print(len(names))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 15  # every module was imported


def test_every_submodule_is_listed_in_the_package():
    import pkgutil

    import pyramidviz

    top = {m.name for m in pkgutil.iter_modules(pyramidviz.__path__)}
    assert top == set(pyramidviz._SUBMODULES), top ^ set(pyramidviz._SUBMODULES)


def test_bare_import_is_light():
    code = "import sys, pyramidviz; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
