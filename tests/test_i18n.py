"""String tables: both languages have the same keys and placeholders, and look-ups work."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pyramidviz import i18n
from pyramidviz.papers import facts


def test_tables_have_same_keys_and_placeholders():
    assert i18n.table_problems() == []


ROOT = Path(__file__).resolve().parent.parent
KEY_CALL = re.compile(r"""(?:\b(?:t|explain)\(|\btranslate\([^,()]+,)"""
                      r"""\s*["']([a-z_]+\.[a-z0-9_]+)["']""")


def test_every_key_the_app_asks_for_is_in_the_tables():
    """A literal key typed in a page (``t("spp.title")``, ``ui.explain("aspp.x")``) must exist,
    or the student would read the key itself (``translate`` falls back to it)."""
    en = i18n.load_table("en")
    files = [ROOT / "app.py", ROOT / "ui.py", *sorted((ROOT / "app_pages").glob("*.py"))]
    asked = {(path.name, key) for path in files
             for key in KEY_CALL.findall(path.read_text(encoding="utf-8"))}
    assert len(asked) > 100  # the pattern still finds the calls
    assert sorted((name, key) for name, key in asked if key not in en) == []
    sections = {path.stem for path in (ROOT / "pyramidviz" / "data" / "i18n" / "en").glob("*.json")}
    assert {key.split(".")[0] for key in en} == sections  # one JSON file a section


def test_table_problems_reports_differences(tmp_path):
    for lang, strings in {"en": {"a": "{n} bins", "b": "x"}, "ko": {"a": "{m} 구간"}}.items():
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "s.json").write_text(json.dumps(strings), encoding="utf-8")
    problems = i18n.table_problems(root=tmp_path)
    assert "ko: missing s.b" in problems
    assert "ko: placeholders of s.a differ from en" in problems


def test_translate_fills_placeholders_and_falls_back():
    text = i18n.translate("ko", "common.vector_length", c=320, bins=21, n=6720)
    assert text == "320 × 21 = 6,720"
    assert i18n.translate("ko", "no.such_key") == "no.such_key"
    with pytest.raises(ValueError, match="language"):
        i18n.load_table("fr")


def test_korean_table_is_korean():
    ko = i18n.load_table("ko")
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko["home.intro"])


def test_every_image_error_code_has_a_message_in_both_languages():
    from pyramidviz.images import ERROR_CODES

    for lang in i18n.LANGUAGES:
        table = i18n.load_table(lang)
        missing = [code for code in ERROR_CODES if f"common.err_{code}" not in table]
        assert not missing, (lang, missing)


def test_the_shared_tables_are_read_only() -> None:
    """Every session's thread shares one table per language: nobody may write to it."""
    with pytest.raises(TypeError):
        i18n.load_table("en")["common.app_title"] = "changed"  # type: ignore[index]


# ---------------------------------------------------------------- one Korean vocabulary

CITATIONS = re.compile(r"^home\.paper_")
"""Paper references quote the English titles verbatim."""
GLOSS = re.compile(r"\s?\([^()]*\)")


def _korean_strings(root: Path = i18n.I18N_DIR) -> list[tuple[str, str, str]]:
    """``(file, key, text)`` of every Korean string, files and keys in order, with the
    placeholders taken out (they are filled by code, not read as prose)."""
    rows = []
    for path in sorted((root / "ko").glob("*.json")):
        table = json.loads(path.read_text(encoding="utf-8"))
        for key, text in table.items():
            if not CITATIONS.match(f"{path.stem}.{key}"):
                rows.append((path.stem, key, re.sub(r"\{[^{}]*\}", "", text)))
    return rows


def glossary_problems(rows, glossary) -> list[str]:
    """Every use of a word outside the glossary, and every concept whose first use in a
    file lacks its English term in parentheses."""
    problems, first_seen = [], set()
    for file, key, text in rows:
        bare = GLOSS.sub("", text)  # "스트라이드(stride)": the gloss is no variant
        for concept, entry in glossary.items():
            for variant in entry.get("variants", []):
                for match in re.finditer(variant, bare):
                    problems.append(f"{file}.{key}: “{match.group()}” is not the glossary's "
                                    f"“{entry['ko']}” ({concept})")
            for match in re.finditer(re.escape(entry["ko"]), text):
                contexts = entry.get("contexts")
                if contexts and not any(
                        text.find(c, max(0, match.start() - len(c)), match.end() + len(c)) >= 0
                        for c in contexts):
                    problems.append(f"{file}.{key}: “{entry['ko']}” outside {contexts}")
            if (entry.get("first_use") and (file, concept) not in first_seen
                    and not key.endswith("title")):  # a heading; its first sentence glosses
                match = re.search(re.escape(entry["ko"]), text)
                if match:
                    first_seen.add((file, concept))
                    after = re.match(r"\s?\(([^()]*)\)", text[match.end():])
                    if not after or entry["en"].lower() not in after.group(1).lower():
                        problems.append(f"{file}.{key}: first “{entry['ko']}” of {file} lacks "
                                        f"“({entry['en']})”")
    return problems



def test_korean_uses_one_term_per_concept_and_glosses_it_first():
    problems = glossary_problems(_korean_strings(), i18n.load_glossary())
    assert problems == []


def parallel_problems(en: dict[str, str], ko: dict[str, str], glossary) -> list[str]:
    """Keys whose English names a concept (``en_required``) while the Korean lacks its term."""
    problems = []
    for concept, entry in glossary.items():
        if "en_required" not in entry:
            continue
        required = entry.get("ko_required", re.escape(entry["ko"]))
        for key, text in en.items():
            if re.search(entry["en_required"], text) and key in ko \
                    and not re.search(required, ko[key]):
                problems.append(f"{key}: English says {concept!r}, Korean lacks “{entry['ko']}”")
    return problems


def test_a_concept_named_in_english_has_its_one_korean_term():
    en, ko = (dict(i18n.load_table.__wrapped__(lang)) for lang in ("en", "ko"))
    problems = parallel_problems(en, ko, i18n.load_glossary())
    assert problems == []
    glossary = i18n.load_glossary()
    assert {"stack", "offset", "winning cell", "forward pass", "backward pass", "max pooling",
            "image-level pooling", "feature-map row", "effective stride",
            "uniform"} <= glossary.keys()
    found = parallel_problems({"a": "the winning cell", "b": "gradient offsets", "c": "x"},
                              {"a": "이긴 칸", "b": "오프셋", "c": "x"}, glossary)
    assert found == ["a: English says 'winning cell', Korean lacks “최댓값 칸”"]


def test_new_concepts_reject_their_variants():
    rows = [("p", "a", "특징 지도"), ("p", "b", "최대 풀링"), ("p", "c", "이미지 풀링 가지"),
            ("p", "d", "스택 1, 2, 9"), ("p", "e", "이긴 칸"), ("p", "f", "백본을 거꾸로"),
            ("p", "g", "출력 스트라이드 16 (OS 16)"), ("p", "h", "특징 행 0"),
            ("p", "i", "팽창률을 넓히면"), ("p", "j", "점프 32 px"), ("p", "k", "균일한 평균")]
    problems = glossary_problems(rows, i18n.load_glossary())
    for key in "abcdefghijk":
        assert any(p.startswith(f"p.{key}:") for p in problems), (key, problems)


def test_no_korean_string_uses_a_phrase_to_avoid():
    avoid = json.loads(i18n.GLOSSARY.read_text(encoding="utf-8"))["_avoid"]
    found = [f"{file}.{key}: “{phrase}” ({why})" for file, key, text in _korean_strings()
             for phrase, why in avoid.items() if phrase in text]
    assert found == []


def _depth(text: str) -> int:
    """Deepest nesting of round brackets, outside code spans and floor/ceil formulas."""
    text = re.sub(r"`[^`]*`|[⌊⌈][^⌋⌉]*[⌋⌉]", "", text)
    depth = deepest = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")" and depth > 0)
        deepest = max(deepest, depth)
    return deepest


