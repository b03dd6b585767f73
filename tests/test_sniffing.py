"""Tests for pyramidviz.sniffing: magic numbers, text kinds, and no image taken for text."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyramidviz.sniffing import HEAD_BYTES, KINDS, sniff

from badinputs import bad_inputs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_head(width: int, height: int) -> bytes:
    return PNG_SIGNATURE + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height)


@pytest.mark.parametrize(("name", "kind"), [
    ("text_renamed", "text"), ("svg_renamed", "svg"), ("html_renamed", "html"),
    ("heic_renamed", "heif"), ("png_zero_width", "png_no_pixels"), ("random_bytes", None),
])
def test_corpus_files_that_are_not_images(name: str, kind: str | None) -> None:
    assert sniff(bad_inputs()[name][0]) == kind


def test_no_real_image_is_taken_for_anything_else() -> None:
    valid = [data for data, expected in bad_inputs().values() if expected is None]
    assert len(valid) > 15
    assert [sniff(data) for data in valid] == [None] * len(valid)


def test_magic_numbers() -> None:
    assert sniff(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00") == "heif"
    assert sniff(b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00") is None  # an MP4 video
    assert sniff(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") == "pdf"  # before any text check
    assert sniff(_png_head(0, 48)) == sniff(_png_head(64, 0)) == "png_no_pixels"
    assert sniff(_png_head(64, 48)) is None
    assert sniff(b"\x89PNX\r\n\x1a\n" + _png_head(0, 0)[8:]) is None  # wrong signature


def test_text_kinds() -> None:
    assert sniff("\ufeff  <svg width='1'/>".encode()) == "svg"  # BOM and blanks skipped
    assert sniff(b"<!-- drawn by hand -->\n<svg/>") == "svg"
    assert sniff(b"<?xml version='1.0'?><note>no drawing</note>") == "text"
    assert sniff(b"<!DOCTYPE HTML><p>x</p>") == sniff(b"notes <html>") == "html"
    assert sniff(b"a\tb\r\nc\f") == "text"  # tab, CR, LF and FF are text
    assert sniff(b"bell\x07") is None and sniff(b"nul\x00") is None
    assert sniff(b"") is None and sniff(b" \n\t ") is None
    assert sniff(b"\xff\xfe<\x00s\x00") is None  # UTF-16 is not read as text


def test_only_the_head_is_read() -> None:
    assert sniff(b"a" * HEAD_BYTES + b"\x00") == "text"
    assert sniff(b"a" * (HEAD_BYTES - 1) + b"\x00") is None
    cut = "\uac00".encode() * 400  # 1200 bytes: the head ends inside a character
    assert sniff(cut) == "text" and len(cut[:HEAD_BYTES]) % 3 != 0


def test_bytes_like_inputs_and_errors() -> None:
    assert sniff(bytearray(b"%PDF")) == sniff(memoryview(b"%PDF")) == "pdf"
    with pytest.raises(ValueError, match="bytes"):
        sniff("%PDF")  # type: ignore[arg-type]


_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=200)


@settings(max_examples=100, deadline=None)
@given(_TEXT)
def test_text_without_control_characters_is_text(text: str) -> None:
    data = text.encode()
    kind = sniff(data)
    assert kind in KINDS or kind is None
    if data.startswith(b"%PDF") or data[4:8] == b"ftyp":
        return
    blank = not text.removeprefix("\ufeff").strip()
    assert (kind is None) == blank
    assert kind in (None, "svg", "html", "text")
