"""The built wheel is a complete library: every subpackage and its data, usable from anywhere.

Builds the wheel from this checkout (no network: ``--no-build-isolation``), installs it into
a fresh target directory without dependencies (those come from the test environment), then
runs every ```python block of README and imports every module from a directory outside the
repository, with the checkout kept off ``sys.path``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True, timeout=300,
                   cwd=out)
    (path,) = out.glob("pyramidviz-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    return target


def _run_outside(code: str, target, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(target)}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_wheel_holds_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pyramidviz").rglob("*.py")}
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pyramidviz" / "data").rglob("*")
            if p.is_file()}
    assert "pyramidviz/figures/base.py" in sources and "pyramidviz/data/samples/chelsea.png" in data
    assert sources <= names, sorted(sources - names)
    assert data <= names, sorted(data - names)
    assert not any(n.startswith(("tests/", "app_pages/", "assets/")) for n in names)


def test_readme_examples_and_every_module_run_from_the_installed_wheel(installed, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    probe = (
        "import importlib, pkgutil, sys, pathlib\n"
        "import pyramidviz\n"
        f"assert pathlib.Path(pyramidviz.__file__).is_relative_to({str(installed)!r})\n"
        "for m in pkgutil.walk_packages(pyramidviz.__path__, 'pyramidviz.'):\n"
        "    importlib.import_module(m.name)\n"
        "from pyramidviz import imagenet, samples\n"
        "assert len(imagenet.class_names()) == 1000\n"
        "assert samples.load_sample('astronaut').shape == (512, 512, 3)\n"
    )
    for code in (probe, *blocks):
        result = _run_outside(code, installed, tmp_path)
        assert result.returncode == 0, f"{code}\n{result.stderr[-3000:]}"


def test_the_tutorial_notebook_runs_headless_on_the_installed_wheel(installed, tmp_path,
                                                                    monkeypatch):
    import nbclient
    import nbformat

    notebook = nbformat.read(ROOT / "examples" / "tutorial.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells)  # stored clean
    monkeypatch.setenv("PYTHONPATH", str(installed))  # the kernel sees the wheel, not the repo
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(out.get("text", "") for cell in notebook.cells
                      for out in cell.get("outputs", ()))
    assert "vector 6720" in printed and "field 851 px" in printed
    assert str(installed) in _run_outside(
        "import pyramidviz; print(pyramidviz.__file__)", installed, tmp_path).stdout
