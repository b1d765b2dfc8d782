"""Feedback prompts and the answers both partners give.

Rounds of feedback are not stored: which rounds are due follows from the program's cadences and
the pair's meetings and dates (so opening a page never has to write). An answer names its round
by a key such as ``meeting-12``, ``week-3``, ``midpoint`` or ``end``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, enum_column, utcnow

ROUND_KEY_MAX = 40
ANSWER_MAX = 2_000


class PromptKind(enum.StrEnum):
    SCALE = "scale"  # 1 to 5
    YES_NO = "yes-no"
    TEXT = "text"


class PromptSet(db.Model):
    __tablename__ = "prompt_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prompts: Mapped[list[Prompt]] = relationship(
        back_populates="prompt_set", lazy="raise", cascade="all, delete-orphan", order_by="Prompt.position"
    )


class Prompt(db.Model):
    __tablename__ = "prompt"

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_set_id: Mapped[int] = mapped_column(ForeignKey("prompt_set.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(300))
    kind: Mapped[PromptKind] = mapped_column(enum_column(PromptKind, "prompt_kind"))
    # "Are we meeting as often as we agreed?" is answered with the ground rules' cadence in view.
    about_rhythm: Mapped[bool] = mapped_column(Boolean, default=False)

    prompt_set: Mapped[PromptSet] = relationship(back_populates="prompts", lazy="raise")


class FeedbackAnswer(db.Model):
    """One person's answer to one prompt in one round. Free text is either shared with the
    partner (shown once both have answered the round) or private (its author alone)."""

    __tablename__ = "feedback_answer"
    __table_args__ = (
        UniqueConstraint("pair_id", "round_key", "prompt_id", "user_id"),
        Index("ix_feedback_answer_prompt_id_created_at", "prompt_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    round_key: Mapped[str] = mapped_column(String(ROUND_KEY_MAX))
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompt.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    score: Mapped[int | None] = mapped_column(Integer)
    yes: Mapped[bool | None] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedbackSubmission(db.Model):
    """A member finished a round: shared answers of the round are revealed when both have."""

    __tablename__ = "feedback_submission"
    __table_args__ = (UniqueConstraint("pair_id", "round_key", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"), index=True)
    round_key: Mapped[str] = mapped_column(String(ROUND_KEY_MAX))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
