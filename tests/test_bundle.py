"""pyramidviz.bundle: sibling ES modules joined into one, checked by running the result in node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pyramidviz import bundle

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="needs node")


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _run_default(text: str, tmp_path: Path, arg: str = "null") -> object:
    """Import the joined module in node, call its default export with ``arg``, return JSON."""
    module = tmp_path / "joined.mjs"
    module.write_text(text, encoding="utf-8")
    script = (f"import('{module.as_uri()}').then(m => "
              f"console.log(JSON.stringify(m.default({arg}))))")
    out = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30,
                         check=True)
    return json.loads(out.stdout)


@needs_node
def test_imports_resolve_in_dependency_order_and_private_names_do_not_clash(tmp_path):
    web = _write(tmp_path, {
        "a.js": 'const secret = 1;\nexport const A = 10 + secret;\n'
                'export function twice(x) { return 2 * x; }\n',
        "b.js": 'import { A, twice as double } from "./a.js";\nconst secret = 2;\n'
                'export const B = double(A) + secret;\n',
        "main.js": 'import { B } from "./b.js";\nimport { A } from "./a.js";\n'
                   'const secret = 3;\n'
                   'export default function (x) { return [A, B, secret, x]; }\n',
    })
    text = bundle.bundle("main.js", web_dir=web)
    assert text.index("// ---- a.js") < text.index("// ---- b.js") < text.index("// ---- main.js")
    assert text.count("const __pv_a = ") == 1  # imported twice, joined once
    assert _run_default(text, tmp_path, "7") == [11, 24, 3, 7]


@pytest.mark.parametrize(("files", "message"), [
    ({"main.js": 'import { x } from "./gone.js";\nexport default function () {}\n'},
     "no module 'gone.js'"),
    ({"main.js": 'import { x } from "./a.js";\nexport default function () {}\n',
      "a.js": 'import { y } from "./main.js";\nexport const x = 1;\n'},
     "import cycle: main.js -> a.js -> main.js"),
    ({"main.js": 'import { x } from "./a.js";\nexport default function () {}\n',
      "a.js": 'export default 1;\nexport const x = 1;\n'},
     "only the entry module may have an 'export default'"),
    ({"main.js": 'import * as a from "./a.js";\nexport default function () {}\n',
      "a.js": 'export const x = 1;\n'},
     "main.js:1: only 'import { a, b as c }"),
    ({"main.js": 'import { x } from "./a.js";\nexport default function () {}\n',
      "a.js": 'const x = 1;\nexport { x };\n'},
     "a.js:2: only 'export function'"),
    ({"main.js": 'import { x y } from "./a.js";\nexport default function () {}\n',
      "a.js": 'export const x = 1;\n'},
     "cannot read import item 'x y'"),
])
def test_modules_outside_the_joinable_form_are_refused_by_file_and_line(tmp_path, files, message):
    web = _write(tmp_path, files)
    with pytest.raises(bundle.BundleError, match=message.replace("(", r"\(").replace(
            "*", r"\*")):
        bundle.bundle("main.js", web_dir=web)


@needs_node
@pytest.mark.parametrize("entry", sorted(p.name for p in bundle.WEB_DIR.glob("*.js")
                                         if "export default" in p.read_text()
                                         and not p.name.endswith(".test.js")))
def test_every_view_joins_into_a_module_node_can_load(entry, tmp_path):
    text = bundle.bundle(entry)
    module = tmp_path / "view.mjs"
    module.write_text(text, encoding="utf-8")
    script = f"import('{module.as_uri()}').then(m => console.log(typeof m.default))"
    out = subprocess.run([NODE, "-e", script], capture_output=True, text=True, timeout=30,
                         check=True)
    assert out.stdout.strip() == "function"
    assert not any(line.lstrip().startswith("import ") for line in text.splitlines())


def test_each_module_imports_every_sibling_export_it_uses():
    """A name used but not imported is a ReferenceError in the page, never in node's parse."""
    import re

    modules = [p for p in bundle.WEB_DIR.glob("*.js") if not p.name.endswith(".test.js")]
    exports = {p.name: set(re.findall(r"^export\s+(?:async\s+)?(?:function\*?|const|let|class)"
                                      r"\s+(\w+)", p.read_text(), re.M))
               for p in modules}
    for path in modules:
        text = path.read_text()
        imported = set(re.findall(r"\b(\w+)\b", " ".join(
            re.findall(r"^import\s*\{([^}]*)\}", text, re.M))))
        code = re.sub(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`",
                      "", text, flags=re.S)
        for other, names in exports.items():
            if other == path.name:
                continue
            for name in names - imported:
                used = re.search(rf"(?:^|[^\w.]|\.\.\.){name}\s*\(", code)  # a call
                local = re.search(rf"\b(?:function|const|let|var|class)\s+{name}\b"
                                  rf"|^\s*(?:async\s+)?{name}\s*\([^)]*\)\s*\{{", code, re.M)
                assert not (used and not local), f"{path.name} uses {name} of {other} unimported"
