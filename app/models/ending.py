"""How a pair ends, and what it keeps: why one of the two closed it (theirs alone, or the admin's
too if they chose), each person's closing reflection, and the counts a pair leaves behind once
its program's retention has run out and its words are deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import LabelledEnum, UTCDateTime, utcnow

REASON_MAX = 2_000
CLOSING_MAX = 10_000
DEFAULT_RETENTION_MONTHS = 12
RETENTION_MONTHS_MAX = 120


class PairEnding(LabelledEnum):
    """How a pair came to be closed; the label completes "Your pair …"."""

    EARLY = "early", "was closed early"
    AGREED_END = "agreed-end", "reached the end date you agreed"
    PROGRAM_END = "program-end", "reached the end of the program"
    PROGRAM_ENDED = "program-ended", "closed when the program was ended"
    LEFT = "left", "closed when a person left Twoway"


class ClosingReason(db.Model):
    """Why one person closed their pair early. Kept apart from the pair's content, and read by
    nobody but its author, or also by the program's admin when ``shared`` (never the partner)."""

    __tablename__ = "closing_reason"

    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClosingReflection(db.Model):
    """One person's look back at their pair: read by its author alone, like a journal reflection
    (every read filters by ``author_id``: see ``authz.my_closing_reflection``)."""

    __tablename__ = "closing_reflection"
    __table_args__ = (UniqueConstraint("pair_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    learned: Mapped[str] = mapped_column(Text, default="")
    taught: Mapped[str] = mapped_column(Text, default="")
    keep_doing: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PairTally(db.Model):
    """What is left of a pair after its program's retention ran out: counts only, the same the
    pair's closing summary and the admin's figures are made of. Written when the words are deleted."""

    __tablename__ = "pair_tally"

    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True)
    meetings: Mapped[int] = mapped_column(Integer, default=0)
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=0)
    goals: Mapped[int] = mapped_column(Integer, default=0)
    goals_done: Mapped[int] = mapped_column(Integer, default=0)
    topics_covered: Mapped[int] = mapped_column(Integer, default=0)
    action_items: Mapped[int] = mapped_column(Integer, default=0)
    check_ins: Mapped[int] = mapped_column(Integer, default=0)
    agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
