"""Writing people's words into the export's files so that no words can change a file's shape:
Markdown that a title can't turn into a heading or a link, file names no title can steer out of
their folder."""

from __future__ import annotations

import re
import unicodedata

# What CommonMark reads as markup anywhere in a line (emphasis, code, links and images, HTML,
# entities, tables, strikethrough, headings): a backslash makes each a plain character again.
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")
# What starts a block only at the start of a line: a list item, a rule, a setext underline, an
# ordered list's "1." or "1)".
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# Controls (but tab) and the invisible format characters that reorder text (bidi overrides).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
INLINE_MAX = 500


def _clean(text: str) -> str:
    return _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))


def inline(text: str | None, limit: int = INLINE_MAX) -> str:
    """``text`` on one line of Markdown (a heading, a list item) that reads as plain words."""
    flat = " ".join(_clean(text or "").split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _escape(flat)


def block(text: str | None) -> str:
    """``text`` as a quoted block of Markdown, its line breaks kept: whatever it holds stays
    inside the quote as plain words."""
    lines = _clean(text or "").split("\n")
    return "\n".join(("> " + _escape(line)).rstrip() for line in lines)


def _escape(line: str) -> str:
    escaped = _SPECIAL.sub(r"\\\1", line)
    start = _LINE_START.match(escaped)
    if start is None:
        return escaped
    marker = start.group(2)
    # "1." becomes "1\.": the digits stay, the list marker goes.
    fixed = f"{marker}\\" if marker[0].isdigit() else f"\\{marker}"
    return start.group(1) + fixed + escaped[start.end() :]


def slug(text: str, limit: int = 40) -> str:
    """A file name part from ``text``: lower-case ASCII letters, digits and single hyphens only,
    so no title can name another folder, hide an extension or spell a device name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:limit].strip("-")


# --- iCalendar (RFC 5545) ------------------------------------------------------------------------

# TEXT values may hold no control character but tab (section 3.3.11); line breaks are escaped.
_ICS_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def ics_text(value: str) -> str:
    """``value`` as an iCalendar TEXT value: backslash, semicolon, comma and line breaks escaped."""
    value = _ICS_CONTROLS.sub("", _LINE_BREAKS.sub("\n", value))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_line(name: str, value: str) -> bytes:
    """One content line, folded so no line is longer than 75 octets (section 3.1), never inside a
    UTF-8 character, ending in CRLF. ``value`` must already be escaped."""
    raw = f"{name}:{value}".encode("utf-8", "replace")
    parts, start, limit = [], 0, 75
    while len(raw) - start > limit:
        end = start + limit
        while raw[end] & 0xC0 == 0x80:  # a continuation byte: fold before its character
            end -= 1
        parts.append(raw[start:end])
        # A folded line goes on after one space, which counts towards its 75.
        start, limit = end, 74
    parts.append(raw[start:])
    return b"\r\n ".join(parts) + b"\r\n"
