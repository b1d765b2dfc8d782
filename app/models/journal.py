"""The session journal: topics for next time, the meetings a pair logs, their action items and
private reflections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
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
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow

TOPIC_MAX = 300
ACTION_MAX = 300
TEXT_MAX = 10_000


class MeetingFormat(LabelledEnum):
    IN_PERSON = "in-person", "In person"
    VIDEO = "video", "Video"
    CALL = "call", "Call"
    CHAT = "chat", "Chat"


class Meeting(db.Model):
    """One logged meeting: shared notes both can read; reflections are separate and private."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_pair_id_held_on", "pair_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    length_minutes: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[MeetingFormat] = mapped_column(
        enum_column(MeetingFormat, "meeting_format"), default=MeetingFormat.VIDEO
    )
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
    added_by_role: Mapped[Role] = mapped_column(enum_column(Role, "topic_added_by_role"))
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
    # Two tabs of the same person can collide too: a stale save gets the conflict view.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
