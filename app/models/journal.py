"""The pair's working rhythm: goals for both people, topics for next time, the meetings they log
(with action items and private reflections), the next meeting, and private calendar feeds."""

from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.program import Role
from app.models.types import UTCDateTime, enum_values, utcnow

GOAL_TITLE_MAX = 200
TOPIC_MAX = 300
ACTION_MAX = 300
TEXT_MAX = 10_000


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, create_constraint=True, values_callable=enum_values)


class GoalStatus(enum.StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    DROPPED = "dropped"


GOAL_STATUS_LABELS = {
    GoalStatus.NOT_STARTED: "Not started",
    GoalStatus.IN_PROGRESS: "In progress",
    GoalStatus.DONE: "Done",
    GoalStatus.DROPPED: "Dropped",
}


class MeetingFormat(enum.StrEnum):
    IN_PERSON = "in-person"
    VIDEO = "video"
    CALL = "call"
    CHAT = "chat"


MEETING_FORMAT_LABELS = {
    MeetingFormat.IN_PERSON: "In person",
    MeetingFormat.VIDEO: "Video",
    MeetingFormat.CALL: "Call",
    MeetingFormat.CHAT: "Chat",
}


class Goal(db.Model):
    """Something one of the two wants to learn. Both can edit it; ``version`` guards collisions."""

    __tablename__ = "goal"
    __table_args__ = (Index("ix_goal_pair_id_status", "pair_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    # Whose learning this is: in reverse mentoring both people learn.
    learner: Mapped[Role] = mapped_column(_enum(Role, "goal_learner"))
    title: Mapped[str] = mapped_column(String(GOAL_TITLE_MAX))
    why: Mapped[str] = mapped_column(Text, default="")
    success: Mapped[str] = mapped_column(Text, default="")
    target_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(_enum(GoalStatus, "goal_status"), default=GoalStatus.NOT_STARTED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="goal", lazy="raise", cascade="all, delete-orphan", order_by="Milestone.position"
    )

    @property
    def progress(self) -> int:
        """Per cent of milestones ticked (the milestones must be loaded)."""
        if not self.milestones:
            return 100 if self.status == GoalStatus.DONE else 0
        return round(100 * sum(m.done for m in self.milestones) / len(self.milestones))


class Milestone(db.Model):
    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    # Repeated from the goal so that every lookup can be filtered by the pair directly.
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(GOAL_TITLE_MAX))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    goal: Mapped[Goal] = relationship(back_populates="milestones", lazy="raise")


class Meeting(db.Model):
    """One logged meeting: shared notes both can read; reflections are separate and private."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_pair_id_held_on", "pair_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    length_minutes: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[MeetingFormat] = mapped_column(_enum(MeetingFormat, "meeting_format"), default=MeetingFormat.VIDEO)
    notes: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topics: Mapped[list[Topic]] = relationship(back_populates="meeting", lazy="raise", order_by="Topic.id")
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="meeting", lazy="raise", order_by="ActionItem.id"
    )


class Topic(db.Model):
    """A topic for next time. Open until a logged meeting covers it; uncovered ones carry forward."""

    __tablename__ = "topic"
    __table_args__ = (Index("ix_topic_pair_id_meeting_id", "pair_id", "meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(TOPIC_MAX))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The adder's role when they added it: the mentee leads, so their topics come first.
    added_by_role: Mapped[Role] = mapped_column(_enum(Role, "topic_added_by_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"))

    meeting: Mapped[Meeting | None] = relationship(back_populates="topics", lazy="raise")


class ActionItem(db.Model):
    __tablename__ = "action_item"
    __table_args__ = (Index("ix_action_item_pair_id_done", "pair_id", "done"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(ACTION_MAX))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    due_on: Mapped[date | None] = mapped_column(Date)
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goal.id", ondelete="SET NULL"))
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting | None] = relationship(back_populates="action_items", lazy="raise")


class Reflection(db.Model):
    """A private reflection on a meeting. Only its author may ever read it: every query for it
    filters by ``author_id`` (see app/journal), and no other code reads this table."""

    __tablename__ = "reflection"
    __table_args__ = (UniqueConstraint("meeting_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NextMeeting(db.Model):
    """When the pair meets next. ``starts_at`` is UTC; ``timezone`` is where it was planned."""

    __tablename__ = "next_meeting"

    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    length_minutes: Mapped[int] = mapped_column(Integer, default=45)
    format: Mapped[MeetingFormat] = mapped_column(_enum(MeetingFormat, "next_meeting_format"), default=MeetingFormat.VIDEO)
    place: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def local_start(self) -> datetime:
        """The start on the clock of the person who planned it."""
        try:
            return self.starts_at.astimezone(ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
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
