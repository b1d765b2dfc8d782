"""A pair's ground rules: clauses they write together, every saved revision, and who agreed to what.

The agreement has a version number that goes up with every change (an edit, an added, moved or
removed clause). Each clause also has its own version, which guards against two people saving
over each other. Revisions keep a full snapshot of the clause as it was after each change, so the
agreement can be rebuilt as it stood at any version and any two versions compared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dates import iso_date
from app.extensions import db
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow
from app.models.user import User

TITLE_MAX = 120
BODY_MAX = 10_000


class ClauseKind(enum.StrEnum):
    TEXT = "text"
    RHYTHM = "rhythm"  # how often and how long the pair meets
    DATES = "dates"  # midpoint review and end


class Cadence(LabelledEnum):
    WEEKLY = "weekly", "every week"
    FORTNIGHTLY = "every-two-weeks", "every two weeks"
    MONTHLY = "monthly", "every month"
    CUSTOM = "custom", "as we've described"


CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.FORTNIGHTLY: 14, Cadence.MONTHLY: 30}


def _kind_enum():
    return enum_column(ClauseKind, "clause_kind")


class Agreement(db.Model):
    __tablename__ = "agreement"

    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Clause(db.Model):
    __tablename__ = "clause"
    __table_args__ = (Index("ix_clause_pair_id_position", "pair_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("agreement.pair_id", ondelete="CASCADE"))
    kind: Mapped[ClauseKind] = mapped_column(_kind_enum(), default=ClauseKind.TEXT)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    # Structured clauses keep their values here: {"cadence", "custom", "length_minutes"} for the
    # rhythm, {"midpoint", "end"} (ISO dates) for the dates.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hint: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # When a member last chose "keep" for this clause in a midpoint review.
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    updated_by: Mapped[User | None] = relationship(lazy="raise")

    def snapshot(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "body": self.body, "fields": dict(self.fields or {})}


class ClauseRevision(db.Model):
    """The clause as it was right after one change; ``agreement_version`` says which version."""

    __tablename__ = "clause_revision"
    __table_args__ = (Index("ix_clause_revision_pair_id_agreement_version", "pair_id", "agreement_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("agreement.pair_id", ondelete="CASCADE"))
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"), index=True)
    agreement_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # added, edited, moved, removed
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[ClauseKind] = mapped_column(_kind_enum())
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)

    author: Mapped[User | None] = relationship(lazy="raise")


class ClauseConflict(db.Model):
    """Text someone tried to save over a newer version. It is kept, never thrown away."""

    __tablename__ = "clause_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("agreement.pair_id", ondelete="CASCADE"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    based_on_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ClauseKind] = mapped_column(_kind_enum())
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship(lazy="raise")


class AgreementSignature(db.Model):
    """One member agreed to the agreement as it stood at ``agreement_version``."""

    __tablename__ = "agreement_signature"
    __table_args__ = (UniqueConstraint("pair_id", "user_id", "agreement_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("agreement.pair_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    agreement_version: Mapped[int] = mapped_column(Integer)
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass(frozen=True)
class Rhythm:
    """How often and how long a pair agreed to meet, and their review and end dates.

    Other parts of Twoway (the journal's "next meeting due", feedback's "are we meeting as agreed?")
    read this rather than the clauses themselves.
    """

    cadence: Cadence | None
    custom: str
    length_minutes: int | None
    midpoint: date | None
    ends_on: date | None

    @property
    def every_days(self) -> int | None:
        return CADENCE_DAYS.get(self.cadence) if self.cadence else None

    @classmethod
    def from_fields(cls, rhythm_fields: dict[str, Any] | None, dates_fields: dict[str, Any] | None) -> Rhythm:
        """From the stored fields of the rhythm clause and the dates clause (either may be missing)."""
        rhythm, dates = rhythm_fields or {}, dates_fields or {}
        cadence = rhythm.get("cadence")
        return cls(
            cadence=Cadence(cadence) if cadence in Cadence._value2member_map_ else None,
            custom=rhythm.get("custom", ""),
            length_minutes=rhythm.get("length_minutes"),
            midpoint=iso_date(dates.get("midpoint")),
            ends_on=iso_date(dates.get("end")),
        )

    @classmethod
    def from_clauses(cls, clauses: list[Clause]) -> Rhythm:
        """From clauses already loaded (the ground rules page has them all)."""

        def fields_of(kind: ClauseKind) -> dict[str, Any] | None:
            return next((c.fields for c in clauses if c.kind == kind and not c.removed), None)

        return cls.from_fields(fields_of(ClauseKind.RHYTHM), fields_of(ClauseKind.DATES))


def halfway(starts_on: date, ends_on: date) -> date:
    """Halfway from ``starts_on`` to ``ends_on``, in whole days: a program's midpoint."""
    return starts_on + timedelta(days=(ends_on - starts_on).days // 2)
