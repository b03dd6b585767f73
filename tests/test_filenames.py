"""Tests for pyramidviz.filenames: markup, bidi and control characters never survive."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz import images
from pyramidviz.filenames import safe_filename

from badinputs import markup_filenames

UNSAFE = set("<>*`$[]&#\\/{}|\"!") | {"\u202e", "\u200b", "\ufeff", "\x00", "\n", "\t"}


@pytest.mark.parametrize("name", markup_filenames())
def test_safe_filename_strips_markup_and_invisible_characters(name: str) -> None:
    safe = safe_filename(name)
    assert 1 <= len(safe) <= 80 and safe == safe.strip()
    assert not UNSAFE & set(safe)
    assert all(unicodedata.category(c)[0] != "C" for c in safe)


def test_safe_filename_hand_cases() -> None:
    assert safe_filename("<img src=x onerror=alert(1)>.png") == "img src=x onerror=alert(1).png"
    assert safe_filename("**bold**.png") == "bold.png"
    assert safe_filename("photo\u202egnp.exe") == "photognp.exe"
    assert safe_filename("사진 (1).png") == "사진 (1).png"
    assert safe_filename("cafe\u0301.jpg") == "caf\u00e9.jpg"  # NFC
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\student\\cat.jpg") == "cat.jpg"
    assert safe_filename("") == safe_filename(" . ") == "image"
    long = safe_filename("a" * 300 + ".jpeg")
    assert len(long) == 80 and long.endswith("\u2026.jpeg")
    assert safe_filename("x" * 100, max_length=20) == "x" * 19 + "\u2026"
    assert safe_filename("e\u0301" + "\u0301" * 30 + ".png") == "\u00e9\u0301\u0301.png"
    with pytest.raises(ValueError):
        safe_filename(b"x.png")  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_safe_filename_properties(name: str) -> None:
    safe = safe_filename(name)
    assert 1 <= len(safe) <= 80 and not UNSAFE & set(safe)
    assert all(unicodedata.category(c)[0] != "C" for c in safe)
    assert safe_filename(safe) == safe  # idempotent


def test_images_re_exports_safe_filename() -> None:
    from pyramidviz.images import safe_filename as again

    assert again is safe_filename and "safe_filename" in images.__all__


@pytest.mark.parametrize("bad", [15, 0, True, 16.0, None])
def test_bad_max_length_is_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="max_length"):
        safe_filename("cat.png", max_length=bad)  # type: ignore[arg-type]
    assert safe_filename("x" * 40 + ".png", max_length=16) == "x" * 11 + "\u2026.png"
