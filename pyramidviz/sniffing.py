"""Content sniffing: what a file that is not a readable image looks like instead.

When Pillow cannot identify an upload, its first bytes usually tell why: an iPhone
HEIC photo, a PDF, a PNG whose header claims zero pixels, or text (an SVG drawing,
a web page, a renamed note). :func:`sniff` names that kind from the bytes alone,
decoding nothing; :mod:`pyramidviz.images` turns the kind into a message.

References
----------
.. [1] ISO/IEC 14496-12 (ISO base media file format): the ``ftyp`` box and its
   major brand at bytes 4-12; HEIF brands per ISO/IEC 23008-12.
.. [2] W3C, "Portable Network Graphics (PNG) Specification": the signature and the
   IHDR chunk, whose width and height sit at bytes 16-24 of the file.
.. [3] WHATWG, "MIME Sniffing Standard" (binary data: control bytes in text).
"""

from __future__ import annotations

import codecs
import unicodedata

__all__ = ["HEAD_BYTES", "KINDS", "sniff"]

KINDS = ("heif", "pdf", "png_no_pixels", "svg", "html", "text")
HEAD_BYTES = 1024  # only this many leading bytes are looked at
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _binary_kind(head: bytes) -> str | None:
    """"heif", "pdf" or "png_no_pixels" from magic numbers, else None."""
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR" and (
            not any(head[16:20]) or not any(head[20:24])):
        return "png_no_pixels"
    return None


def _text_kind(head: bytes) -> str | None:
    """"svg", "html" or "text" for UTF-8 text without control characters, else None."""
    try:  # incremental: a multi-byte character cut at the end of ``head`` is fine
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    low = text.lstrip().lower()
    if "<svg" in low and low.startswith(("<svg", "<?xml", "<!doctype svg", "<!--")):
        return "svg"
    if low.startswith(("<!doctype html", "<html")) or "<html" in low:
        return "html"
    return "text" if low else None


def sniff(data: bytes) -> str | None:
    """The kind of non-image content that the first :data:`HEAD_BYTES` of ``data`` show.

    Parameters
    ----------
    data : bytes
        A file's bytes (or at least its head).

    Returns
    -------
    str or None
        One of :data:`KINDS`: ``"heif"`` (ISO ``ftyp`` box with a HEIF brand),
        ``"pdf"``, ``"png_no_pixels"`` (PNG IHDR with width or height 0), or, for
        UTF-8 text without control characters, ``"svg"``, ``"html"`` or ``"text"``.
        None for anything else (binary noise, blank text).

    Raises
    ------
    ValueError
        If ``data`` is not bytes.

    Examples
    --------
    >>> sniff(b"\\x00\\x00\\x00\\x18ftypheic"), sniff(b"%PDF-1.7"), sniff(b"\\x00\\xff")
    ('heif', 'pdf', None)
    >>> sniff(b'<?xml version="1.0"?><svg/>'), sniff("달걀\\n".encode())
    ('svg', 'text')
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    head = bytes(data[:HEAD_BYTES])
    return _binary_kind(head) or _text_kind(head)
