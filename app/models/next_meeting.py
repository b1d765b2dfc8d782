"""When a pair meets next, and the private calendar feeds that carry it to each person's calendar."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.journal import MeetingFormat
from app.models.types import UTCDateTime, enum_column, utcnow


class NextMeeting(db.Model):
    """When the pair meets next. ``starts_at`` is UTC and is shown on each viewer's own clock;
    ``timezone`` is the zone of the person who last planned it."""

    __tablename__ = "next_meeting"

    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    length_minutes: Mapped[int] = mapped_column(Integer, default=45)
    format: Mapped[MeetingFormat] = mapped_column(
        enum_column(MeetingFormat, "next_meeting_format"), default=MeetingFormat.VIDEO
    )
    place: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def starts_in(self, zone: tzinfo) -> datetime:
        """The start on the clock of ``zone`` (the viewer's): each person reads the same moment
        on their own clock. UTC for the rare instant at the calendar's ends that ``zone`` can't show."""
        try:
            return self.starts_at.astimezone(zone)
        except (OverflowError, ValueError):
            return self.starts_at


class CalendarFeed(db.Model):
    """A person's private calendar feed for one pair: the URL's secret is stored hashed, and
    revoking it (or making a new one) kills the old URL."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
