"""String tables: both languages have the same keys and placeholders, and look-ups work."""

from __future__ import annotations

import json

import pytest

from pyramidviz import i18n


def test_tables_have_same_keys_and_placeholders():
    assert i18n.table_problems() == []


def test_tables_are_not_empty_and_sections_match():
    en = i18n.load_table("en")
    assert len(en) > 50
    sections = {key.split(".")[0] for key in en}
    assert {"common", "home"} <= sections


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
