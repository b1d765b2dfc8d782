"""Published dashboard snapshots and the privacy budget they are spent from.

A snapshot is computed once, with calibrated noise, and stored: the admin's dashboard, its CSV and
the weekly digest read these rows and never the pairs' data. A published row never changes (the
listener below refuses any update), and its (program, kind, period) key makes a second run for
the same period a no-op. ``PrivacyBudgetYear`` holds what a program has spent in a calendar
year; it only grows, by one conditional UPDATE that can't pass the program's yearly cap.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow


class SnapshotKind(LabelledEnum):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class Snapshot(db.Model):
    __tablename__ = "snapshot"
    __table_args__ = (
        UniqueConstraint("program_id", "kind", "period"),
        CheckConstraint("epsilon >= 0", name="epsilon_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SnapshotKind] = mapped_column(enum_column(SnapshotKind, "snapshot_kind"))
    # "2026-W48" for a week, "2026-11" for a month: the period the figures describe.
    period: Mapped[str] = mapped_column(String(10))
    # The last day the figures describe (a week's Sunday, a month's last day).
    as_of: Mapped[date] = mapped_column(Date)
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What this release spent of the program's budget: the ledger is these rows.
    epsilon: Mapped[float] = mapped_column(Float)
    # The privacy threshold the figures were suppressed with when they were published.
    k: Mapped[int] = mapped_column(Integer)
    # The published figures, already noised and suppressed (see app/admin/snapshots.py).
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)


class PublishedSnapshotChanged(Exception):
    """Something tried to change a snapshot after it was published."""


@event.listens_for(Snapshot, "before_update")
def _published_never_changes(_mapper, _connection, target: Snapshot) -> None:
    raise PublishedSnapshotChanged(f"snapshot {target.id} was published and never changes")


class PrivacyBudgetYear(db.Model):
    """What a program spent in one calendar year (the year of each snapshot's period)."""

    __tablename__ = "privacy_budget_year"
    __table_args__ = (CheckConstraint("spent >= 0", name="spent_not_negative"),)

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    spent: Mapped[float] = mapped_column(Float, default=0.0)
