"""The one join step for the browser views: sibling ES modules joined into one module.

The views (``pyramidviz/web/*.js``) are plain ES modules that import each other by relative
path, so ``node --test`` can import them as they are. A page cannot: Streamlit loads a
component's inline ``js=`` from a ``blob:`` URL, where ``./common.js`` resolves to nothing,
and an exported deck is one file opened from disk. :func:`bundle` therefore joins an entry
module and everything it imports into one module text: each imported module becomes a
function scope that returns its exports, in dependency order, and each ``import`` becomes a
destructuring of that scope's result. Nothing is minified or renamed, so a stack trace in
the browser still names the functions of the source.

The modules keep to a small form, checked here: ``import { a, b as c } from "./x.js";``
(relative, sibling files), and ``export function`` / ``export const`` / ``export class``
declarations; only the entry may have an ``export default``. Anything else is a
:class:`BundleError` naming the file and the line, so a module that would break in the page
fails in the tests first.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = ["WEB_DIR", "BundleError", "bundle", "stylesheet"]

WEB_DIR = Path(__file__).resolve().parent / "web"
"""The views' ES modules and their one stylesheet (package data)."""

_IMPORT = re.compile(r"^import\s*\{([^}]*)\}\s*from\s*[\"']\./([\w-]+\.js)[\"'];?[ \t]*$", re.M)
_ANY_IMPORT = re.compile(r"^\s*import\b(?!\s*\()", re.M)
_EXPORT = re.compile(r"^export\s+(?:async\s+)?(function\*?|const|let|class)\s+(\w+)", re.M)
_DEFAULT = re.compile(r"^export\s+default\s+", re.M)
_OTHER_EXPORT = re.compile(r"^\s*export\b", re.M)


class BundleError(ValueError):
    """A module outside the form :func:`bundle` joins (the message names file and line)."""


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _imports(name: str, text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(module file, [(exported name, local name), ...]), ...]`` of one module."""
    found = []
    for match in _IMPORT.finditer(text):
        pairs = []
        for item in filter(None, (part.strip() for part in match.group(1).split(","))):
            parts = item.split()
            if len(parts) == 1 and parts[0].isidentifier():
                pairs.append((parts[0], parts[0]))
            elif len(parts) == 3 and parts[1] == "as" and parts[0].isidentifier() \
                    and parts[2].isidentifier():
                pairs.append((parts[0], parts[2]))
            else:
                raise BundleError(f"{name}:{_line(text, match.start())}: cannot read "
                                  f"import item {item!r}")
        found.append((match.group(2), pairs))
    plain = _IMPORT.sub("", text)
    stray = _ANY_IMPORT.search(plain)
    if stray:
        raise BundleError(f"{name}:{_line(plain, stray.start())}: only "
                          "'import { a, b as c } from \"./sibling.js\";' can be joined")
    return found


def _module_scope(name: str, text: str, order: dict[str, str]) -> tuple[str, str]:
    """``(variable, code)``: the module as a function scope returning its exports."""
    body, exported = _body(name, text, order, entry=False)
    var = order[name]
    returns = ", ".join(exported)
    return var, (f"// ---- {name}\nconst {var} = (() => {{\n{body.rstrip()}\n"
                 f"return {{ {returns} }};\n}})();\n")


def _body(name: str, text: str, order: dict[str, str], *, entry: bool) -> tuple[str, list[str]]:
    """The module's text with imports as destructurings and ``export`` keywords dropped."""
    def replace_import(match: re.Match) -> str:
        dep = match.group(2)
        items = ", ".join(a if a == b else f"{a}: {b}" for a, b in _imports(name, match.group(0))
                          [0][1])
        return f"const {{ {items} }} = {order[dep]};"

    exported = [m.group(2) for m in _EXPORT.finditer(text)]
    body = _IMPORT.sub(replace_import, text)
    body = _EXPORT.sub(lambda m: m.group(0).removeprefix("export").lstrip(), body)
    if not entry and _DEFAULT.search(body):
        raise BundleError(f"{name}: only the entry module may have an 'export default'")
    rest = _OTHER_EXPORT.search(_DEFAULT.sub("", body))
    if rest:
        raise BundleError(f"{name}:{_line(body, rest.start())}: only 'export function', "
                          "'export const' and 'export class' declarations can be joined")
    return body, exported


@functools.cache
def _bundle(entry: str, web_dir: Path) -> str:
    texts: dict[str, str] = {}
    ordered: list[str] = []

    def visit(name: str, stack: tuple[str, ...]) -> None:
        if name in stack:
            raise BundleError("import cycle: " + " -> ".join((*stack, name)))
        if name in texts:
            return
        path = web_dir / name
        if not path.is_file():
            raise BundleError(f"{stack[-1] if stack else 'entry'}: no module {name!r} "
                              f"in {web_dir}")
        texts[name] = path.read_text(encoding="utf-8")
        for dep, _pairs in _imports(name, texts[name]):
            visit(dep, (*stack, name))
        ordered.append(name)

    visit(entry, ())
    order = {name: "__pv_" + re.sub(r"\W", "_", name.removesuffix(".js")) for name in ordered}
    parts = [f"// pyramidviz.bundle: {entry} and the modules it imports, joined.\n"]
    for name in ordered[:-1]:
        parts.append(_module_scope(name, texts[name], order)[1])
    body, _exported = _body(entry, texts[entry], order, entry=True)
    parts.append(f"// ---- {entry}\n{body}")
    return "\n".join(parts)


def bundle(entry: str, *, web_dir: Path | None = None) -> str:
    """One ES module: ``entry`` (a file in ``web_dir``) with every module it imports.

    Parameters
    ----------
    entry : str
        File name of the entry module, e.g. ``"spp_bins.js"``. Its ``export default``
        (the view's mount function) stays the bundle's default export.
    web_dir : Path, optional
        Where the modules are; :data:`WEB_DIR` by default.

    Returns
    -------
    str
        The joined module. Each imported module runs once, before the modules that import
        it, inside its own function scope, so two modules may use the same private names.

    Raises
    ------
    BundleError
        For a missing module, an import cycle, or a module outside the joinable form.

    Examples
    --------
    >>> text = bundle("spp_bins.js")
    >>> "const __pv_common = (() => {" in text, text.count("export default")
    (True, 1)
    """
    return _bundle(entry, (web_dir or WEB_DIR).resolve())


def stylesheet(name: str = "views.css", *, web_dir: Path | None = None) -> str:
    """The text of one of the views' stylesheets.

    Examples
    --------
    >>> ".pv-view" in stylesheet()
    True
    """
    return ((web_dir or WEB_DIR) / name).read_text(encoding="utf-8")
