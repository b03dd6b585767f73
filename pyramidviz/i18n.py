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

Korean particles after a placeholder
------------------------------------
A Korean particle's form depends on the last sound of the word before it (을/를, 은/는, 이/가,
과/와, (으)로), which a table cannot know when a number or a name is filled in. So a Korean
placeholder may end its format spec with a particle pair, consonant form first::

    {n:을/를}   {n:,:을/를}   {name:은/는}   {layer:이/가}   {r:과/와}   {stage:으로/로}
    {os:이나/나}

The spec is ``[format_spec:]pair``: everything before the last ``:`` is an ordinary
``str.format`` spec (``,``, ``.1f`` ...), applied first; :func:`translate` and
:func:`fill_facts` then append the form that fits the formatted text's last sound
(:func:`particle`, :func:`last_sound`). Only the pairs in :data:`PARTICLES` are known, only
Korean tables may use them, and a browser view's strings (:data:`VIEW_KEYS`, filled in
JavaScript) may not: :func:`table_problems` reports each of these.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pyramidviz.papers import facts

PARTICLES = ("을/를", "은/는", "이/가", "과/와", "으로/로", "이나/나")
"""The particle pairs a Korean placeholder may name, consonant form first."""
VIEW_KEYS = re.compile(r"^[a-z]+\.(?:[vgk]_|counter$|keys$)")
"""Keys of strings a browser view fills itself (``ui.labels("aspp.v_", ...)``, ``"aspp.g_"``,
``"aspp.k_"``, the slides' counter): its ``fill`` knows no particle specs."""

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


