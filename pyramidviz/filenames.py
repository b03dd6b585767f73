"""Display-safe upload file names.

An uploaded file's name is chosen by whoever uploads it: it may carry markup
(``<img onerror=...>``, Markdown), path parts, bidi overrides that reverse the
shown text, zero-width or control characters, or thousands of stacked accents.
:func:`safe_filename` keeps a short, readable name that means what it shows.
It is re-exported by :mod:`pyramidviz.images`.

References
----------
.. [1] Unicode Standard Annex #9, "Unicode Bidirectional Algorithm" (explicit
   overrides such as U+202E) and #15, "Unicode Normalization Forms" (NFC).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["safe_filename"]

_SAFE_PUNCT = frozenset("._-()+,=@'%\u2026")
_MAX_MARKS = 2  # combining marks kept in a row (more is "Zalgo" text)


def _kept_characters(name: str) -> str:
    """Letters, numbers, symbols (``So``), safe punctuation and a few marks; spaces as " "."""
    kept: list[str] = []
    marks = 0
    for ch in name:
        cat = unicodedata.category(ch)
        marks = marks + 1 if cat[0] == "M" else 0
        if cat[0] == "Z" or ch in "\t\n\r":
            kept.append(" ")
        elif cat[0] in "LN" or cat == "So" or ch in _SAFE_PUNCT or 0 < marks <= _MAX_MARKS:
            kept.append(ch)
    return "".join(kept)


def _shortened(text: str, max_length: int) -> str:
    """``text`` cut to ``max_length`` with an ellipsis, keeping an extension of <= 10."""
    if len(text) <= max_length:
        return text
    stem, dot, ext = text.rpartition(".")
    if dot and stem and len(ext) <= 10:
        return stem[: max_length - len(ext) - 2].rstrip() + "\u2026." + ext
    return text[: max_length - 1].rstrip() + "\u2026"


def safe_filename(name: str, *, max_length: int = 80) -> str:
    """A display-safe upload name: last path part, no control, format or markup characters.

    Letters, marks (at most two in a row), digits, symbols such as emoji and
    ``._-()+,=@'%`` are kept; ``<>*[]`$&#`` and the like are dropped; runs of
    white space become one space; bidi overrides and zero-width characters go.
    Long names are cut with an ellipsis, keeping a short extension.
    Render the result as plain text anyway.

    Parameters
    ----------
    name : str
        The name as uploaded (NFC-normalised here; any ``/`` or ``\\`` path is dropped).
    max_length : int
        Longest result, at least 16.

    Returns
    -------
    str
        Between 1 and ``max_length`` characters; ``"image"`` when nothing is left.
        Applying it twice changes nothing.

    Raises
    ------
    ValueError
        If ``name`` is not a str or ``max_length`` is not an integer >= 16.

    Examples
    --------
    >>> safe_filename("<img src=x onerror=alert(1)>.png")
    'img src=x onerror=alert(1).png'
    >>> safe_filename("../\u202egnp.exe"), safe_filename("**사진**  1.jpg")
    ('gnp.exe', '사진 1.jpg')
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a str, got {type(name).__name__}")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 16:
        raise ValueError(f"max_length must be an integer >= 16, got {max_length!r}")
    last_part = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    text = " ".join(_kept_characters(last_part).split()).strip(" .") or "image"
    return _shortened(text, max_length)
