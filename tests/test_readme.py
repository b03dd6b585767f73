"""README keeps its promises: the two commands, the CI script, and code examples that run."""

from __future__ import annotations

import re

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
RUN_APP = "pip install -r requirements.txt && streamlit run app.py"
RUN_TESTS = "pip install -r requirements-dev.txt && python -m pytest"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_command_as_written():
    assert RUN_APP in README and RUN_TESTS in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert RUN_TESTS in ci
    assert "torch==2.13.0" in ci and "chromium" in ci and "fonts-noto-cjk" in ci
    assert "playwright install" not in ci


def test_requirements_pin_a_cpu_installable_torch_range_and_no_torchvision():
    runtime = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^torch>=[\d.]+,<2\.14$", runtime, re.M)
    assert "torchvision" not in runtime
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_readme_python_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - our own README
