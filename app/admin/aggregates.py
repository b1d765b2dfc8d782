"""Everything the admin area reads comes from here, and only as counts.

No function in this module selects a text column written by a pair member. Program names and
dates are the admin's own settings, so they may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models import Pair, PairStatus, Program


@dataclass(frozen=True)
class ProgramSummary:
    id: int
    name: str
    starts_on: date
    ends_on: date
    privacy_threshold: int
    pairs: int
    active_pairs: int

    @property
    def below_threshold(self) -> bool:
        return self.pairs < self.privacy_threshold


def program_summaries() -> list[ProgramSummary]:
    """Each program with how many pairs it has, newest first, in one query."""
    active = func.count(Pair.id).filter(Pair.status == PairStatus.ACTIVE)
    rows = db.session.execute(
        select(
            Program.id,
            Program.name,
            Program.starts_on,
            Program.ends_on,
            Program.privacy_threshold,
            func.count(Pair.id),
            active,
        )
        .outerjoin(Pair, Pair.program_id == Program.id)
        .group_by(Program.id)
        .order_by(Program.starts_on.desc(), Program.id.desc())
    )
    return [ProgramSummary(*row) for row in rows]