def test_korean_prose_has_no_nested_parentheses():
    """A gloss inside a parenthesis (“(출력 스트라이드(output stride) 16)”) reads badly:
    the sentence is rewritten so that the gloss stands outside any bracket."""
    nested = [f"{file}.{key}" for file, key, text in _korean_strings() if _depth(text) > 1
              and f"{file}.{key}" not in {"aspp.anim_formula"}]  # a formula, not prose
    assert nested == []
    assert _depth("가지(branch)") == 1 and _depth("값(레벨(level))") == 2


def test_glossary_check_fails_on_variants_and_a_missing_gloss():
    glossary = i18n.load_glossary()
    rows = [("p", "a", "팽창률(rate) 6"), ("p", "b", "비율 6의 가지(branch)"),
            ("p", "c", "4 × 4 구간"), ("p", "d", "피라미드 단계마다"), ("p", "e", "셀 하나, 픽셀"),
            ("p", "f", "stride 32, 아트러스 합성곱")]
    problems = glossary_problems(rows, glossary)
    for word in ("“비율”", "“구간”", "“단계” outside", "“셀”", "“stride”",
                 "first “아트러스” of p lacks"):
        assert any(word in p for p in problems), (word, problems)
    assert not any(p.startswith("p.a:") for p in problems)  # glossed at first use
    assert not any("픽셀" in p for p in problems)  # 픽셀 (pixel) is not 셀


