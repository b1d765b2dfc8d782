"""The reverse-mentoring ground rules every pair starts from (a program may later bring its own)."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.models import Cadence, ClauseKind, Program
from app.models.ground_rules import halfway


def default_clauses(program: Program) -> list[dict[str, Any]]:
    """The starting clauses, in order, with dates taken from the program."""
    return [
        {
            "kind": ClauseKind.RHYTHM,
            "title": "How often and how long we meet",
            "fields": {"cadence": Cadence.FORTNIGHTLY.value, "custom": "", "length_minutes": 45},
            "hint": "First meetings often run longer; later ones can be shorter and focused.",
        },
        {
            "title": "How we meet, and how we reach each other between meetings",
            "hint": "In person, video or a call? Which channel between meetings, and how soon do you expect a reply?",
        },
        {
            "title": "What the mentor wants to get out of this",
            "hint": "Both of you learn. What would make this worthwhile for the mentor?",
        },
        {
            "title": "What the mentee wants to get out of this",
            "hint": "Skills, tools, a view of the organisation from the floor: what does the mentee hope to learn?",
        },
        {
            "title": "Topics to start with, and topics that are off-limits",
            "hint": "The mentee leads with what they care about most. Name anything either of you would rather not discuss.",
        },
        {
            "title": "Confidentiality: what stays between us",
            "body": "What we talk about stays between the two of us. We share something with others only when we both agree to.",
            "hint": "Say what, if anything, may be shared, and with whom.",
        },
        {
            "title": "How we give each other feedback",
            "body": "We tell each other what's working and what isn't: kindly, directly, strengths first.",
            "hint": "How and when do you want to hear it? Twoway's feedback check-ins can help.",
        },
        {
            "kind": ClauseKind.DATES,
            "title": "Midpoint review and end date",
            "fields": {"midpoint": _iso(halfway(program.starts_on, program.ends_on)), "end": _iso(program.ends_on)},
            "hint": "At the midpoint you go through these ground rules once more: keep, change or drop each one.",
        },
    ]


def _iso(value: date) -> str:
    return value.isoformat()
