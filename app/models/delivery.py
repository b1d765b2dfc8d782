"""What Twoway sends people: each delivery claimed once under a unique key, each person's choice
of channel per kind and their quiet hours, the browsers they get push notifications on, and the
moment the last reminder pass ran."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow

SUBJECT_MAX = 120
ERROR_MAX = 200


class Kind(enum.StrEnum):
    """What a delivery is about. The first two are never held and never turned off."""

    SIGN_IN = "sign-in"
    SECURITY = "security"
    MEETING_DAY_BEFORE = "meeting-day-before"
    MEETING_HOUR_BEFORE = "meeting-hour-before"
    CHECK_IN_OPEN = "check-in-open"
    CHECK_IN_LAPSING = "check-in-lapsing"
    ACTION_DUE = "action-due"
    GROUND_RULES_WAITING = "ground-rules-waiting"
    QUIET_PAIR = "quiet-pair"
    HELP_REQUEST = "help-request"
    ADMIN_DIGEST = "admin-digest"
    HELP_ANSWER = "help-answer"
    MATCH = "match"
    PAIR_ENDING_SOON = "pair-ending-soon"
    PAIR_CLOSED = "pair-closed"
    EXPORT_READY = "export-ready"


class Channel(enum.StrEnum):
    EMAIL = "email"
    PUSH = "push"
    OFF = "off"


class State(enum.StrEnum):
    """``queued`` → ``sending`` (claimed by one worker) → ``sent`` or ``failed``. ``held`` waits for
    the end of the person's quiet hours; ``dropped`` was no longer useful, or was turned off, before
    it was claimed. A delivery left in ``sending`` was claimed by a worker that stopped mid-send:
    it is reported (``flask reminders failed``), never sent again."""

    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class Delivery(db.Model):
    """One message to one person. The unique key (person, kind, subject, due moment) is taken
    before anything is sent, so a retried task, a second beat or a re-run can't send it twice.
    ``details`` holds names, times, places and counts only, never what a pair wrote."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "subject", "due_at", name="uq_delivery_key"),
        Index("ix_delivery_state_queued_at", "state", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "delivery_kind"))
    # What it is about, e.g. "meeting:12:2026-12-02T10:00" or "round:12:week-3".
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Held in quiet hours until then; None to send at once.
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Past this moment it is no longer worth sending (a meeting that started, an expired link).
    useful_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[State] = mapped_column(enum_column(State, "delivery_state"), default=State.QUEUED)
    # The channel it went out by, decided when it is claimed (the person may change their mind).
    channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "delivery_channel"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the last try failed, for operators: an exception's class and message, never the mail.
    error: Mapped[str] = mapped_column(String(ERROR_MAX), default="")


class NotificationPreference(db.Model):
    """A person's choice of channel for one kind; without a row, the kind's default applies."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "preference_kind"), primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "preference_channel"))


class PushSubscription(db.Model):
    """One browser (one installed app on one device) that receives a person's push notifications.
    The endpoint and keys come from the browser's PushManager; the push service answering 404 or
    410 for the endpoint drops the row."""

    __tablename__ = "push_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(Text)
    # SHA-256 of the endpoint: unique and indexable whatever the endpoint's length.
    endpoint_hash: Mapped[str] = mapped_column(String(64), unique=True)
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(60))
    # "Chrome on Android", from the browser's user agent when it subscribed.
    device: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReminderRun(db.Model):
    """The moment the reminder pass last covered: the next run covers (this moment, its own]."""

    __tablename__ = "reminder_run"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    covered_until: Mapped[datetime] = mapped_column(UTCDateTime)
