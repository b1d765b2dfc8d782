"""Earlier words: what a pair wrote before it was changed, removed, or lost in a conflict.

One small table for every kind of pair content (goals, milestones, topics, meeting notes), read by
the pair alone. Never a private reflection: those are read by their author alone, and the history
is the pair's (``app/history.py`` refuses any other subject)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow


class HistorySubject(enum.StrEnum):
    GOAL = "goal"
    MILESTONE = "milestone"
    TOPIC = "topic"
    MEETING = "meeting"


class HistoryAction(enum.StrEnum):
    EDITED = "edited"
    REMOVED = "removed"
    LOST = "lost in a conflict"


class PairHistory(db.Model):
    """The words of one pair object as they were before one change (``edited``, ``removed``), or
    the words someone typed over a newer version (``lost in a conflict``). ``by_id`` is the person
    whose action this row records; ``subject_id`` has no foreign key: the subject may be gone."""

    __tablename__ = "pair_history"
    __table_args__ = (Index("ix_pair_history_pair_id_subject_id", "pair_id", "subject", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    subject: Mapped[HistorySubject] = mapped_column(enum_column(HistorySubject, "pair_history_subject"))
    subject_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[HistoryAction] = mapped_column(enum_column(HistoryAction, "pair_history_action"))
    # The text fields only, by name ("title", "why", "notes"…), as they were.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