# ---------------------------------------------------------------- numbers come from the code


def forbidden_numbers() -> list[re.Pattern]:
    """Patterns for the digits of every fact the code computes (pyramidviz.papers.facts):
    numbers of three digits or more with or without thousands separators, pyramids and
    rate lists as text, and small counts next to what they count."""
    patterns = []
    for value in facts().values():
        if isinstance(value, str):
            patterns.append(re.compile(rf"(?<![\d,-]){re.escape(value)}(?![\d,-])"))
        elif value >= 100:
            digits = f"{value:,}".replace(",", ",?")
            patterns.append(re.compile(rf"(?<![\d.,]){digits}(?![\d])"))
        else:
            patterns.append(re.compile(
                rf"(?<![\d.,]){value}\s?(?:개 ?)?(?:bins?|빈|classes|클래스|× {value})"))
    return patterns


def digit_problems(tables: dict[str, dict[str, str]]) -> list[str]:
    """Strings (placeholders taken out) that type a number the code computes."""
    patterns = forbidden_numbers()
    problems = []
    for where, table in tables.items():
        for key, text in table.items():
            if CITATIONS.match(key):
                continue
            prose = re.sub(r"\{[^{}]*\}", "", text)
            problems += [f"{where}: {key} types “{m.group()}”"
                         for pattern in patterns for m in pattern.finditer(prose)]
    return problems


def test_no_table_types_a_number_the_code_computes():
    tables = {lang: dict(i18n.load_table.__wrapped__(lang)) for lang in i18n.LANGUAGES}
    assert digit_problems(tables) == []


def test_digit_check_fails_on_typed_facts():
    typed = {"en": {"a": "With 256 channels that is 5,376 numbers.", "b": "fc6: {n:,} × 4096",
                    "c": "the paper also uses 6-3-2-1 (50 bins)", "d": "rates 6, 12, 18",
                    "e": "crop to 224 × 224", "f": "{fc6:,} outputs, 50 % of the mass, 2019"}}
    problems = digit_problems(typed)
    for word in ("“256”", "“5,376”", "“4096”", "“6-3-2-1”", "“50 bins”", "“6, 12, 18”", "“224”"):
        assert any(word in p for p in problems), (word, problems)
    assert not any(": f types" in p for p in problems)


TYPED = {
    "a size": r"(?<![\d.])(?!([13]) ?× ?\1(?!\d))\d+ ?× ?\d+(?!\d)",  # 1 × 1, 3 × 3 are names
    "a list of numbers": r"(?<![\d.])\d+, \d+, \d+",
    "a file size": r"\d+ ?(?:[kMG]B)\b",
    "a measured percentage": r"\d+\.\d+ ?%",
    "an output stride": r"(?i)(?:output stride|출력 스트라이드|(?<![A-Za-z])OS)\s?\d+",
    "a usual output stride": r"(?<![-\w.])(?:8|16|32)(?![\w.]| ?(?:px|×))",
}
"""Numbers that belong to the code (a map size, a rate list, a limit, a paper's figure, an
output stride) typed as digits: each must be a placeholder (issue 24)."""
TYPED_ALLOWED = {
    "spp.custom_help": "e.g. 5, 3, 1: an example of what to type, not a fact",
    "spp.err_empty": "for example 4, 2, 1: an example of what to type",
    "network.spec_help": "pool2 = 2×2 pooling: the spec syntax itself",
}


def typed_problems(table: dict[str, str]) -> list[str]:
    """Each number :data:`TYPED` finds in a string (placeholders taken out)."""
    problems = []
    for key, text in table.items():
        if CITATIONS.match(key) or key in TYPED_ALLOWED:
            continue
        prose = re.sub(r"\{[^{}]*\}", "", text)
        problems += [f"{key} types {what} “{m.group()}”" for what, pattern in TYPED.items()
                     for m in re.finditer(pattern, prose)]
    return problems


def test_no_table_types_a_size_a_list_a_limit_or_an_output_stride():
    for lang in i18n.LANGUAGES:
        table = dict(i18n.load_table.__wrapped__(lang))
        assert typed_problems(table) == [], lang


