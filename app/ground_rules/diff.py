"""Readable differences between two versions of a pair's ground rules."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from app.dates import iso_date
from app.models import Cadence, ClauseKind


@dataclass(frozen=True)
class Segment:
    op: str  # "same", "added" or "removed"
    text: str


@dataclass(frozen=True)
class ClauseChange:
    clause_id: int
    change: str  # "added", "removed", "edited" or "moved"
    title: str
    title_diff: list[Segment]
    body_diff: list[Segment]


def describe(kind: ClauseKind, fields: dict[str, Any], body: str = "") -> str:
    """A clause's content as one text, so structured clauses diff like prose."""
    if kind == ClauseKind.RHYTHM:
        cadence = fields.get("cadence")
        how_often = Cadence(cadence).label if cadence in Cadence._value2member_map_ else ""
        if cadence == Cadence.CUSTOM and fields.get("custom"):
            how_often = fields["custom"]
        length = fields.get("length_minutes")
        return f"We meet {how_often}" + (f", for about {length} minutes." if length else ".")
    if kind == ClauseKind.DATES:
        return f"Midpoint review: {_day(fields.get('midpoint'))}. End: {_day(fields.get('end'))}."
    return body


def _day(value: str | None) -> str:
    day = iso_date(value)
    return f"{day.day} {day:%B %Y}" if day else "not set"


# How much SequenceMatcher may weigh, in the part between the common start and end. Its work grows
# with the product of the two sentence counts (500 by 500 different sentences: about 30 ms), and
# faster with the pairs of equal sentences it must try to line up: "Yes." 100 times against 100 is
# 10,000 such pairs and about 40 ms, 140 against 140 several times that. Unbounded, a few long
# rewritten clauses on one page ran past a worker's timeout. Past either cap a change reads
# "removed: the old sentences, added: the new ones", which is what a rewrite that large is anyway;
# the sentences kept at its start and end still read as kept.
MAX_DIFF_PAIRS = 250_000
MAX_EQUAL_PAIRS = 10_000


# Where one sentence ends and the next begins: a line break (each line of a Markdown list is its
# own), or a closing mark (Latin, Arabic, Devanagari; any closing quotes or brackets after it) then
# white space, or a CJK closing mark, which needs no space after it. The marks are looked behind,
# one character wide, so a run of hostile punctuation is scanned once: linear on any input.
_BREAK = re.compile(r"\n\s*|(?<=[.!?…؟।])[)\]\"'’”»]*\s+|(?<=[。！？])[）」』”]*\s*")


def _sentences(text: str) -> list[str]:
    """``text`` cut into sentences, each with the white space that follows it, so they read back
    exactly."""
    out: list[str] = []
    start = 0
    for found in _BREAK.finditer(text):
        if found.end() > start:
            out.append(text[start : found.end()])
            start = found.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _key(sentence: str) -> str:
    # The last sentence of a text has no space after it; once another follows, it has. That is
    # no change to the sentence.
    return sentence.rstrip()


def sentences(before: str, after: str) -> list[Segment]:
    """A sentence-level diff: a sentence that changed at all is shown whole, the old one removed
    and the new one added, never words interleaved. What stayed reads as it is now. Bounded: only
    the part between the common start and end is compared, within ``MAX_DIFF_PAIRS`` and
    ``MAX_EQUAL_PAIRS``."""
    a, b = _sentences(before), _sentences(after)
    key_a, key_b = [_key(s) for s in a], [_key(s) for s in b]
    start = 0
    while start < len(a) and start < len(b) and key_a[start] == key_b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and key_a[-1 - end] == key_b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    keys_a, keys_b = key_a[start : len(a) - end], key_b[start : len(b) - end]
    segments = [Segment("same", "".join(b[:start]))]
    if len(keys_a) * len(keys_b) > MAX_DIFF_PAIRS or _equal_pairs(keys_a, keys_b) > MAX_EQUAL_PAIRS:
        segments += [Segment("removed", "".join(middle_a)), Segment("added", "".join(middle_b))]
    else:
        # autojunk off: a sentence that recurs (a list of "- Yes." lines) is still matched.
        matcher = SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                segments.append(Segment("same", "".join(middle_b[j1:j2])))
                continue
            segments.append(Segment("removed", "".join(middle_a[i1:i2])))
            segments.append(Segment("added", "".join(middle_b[j1:j2])))
    segments.append(Segment("same", "".join(b[len(b) - end :])))
    return _merged([s for s in segments if s.text])


def _equal_pairs(a: list[str], b: list[str]) -> int:
    """How many (sentence of ``a``, equal sentence of ``b``) pairs there are."""
    in_b = Counter(b)
    return sum(in_b[key] for key in a)


def _merged(segments: list[Segment]) -> list[Segment]:
    """Neighbours with the same op as one segment (the common start beside an equal run)."""
    out: list[Segment] = []
    for segment in segments:
        if out and out[-1].op == segment.op:
            out[-1] = Segment(segment.op, out[-1].text + segment.text)
        else:
            out.append(segment)
    return out


def compare(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> list[ClauseChange]:
    """What changed from ``before`` to ``after`` (each: clause id → title, kind, body, fields, position),
    in the order the clauses stand in ``after`` (removed ones last)."""
    changes: list[ClauseChange] = []
    order_before = [cid for cid, _ in sorted(before.items(), key=lambda kv: kv[1]["position"])]
    order_after = [cid for cid, _ in sorted(after.items(), key=lambda kv: kv[1]["position"])]
    kept_before = [cid for cid in order_before if cid in after]
    kept_after = [cid for cid in order_after if cid in before]
    for cid in order_after:
        new = after[cid]
        new_text = describe(new["kind"], new["fields"], new["body"])
        old = before.get(cid)
        if old is None:
            changes.append(
                ClauseChange(cid, "added", new["title"], sentences("", new["title"]), sentences("", new_text))
            )
            continue
        old_text = describe(old["kind"], old["fields"], old["body"])
        if old["title"] != new["title"] or old_text != new_text:
            changes.append(
                ClauseChange(
                    cid, "edited", new["title"], sentences(old["title"], new["title"]), sentences(old_text, new_text)
                )
            )
        elif kept_before.index(cid) != kept_after.index(cid):
            changes.append(ClauseChange(cid, "moved", new["title"], [Segment("same", new["title"])], []))
    for cid in order_before:
        if cid not in after:
            old = before[cid]
            old_text = describe(old["kind"], old["fields"], old["body"])
            changes.append(
                ClauseChange(cid, "removed", old["title"], sentences(old["title"], ""), sentences(old_text, ""))
            )
    return changes
