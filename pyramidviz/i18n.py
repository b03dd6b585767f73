"""String tables for the app's two languages (English and Korean).

The tables are package data, so the app and the library's exported deck
(:mod:`pyramidviz.deck`) read the same words; nothing here imports streamlit. Numbers in the
tables come from :func:`pyramidviz.papers.facts`.

Every string the app shows lives in ``pyramidviz/data/i18n/<lang>/<section>.json``; one file
per page (``common``, ``home``, ``spp``, ``aspp``, ``compare``) keeps the tables easy to
review. Strings may hold ``str.format`` placeholders such as ``{n}``; both languages must use
the same keys and the same placeholders, which :func:`table_problems` checks. Numbers the code
knows (:func:`pyramidviz.papers.facts`: ``{fc6}``, ``{sppnet_bins}`` ...) are placeholders too,
filled here, so no table types them; ``glossary.json`` beside the language folders holds the
one Korean term per concept that every Korean string uses.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pyramidviz.papers import facts

LANGUAGES = ("en", "ko")
"""Supported language codes, the first is the fallback."""

LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
"""Each language's name in that language (what the switch shows)."""

I18N_DIR = Path(__file__).resolve().parent / "data" / "i18n"
GLOSSARY = I18N_DIR / "glossary.json"
"""One Korean term per concept (with its English term), see :func:`load_glossary`."""


@cache
def load_table(lang: str, *, root: Path = I18N_DIR) -> Mapping[str, str]:
    """Load every string of one language, merged over its section files.

    Parameters
    ----------
    lang : str
        A code from :data:`LANGUAGES`.
    root : Path, optional
        Folder holding one sub-folder per language.

    Returns
    -------
    Mapping of str to str
        Read-only (every session's thread shares it). Keys are ``"<section>.<key>"``,
        e.g. ``"spp.title"``.

    Raises
    ------
    ValueError
        If ``lang`` is not supported.

    Examples
    --------
    >>> load_table("en")["common.app_title"]
    'pyramidviz'
    """
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {lang!r}")
    table: dict[str, str] = {}
    for path in sorted((root / lang).glob("*.json")):
        section = json.loads(path.read_text(encoding="utf-8"))
        table.update({f"{path.stem}.{key}": value for key, value in section.items()})
    return MappingProxyType(table)


def placeholders(text: str) -> frozenset[str]:
    """The ``str.format`` field names used in ``text``.

    Examples
    --------
    >>> sorted(placeholders("{c} x {bins} = {n:,}"))
    ['bins', 'c', 'n']
    """
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def table_problems(*, root: Path = I18N_DIR) -> list[str]:
    """Differences between the language tables: missing keys and mismatched placeholders.

    Returns
    -------
    list of str
        One readable line per problem; empty when the tables agree.
    """
    tables = {lang: load_table.__wrapped__(lang, root=root) for lang in LANGUAGES}
    base_lang, base = LANGUAGES[0], tables[LANGUAGES[0]]
    problems = []
    for lang, table in tables.items():
        for key in sorted(base.keys() - table.keys()):
            problems.append(f"{lang}: missing {key}")
        for key in sorted(table.keys() - base.keys()):
            problems.append(f"{lang}: extra {key} (not in {base_lang})")
        for key in sorted(base.keys() & table.keys()):
            if placeholders(base[key]) != placeholders(table[key]):
                problems.append(f"{lang}: placeholders of {key} differ from {base_lang}")
    return problems


def fill_facts(text: str) -> str:
    """Fill the placeholders of ``text`` that name a :func:`~pyramidviz.papers.facts` entry;
    leave the others (``{r}``, ``{valid}`` ...) for the caller or a browser view to fill.

    Examples
    --------
    >>> fill_facts("fc6: {n:,} × {fc6:,}")
    'fc6: {n:,} × 4,096'
    """
    known, out = facts(), []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        if name in known and not conversion:
            out.append(format(known[name], spec))
        else:
            out.append("{" + name + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else "") + "}")
    return "".join(out)


def translate(lang: str, key: str, /, **values: object) -> str:
    """Look up ``key`` in ``lang`` (falling back to English) and fill its placeholders.

    Placeholders naming a fact of :func:`pyramidviz.papers.facts` are always filled; a
    missing key returns the key itself, so a gap shows up on screen instead of crashing.

    Examples
    --------
    >>> translate("en", "common.vector_length", c=256, bins=21, n=5376)
    '256 × 21 = 5,376'
    """
    text = load_table(lang).get(key) or load_table(LANGUAGES[0]).get(key, key)
    if values:
        return text.format(**{**facts(), **values})
    return fill_facts(text)


@cache
def load_glossary(path: Path = GLOSSARY) -> Mapping[str, Mapping[str, object]]:
    """The Korean glossary: ``{concept: {"en": term, "ko": term, "variants": [...]}}``.

    ``variants`` are words that must not stand for the concept in Korean text (the test
    in ``tests/test_i18n.py`` fails on them); ``contexts``, where given, are the only
    phrases in which the Korean term may appear.

    Examples
    --------
    >>> load_glossary()["rate"]["ko"]
    '팽창률'
    """
    entries = json.loads(path.read_text(encoding="utf-8"))
    return MappingProxyType({name: MappingProxyType(entry) for name, entry in entries.items()
                             if not name.startswith("_")})
