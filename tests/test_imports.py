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


def _imports_of(path, modules: set[str]) -> set[str]:
    """The ``pyramidviz`` modules a source file imports, at any depth of the file.

    ``from pyramidviz.figures import base`` counts as importing ``pyramidviz.figures.base``
    where that is a module, else the package itself.
    """
    import ast

    tree, found = ast.parse(path.read_text(encoding="utf-8")), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pyramidviz")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "pyramidviz":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
    return found


def _module_graph() -> dict[str, set[str]]:
    paths = {}
    for path in sorted((ROOT / "pyramidviz").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return {name: _imports_of(path, set(paths)) - {name} for name, path in paths.items()}


def test_no_module_imports_another_in_a_cycle():
    graph = _module_graph()
    assert graph["pyramidviz.payloads"] and graph["pyramidviz.erf"]  # the parse finds edges
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            if dep not in graph or state.get(dep) == 2:
                continue
            assert state.get(dep) != 1, "import cycle: " + " -> ".join([*stack, name, dep])
            visit(dep, [*stack, name])
        state[name] = 2

    for name in graph:
        if name not in state:
            visit(name, [])


def test_no_module_hides_a_re_export_behind_getattr():
    offenders = [path.name for path in (ROOT / "pyramidviz").rglob("*.py")
                 if "def __getattr__" in path.read_text(encoding="utf-8")
                 and path.name != "__init__.py"]
    assert offenders == []


TORCH_FREE = ("pyramidviz.bins", "pyramidviz.sizes", "pyramidviz.atrous", "pyramidviz.receptive",
              "pyramidviz.compare", "pyramidviz.papers", "pyramidviz.style", "pyramidviz.images",
              "pyramidviz.payloads", "pyramidviz.figures.base", "pyramidviz.figures.spp_sizes",
              "pyramidviz.figures.spp_rules", "pyramidviz.figures.spp_spec",
              "pyramidviz.figures.compare", "pyramidviz.figures.aspp_dilation",
              "pyramidviz.figures.aspp_panels", "ui")
"""The geometry core, the figures, the payload module and ui: none of them needs a tensor."""


def test_the_geometry_core_and_homes_modules_load_without_torch():
    code = ("import importlib, sys\n"
            f"for name in {TORCH_FREE!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'torch' not in sys.modules, name + ' imported torch'\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_home_renders_without_importing_torch():
    """A whole run of app.py on Home (sidebar, sample photo, opening picture): no torch."""
    code = ("import sys\n"
            "from streamlit.testing.v1 import AppTest\n"
            "at = AppTest.from_file('app.py', default_timeout=120)\n"
            "at.run()\n"
            "assert not at.exception, [e.message for e in at.exception]\n"
            "assert at.get('plotly_chart'), 'the opening picture is missing'\n"
            "print('torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.strip() == "False", result.stderr[-2000:]