def test_typed_number_check_fails_on_each_kind():
    found = typed_problems({
        "a": "on a 65 × 65 map", "b": "rates 2, 2, 2", "c": "up to 20 MB", "d": "top-1 75.1 %",
        "e": "output stride 32", "f": "출력 스트라이드 16에서", "g": "reach 16 or 8 instead",
        "h": "a 3 × 3 kernel, a 1×1 branch, VGG-16, 50 % of the mass, 32 px, {n} × {n}"})
    assert sorted({p.split(" ")[0] for p in found}) == list("abcdefg")


def test_fact_placeholders_are_filled_from_the_code():
    from pyramidviz.bins import vector_length
    from pyramidviz.compare import aspp_cost

    text = i18n.translate("en", "home.spp_body")
    assert "{" not in text
    assert f"{vector_length(256, (4, 2, 1)):,}" in text and "6,720" in text
    assert "6-3-2-1 (50 bins)" in text
    ko = i18n.translate("ko", "compare.next_aspp")
    assert f"{aspp_cost(320, (19, 29), (6, 12, 18)).next_layer_parameters:,}" in ko
    # a view's own placeholders stay for the browser to fill
    assert i18n.translate("en", "aspp.v_legend_rate") == "rate {r} ({valid}/{total} on the map)"


# ---------------------------------------------------------------- Korean particles


@pytest.mark.parametrize(("text", "pair", "form"), [
    # hand-checked against how a Korean reader says the number or word
    ("0–32", "을/를", "를"),  # 삼십이: ends in 이, a vowel
    ("1/4", "은/는", "는"),  # ... 사
    ("resnet50", "을/를", "을"),  # 오십: ends in ㅂ
    ("1", "을/를", "을"), ("2", "을/를", "를"), ("3", "을/를", "을"), ("10", "을/를", "을"),
    ("0", "이/가", "이"), ("5", "이/가", "가"), ("6", "이/가", "이"), ("9", "이/가", "가"),
    ("100", "은/는", "은"), ("1,000", "은/는", "은"), ("20,000", "은/는", "은"),
    ("1,024", "을/를", "를"), ("6,720", "을/를", "을"), ("2.5", "과/와", "와"),
    ("7", "으로/로", "로"), ("8", "으로/로", "로"), ("3", "으로/로", "으로"),  # 칠, 팔: ㄹ
    ("16", "으로/로", "으로"), ("12", "으로/로", "로"), ("4-2-1", "으로/로", "로"),
    ("열", "으로/로", "로"), ("칸", "으로/로", "으로"), ("빈", "은/는", "은"),
    ("레벨", "이/가", "이"),
    ("가지", "과/와", "와"), ("stage7", "을/를", "을"), ("stage4", "을/를", "를"),
    ("SPP", "과/와", "와"), ("ASPP", "을/를", "를"), ("ONNX", "을/를", "를"),
    ("VGG-16", "을/를", "을"), ("DeepLab", "은/는", "은"), ("PyTorch", "은/는", "는"),
    ("pool", "으로/로", "로"), ("32 px", "으로/로", "로"), ("75.1 %", "을/를", "를"),
    ("20 MB", "이/가", "가"), ("“resnet50”", "은/는", "은"), ("(2, 2, 2)", "을/를", "를"),
])
def test_particle_follows_the_last_sound(text, pair, form):
    assert i18n.particle(text, pair) == form


def test_particle_specs_fill_in_translate_and_fill_facts():
    assert i18n.fill("빈 {k}/{n:은/는} 열 {a}–{b:을/를}", k=1, n=4, a=0, b=32) \
        == "빈 1/4는 열 0–32를"
    assert i18n.fill("{n:,:을/를} {m:,:을/를}", n=1024, m=6720) == "1,024를 6,720을"
    assert i18n.fill("{net:을/를} 씁니다", net="resnet50") == "resnet50을 씁니다"
    assert i18n.fill_facts("{fc6:,:은/는} {x:이/가}") == "4,096은 {x:이/가}"  # 사천구십육
    assert i18n.fill_facts("{app_c:을/를}") == "320을"  # 삼백이십
    assert i18n.split_spec(".1f:으로/로") == (".1f", "으로/로")
    assert i18n.particle("", "을/를") == "을(를)"  # nothing to read: both forms
    with pytest.raises(ValueError, match="particle pair"):
        i18n.particle("3", "를/을")