def _specs(text: str) -> list[tuple[str, str]]:
    """``(name, spec)`` of every placeholder in ``text``, in order."""
    return [(name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name]


def _formats(text: str) -> dict[str, set[str]]:
    """The ``str.format`` spec of each placeholder, particle pair taken off (``{n:,:을/를}``
    formats like ``{n:,}``)."""
    formats: dict[str, set[str]] = {}
    for name, spec in _specs(text):
        head, _, tail = spec.rpartition(":")
        hangul = any("\uac00" <= ch <= "\ud7a3" for ch in tail)  # a pair, known or not
        formats.setdefault(name, set()).add(head if hangul else spec)
    return formats


def table_problems(*, root: Path = I18N_DIR) -> list[str]:
    """Differences between the language tables, and misused particle specs.

    Reports missing or extra keys, placeholder names that differ between languages, number
    formats that differ (the particle pair aside: ``{n:,}`` in English matches
    ``{n:,:을/를}`` in Korean, not ``{n:을/를}``, which would drop the comma), a particle
    spec outside the Korean tables, in a browser view's string (:data:`VIEW_KEYS`: the view fills
    placeholders in JavaScript, which knows no particles), or naming a pair not in
    :data:`PARTICLES`.

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
            elif _formats(base[key]) != _formats(table[key]):
                problems.append(f"{lang}: number formats of {key} differ from {base_lang}")
        for key, text in sorted(table.items()):
            for name, spec in _specs(text):
                tail = spec.rpartition(":")[2]
                if tail not in PARTICLES:
                    if any("\uac00" <= ch <= "\ud7a3" for ch in tail):
                        problems.append(f"{lang}: {key} names an unknown particle pair "
                                        f"{{{name}:{spec}}} (known: {', '.join(PARTICLES)})")
                elif lang != "ko":
                    problems.append(f"{lang}: {key} uses a Korean particle spec {{{name}:{spec}}}")
                elif VIEW_KEYS.match(key):
                    problems.append(f"{lang}: {key} is a view's string (filled in the browser) "
                                    f"but uses a particle spec {{{name}:{spec}}}")
    return problems


# ---------------------------------------------------------------- Korean particles

_DIGIT_SOUNDS = "영일이삼사오육칠팔구"
"""How each digit is read in Sino-Korean (0 영, 1 일, 2 이 ... 9 구)."""
_PLACE_SOUNDS = ((16, "경"), (12, "조"), (8, "억"), (4, "만"), (3, "천"), (2, "백"), (1, "십"))
"""The place word that ends a whole number with that many trailing zeros or more."""
_LETTER_SOUNDS = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 아르 에스 티 유 브이 "
    "더블유 엑스 와이 제트").split(), strict=True))
"""Each Latin letter's Korean name, for acronyms read letter by letter (SPP, ONNX, VGG)."""
_UNIT_SOUNDS = {"px": "픽셀", "%": "퍼센트", "kb": "킬로바이트", "mb": "메가바이트",
                "gb": "기가바이트", "ms": "밀리초", "s": "초", "k": "킬로", "m": "메가",
                "g": "기가", "²": "제곱"}
"""Units read as Korean words when they follow a number ("32 px" is read 32 픽셀)."""
_SILENT = " \t\n)]}>\"'”’」』〉》.,;:!?…"
"""Characters with no sound of their own: skipped to reach the last sound-bearing one."""
_VOWELS = "aeiouy"


def _hangul_final(syllable: str) -> str:
    """``""`` for a Hangul syllable without a final consonant, else ``"ㄹ"`` or ``"C"``."""
    final = (ord(syllable) - 0xAC00) % 28
    return "" if final == 0 else "ㄹ" if final == 8 else "C"


def _number_sound(digits: str) -> str:
    """The last syllable of a number read in Korean: a whole number ends in its place word
    when it ends in zeros (10 십, 300 백, 20,000 만), a decimal in its last digit read alone."""
    if "." in digits:
        return _DIGIT_SOUNDS[int(digits[-1])]
    whole = digits.replace(",", "").lstrip("0") or "0"
    zeros = len(whole) - len(whole.rstrip("0"))
    if whole == "0" or zeros == 0:
        return _DIGIT_SOUNDS[int(whole[-1])]
    return next(word for need, word in _PLACE_SOUNDS if zeros >= need)


def _word_final(word: str) -> str:
    """``""``, ``"ㄹ"`` or ``"C"`` for a Latin word's last sound as Korean writes it."""
    lower = word.lower()
    if word.isupper() or not any(ch in _VOWELS for ch in lower) or len(word) == 1:
        return _hangul_final(_LETTER_SOUNDS[lower[-1]][-1])  # read letter by letter
    if lower.endswith("e") and len(lower) > 2 and lower[-2] not in _VOWELS \
            and lower[-3] in _VOWELS:  # a silent e: time 타임, file 파일, lite 라이트
        return "ㄹ" if lower[-2] == "l" else "C" if lower[-2] in "mn" else ""
    last = lower[-1]
    if last == "l":
        return "ㄹ"
    if last in "mn" or lower.endswith("ng"):
        return "C"  # 맵 넷 타임 라인 링
    if lower.endswith("ck") or (last in "ptkb" and lower[-2] in _VOWELS
                                and (len(lower) < 3 or lower[-3] not in _VOWELS)):
        return "C"  # a short vowel then p, t, k, b: map 맵, net 넷, stack 스택, lab 랩
    return ""  # vowels, r, and the consonants Korean writes with 으: head 헤드, max 맥스


def last_sound(text: str) -> str:
    """The last sound of ``text`` as a Korean reader says it, for choosing a particle.

    Parameters
    ----------
    text : str
        A formatted value: a number, a Korean or Latin word, a range, a name.

    Returns
    -------
    str
        ``""`` when it ends in a vowel, ``"ㄹ"`` when it ends in the consonant ㄹ, ``"C"``
        for any other final consonant (batchim).

    Raises
    ------
    ValueError
        If nothing in ``text`` carries a sound (empty, only symbols).

    Notes
    -----
    Read from the end, skipping spaces, closing brackets, quotes and punctuation:

    - a Hangul syllable: its final consonant;
    - a number: read in Sino-Korean, so a whole number ends in its last non-zero digit
      (1 일, 2 이, 3 삼, 4 사, 5 오, 6 육, 7 칠, 8 팔, 9 구; 0 alone is 영) or, after
      trailing zeros, in its place word (10 십, 100 백, 1,000 천, 10,000 만, 10⁸ 억, 10¹² 조);
      a decimal ends in its last digit read alone (2.50 ... 영); in ``0–32``, ``1/4`` or
      ``resnet50`` only the last number counts;
    - a unit after a number, read as its Korean word: ``px`` 픽셀, ``%`` 퍼센트, ``MB``
      메가바이트, ``KB``/``GB``, ``ms`` 밀리초, ``s`` 초, ``k`` 킬로, ``M`` 메가, ``G`` 기가,
      ``²`` 제곱;
    - Latin letters: a capitalised acronym, a single letter or a word without vowels is
      read letter by letter (SPP 피, ONNX 엑스, L 엘, png 지); any other word by a
      simple English rule: l → ㄹ; m, n, ng → a final; p, t, k, b after one short vowel
      (and ck) → a final (map, net, stack, lab); a silent e after one consonant is
      dropped (time, file, lite); everything else ends in a vowel (r, s, d, g, x, ch ...:
      layer 레이어, head 헤드, max 맥스, batch 배치); after a silent e only l, m and n
      leave a final (lite 라이트, code 코드).

    Limits: English spelling is not sound, so words outside the rule read wrong
    (work 워크, love 러브 and tube 튜브 come out right; type 타입 and bomb 밤 do not); a number's
    reading as native Korean (하나, 둘) or as a year is not handled.

    Examples
    --------
    >>> [last_sound(x) for x in ("1", "2", "10", "1,024", "0–32", "1/4", "resnet50")]
    ['ㄹ', '', 'C', '', '', '', 'C']
    >>> [last_sound(x) for x in ("32 px", "SPP", "stage7", "빈", "열", "(가지)")]
    ['ㄹ', '', 'ㄹ', 'C', 'ㄹ', '']
    """
    end = len(text.rstrip(_SILENT))
    if end == 0:
        raise ValueError(f"no sound to attach a particle to in {text!r}")
    body, last = text[:end], text[end - 1]
    if "\uac00" <= last <= "\ud7a3":
        return _hangul_final(last)
    tail = len(body) - len(body.rstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%²"))
    word, before = body[end - tail:], body[:end - tail]
    if word and before.rstrip(" ")[-1:].isdigit() and word.lower() in _UNIT_SOUNDS:
        return _hangul_final(_UNIT_SOUNDS[word.lower()][-1])
    if word and word.isalpha() and word.isascii():
        return _word_final(word)
    if last.isdigit():
        digits = body[len(body.rstrip("0123456789.,")):].strip(".,")
        return _hangul_final(_number_sound(digits))
    raise ValueError(f"cannot tell the last sound of {text!r}")


def particle(text: str, pair: str) -> str:
    """The form of a Korean particle ``pair`` that follows ``text`` (see :func:`last_sound`).

    Parameters
    ----------
    text : str
        The word or number the particle attaches to.
    pair : str
        One of :data:`PARTICLES`, consonant form first (``"을/를"``).

    Returns
    -------
    str
        The consonant form after a final consonant, the vowel form after a vowel; for
        (으)로 a final ㄹ takes 로 (``"열"`` → 로). When ``text`` has no readable last sound
        (an empty string, a lone symbol) both forms are written, as Korean does: 을(를), (으)로.

    Raises
    ------
    ValueError
        If ``pair`` is not a known pair.

    Examples
    --------
    >>> particle("", "을/를"), particle("−", "으로/로")
    ('을(를)', '(으)로')
    >>> particle("0–32", "을/를"), particle("1/4", "은/는"), particle("resnet50", "을/를")
    ('를', '는', '을')
    >>> particle("열", "으로/로"), particle("칸", "으로/로"), particle("SPP", "과/와")
    ('로', '으로', '와')
    """
    if pair not in PARTICLES:
        raise ValueError(f"particle pair must be one of {PARTICLES}, got {pair!r}")
    after_consonant, after_vowel = pair.split("/")
    try:
        sound = last_sound(text)
    except ValueError:  # nothing readable: the written both-forms convention, 을(를), (으)로
        if after_consonant == "으" + after_vowel:
            return f"(으){after_vowel}"
        return f"{after_consonant}({after_vowel})"
    if sound == "ㄹ" and after_consonant == "으로":
        return after_vowel
    return after_consonant if sound else after_vowel


def split_spec(spec: str) -> tuple[str, str]:
    """``(format_spec, pair)`` of a placeholder's spec; ``pair`` is ``""`` when none.

    Examples
    --------
    >>> split_spec(",:을/를"), split_spec("은/는"), split_spec(",")
    ((',', '을/를'), ('', '은/는'), (',', ''))
    """
    head, _, tail = spec.rpartition(":")
    if tail in PARTICLES:
        return head, tail
    return spec, ""


def format_value(value: object, spec: str) -> str:
    """``format(value, spec)``, then the particle the spec names, if any (:func:`split_spec`).

    Examples
    --------
    >>> format_value(1024, ",:을/를"), format_value(10, "을/를"), format_value(3, "d")
    ('1,024를', '10을', '3')
    """
    spec, pair = split_spec(spec)
    text = format(value, spec)
    return text + particle(text, pair) if pair else text


class _Formatter(string.Formatter):
    """``str.format`` that understands a particle pair at the end of a spec."""

    def format_field(self, value: object, format_spec: str) -> str:
        return format_value(value, format_spec)


_FORMATTER = _Formatter()


def fill(text: str, /, **values: object) -> str:
    """``text.format(**values)``, with particle specs (for a caller that formats a string
    it got from :func:`translate` with its own values, e.g. a figure's label).

    Examples
    --------
    >>> fill("빈 {b}/{n:은/는} 열 {lo}–{hi:을/를} 덮습니다", b=1, n=4, lo=0, hi=32)
    '빈 1/4는 열 0–32를 덮습니다'
    """
    return _FORMATTER.vformat(text, (), values)


def fill_facts(text: str) -> str:
    """Fill the placeholders of ``text`` that name a :func:`~pyramidviz.papers.facts` entry;
    leave the others (``{r}``, ``{valid}`` ...) for the caller or a browser view to fill.

    Examples
    --------
    >>> fill_facts("fc6: {n:,} × {fc6:,}")
    'fc6: {n:,} × 4,096'
    >>> fill_facts("{fc6:,:은/는} {n:이/가}")
    '4,096은 {n:이/가}'
    """
    known, out = facts(), []
    for literal, name, spec, conversion in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        if name in known and not conversion:
            out.append(format_value(known[name], spec))
        else:
            out.append("{" + name + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else "") + "}")
    return "".join(out)


def translate(lang: str, key: str, /, **values: object) -> str:
    """Look up ``key`` in ``lang`` (falling back to English) and fill its placeholders.

    Placeholders naming a fact of :func:`pyramidviz.papers.facts` are always filled; a
    missing key returns the key itself, so a gap shows up on screen instead of crashing.
    A Korean placeholder's particle pair (``{n:을/를}``) is resolved here (:func:`fill`).

    Examples
    --------
    >>> translate("en", "common.vector_length", c=256, bins=21, n=5376)
    '256 × 21 = 5,376'
    """
    text = load_table(lang).get(key) or load_table(LANGUAGES[0]).get(key, key)
    if values:
        return fill(text, **{**facts(), **values})
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
