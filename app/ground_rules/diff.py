"""Readable differences between two versions of a pair's ground rules."""

from __future__ import annotations

import re
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


# How many words (of the part between the common start and end) SequenceMatcher may compare. Its
# work grows with the product of the two lengths: two 10,000-character rewrites took seconds and,
# four of them on one page, a worker's whole timeout. Past the cap a change reads "removed: the
# old words, added: the new ones", which is what a rewrite that large is anyway.
MAX_DIFF_WORDS = 4_000


def _tokens(text: str) -> list[str]:
    """Words with the white space that follows them (and any leading white space on its own), so
    spaces are never matched on their own and the text reads back exactly."""
    return re.findall(r"\s+|\S+\s*", text)


def words(before: str, after: str) -> list[Segment]:
    """A word-level diff, keeping white space so the text reads naturally. Bounded: only the part
    between the common start and end is compared, and only up to ``MAX_DIFF_WORDS`` words."""
    a, b = _tokens(before), _tokens(after)
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    segments = [Segment("same", "".join(a[:start]))]
    if len(middle_a) + len(middle_b) > MAX_DIFF_WORDS:
        segments += [Segment("removed", "".join(middle_a)), Segment("added", "".join(middle_b))]
    else:
        for op, i1, i2, j1, j2 in SequenceMatcher(a=middle_a, b=middle_b).get_opcodes():
            if op == "equal":
                segments.append(Segment("same", "".join(middle_a[i1:i2])))
                continue
            segments.append(Segment("removed", "".join(middle_a[i1:i2])))
            segments.append(Segment("added", "".join(middle_b[j1:j2])))
    segments.append(Segment("same", "".join(a[len(a) - end :])))
    return [s for s in segments if s.text]


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
            changes.append(ClauseChange(cid, "added", new["title"], words("", new["title"]), words("", new_text)))
            continue
        old_text = describe(old["kind"], old["fields"], old["body"])
        if old["title"] != new["title"] or old_text != new_text:
            changes.append(
                ClauseChange(cid, "edited", new["title"], words(old["title"], new["title"]), words(old_text, new_text))
            )
        elif kept_before.index(cid) != kept_after.index(cid):
            changes.append(ClauseChange(cid, "moved", new["title"], [Segment("same", new["title"])], []))
    for cid in order_before:
        if cid not in after:
            old = before[cid]
            old_text = describe(old["kind"], old["fields"], old["body"])
            changes.append(ClauseChange(cid, "removed", old["title"], words(old["title"], ""), words(old_text, "")))
    return changes