def test_table_problems_reports_misused_particle_specs(tmp_path):
    tables = {"en": {"a": "{n:,} bins", "b": "{n:을/를} x", "v_c": "{n}", "d": "{n}",
                     "g_e": "{n}", "f": "{n:,} of {m}"},
              "ko": {"a": "{n:,:을/를} 빈", "b": "{n:을/를}", "v_c": "{n:은/는}", "d": "{n:를/을}",
                     "g_e": "{n:이/가}", "f": "{m}개 중 {n:은/는}"}}
    for lang, strings in tables.items():
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "s.json").write_text(json.dumps(strings), encoding="utf-8")
    problems = i18n.table_problems(root=tmp_path)
    assert not any("s.a" in p for p in problems)  # names are compared, not the particle
    assert any(p.startswith("en: s.b uses a Korean particle") for p in problems)
    assert any(p.startswith("ko: s.v_c is a view's string") for p in problems)
    assert any(p.startswith("ko: s.d names an unknown particle pair") for p in problems)
    assert any(p.startswith("ko: s.g_e is a view's string") for p in problems)
    assert "ko: number formats of s.f differ from en" in problems  # the comma was lost
    assert len(problems) == 5


FIXED_PARTICLE = re.compile(
    r"\}[)\]]?[”’\"']?(?:\((?:을|를|은|는|이|가|과|와|으)\)"
    r"|을|를|은|는|이(?![면어고며다라에므])|가(?!지)|과|와|으로|로)"
    r"|(?:을|은|이|과)\((?:를|는|가|와)\)|\(으\)로")
"""A particle typed right after a placeholder (or after its closing quote, or the ``)`` of a
range ``[a, b)``), or both forms written out: the helper's job."""


def fixed_particles(table: dict[str, str]) -> list[str]:
    """Each typed particle; a particle after ``{col})`` closing a parenthesis that follows a
    noun ("칸(행 {row}, 열 {col})이") belongs to that noun and is fine."""
    found = []
    for key, text in table.items():
        for m in FIXED_PARTICLE.finditer(text):
            before = text[:m.start()]
            if m.group().startswith("})") and before.rfind("(") > before.rfind("["):
                continue
            found.append(f"{key}: “{m.group()}”")
    return found


def test_no_korean_string_types_a_particle_after_a_placeholder():
    found = fixed_particles(dict(i18n.load_table.__wrapped__("ko")))
    assert found == []


def test_fixed_particle_check_fails_on_typed_particles():
    found = fixed_particles({"a": "{n}을 본다", "b": "“{t}”은(는)",
                             "c": "{r}이면 {k}가지, [{a})는, 칸({c})이", "d": "{s} 을(를)",
                             "e": "{n:을/를} 본다", "f": "사진(으)로"})
    assert [p.split(":")[0] for p in found] == ["a", "b", "c", "d", "f"]


# ---------------------------------------------------------------- sources


SOURCES = ROOT / "docs" / "sources.md"


def source_rows(text: str) -> dict[str, str]:
    """``{key: source}`` from the table rows of docs/sources.md (``| `key` | source |``)."""
    return {m.group(1): m.group(2).strip() for m in
            re.finditer(r"^\| `([a-z_]+\.[a-z0-9_]+)` \| (.+) \|$", text, re.MULTILINE)}


def test_every_key_the_sources_table_names_exists():
    rows = source_rows(SOURCES.read_text(encoding="utf-8"))
    assert len(rows) > 60  # the pattern still reads the table
    en = i18n.load_table("en")
    assert sorted(key for key in rows if key not in en) == []
    assert all(rows.values())
    # the sentences the issue found false are all there
    assert {"aspp.full_cells", "aspp.full_cells_none", "aspp.erf_explain", "home.spp_body",
            "compare.out_spp", "compare.next_aspp", "home.aspp_body", "aspp.intro",
            "compare.map_info", "spp.source_note", "spp.rule_used", "spp.level_too_big",
            "aspp.grid_explain", "compare.pick_4", "home.row_params_aspp",
            "network.measure_explain", "spp.source_help", "home.intro"} <= rows.keys()
    assert source_rows("| `a.b` | He, Sec. 2 |\n| `x` | no |") == {"a.b": "He, Sec. 2"}


def test_ranges_use_one_notation():
    """Issue 24 item 19: an en dash between numbers meant “inclusive” in one string and “end
    excluded” in the next. Ranges are ``[a, b)`` (end excluded) or “from a to b”."""
    for lang in i18n.LANGUAGES:
        table = i18n.load_table.__wrapped__(lang)
        dashed = [key for key, text in table.items() if re.search(r"[\d}]\s?–\s?[\d{]", text)]
        assert dashed == [], lang
    assert i18n.translate("en", "spp.v_box") == "x [{x0}, {x1}), y [{y0}, {y1}) px"
