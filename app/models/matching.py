"""Matching: a program's intake form and rules, each participant's answers, and the proposals.

Intake answers are program data, not pair content: the program's admin reads them, and nothing a
pair writes in its space ever lands here. They are personal data all the same (export, deletion
and retention include them): a participant's answers go when the participant does (cascade).
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow

SKILL_MAX = 60
SKILLS_MAX = 60
OTHER_MAX = 300
INTERESTS_MAX = 300
LOCATION_MAX = 120
LANGUAGES_MAX = 200
AVOID_MAX = 10
CAPACITY_MAX = 3
LEVEL_GAP_MAX = 10
WEIGHT_MAX = 10


class IntakeRole(enum.StrEnum):
    MENTOR = "mentor"
    MENTEE = "mentee"
    EITHER = "either"


# How long the two people have to answer a proposal sent to them; unanswered, it is a no.
ANSWER_DAYS = 7


class ProposalState(LabelledEnum):
    """A proposal's life. The labels are what the admin sees: after "sent", only whether the
    match is going ahead, never who said what."""

    PROPOSED = "proposed", "Proposed"  # the latest run's; a re-run replaces it
    LOCKED = "locked", "Locked"  # kept by the admin through every re-run
    REJECTED = "rejected", "Rejected"  # never proposed again
    SENT = "sent", "Waiting"  # sent to both people, who each say yes or no
    GOING_AHEAD = "going-ahead", "Going ahead"  # both said yes: their pair is made
    NOT_GOING_AHEAD = "not-going-ahead", "Not going ahead"  # a no, or no answer in time


class MatchingSettings(db.Model):
    """A program's intake form (its skills and which optional questions it asks) and matching
    rules. Made from the shipped default the first time the admin or a participant needs it."""

    __tablename__ = "matching_settings"
    __table_args__ = (
        CheckConstraint(f"capacity BETWEEN 1 AND {CAPACITY_MAX}", name="capacity_range"),
        CheckConstraint(f"level_gap BETWEEN 0 AND {LEVEL_GAP_MAX}", name="level_gap_range"),
    )

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), primary_key=True)
    # The program's own list of skills, in the order the form shows them.
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The optional questions the form asks (app.matching.intake.OPTIONAL); one switched off is
    # neither asked nor used.
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    level_gap: Mapped[int] = mapped_column(Integer, default=2)
    # Whether a higher level number means more senior (grade 7 above grade 3).
    higher_is_senior: Mapped[bool] = mapped_column(Boolean, default=True)
    different_department: Mapped[bool] = mapped_column(Boolean, default=True)
    # How many mentees one mentor may take.
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    weight_skills: Mapped[int] = mapped_column(Integer, default=3)
    weight_interests: Mapped[int] = mapped_column(Integer, default=1)
    weight_time_zone: Mapped[int] = mapped_column(Integer, default=1)
    weight_rhythm: Mapped[int] = mapped_column(Integer, default=1)


class Intake(db.Model):
    """One participant's answers. Department and level live on Participant (HR holds them too)."""

    __tablename__ = "intake"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), unique=True)
    role: Mapped[IntakeRole] = mapped_column(enum_column(IntakeRole, "intake_role"), default=IntakeRole.EITHER)
    teach: Mapped[list[str]] = mapped_column(JSON, default=list)
    teach_other: Mapped[str] = mapped_column(String(OTHER_MAX), default="")
    learn: Mapped[list[str]] = mapped_column(JSON, default=list)
    learn_other: Mapped[str] = mapped_column(String(OTHER_MAX), default="")
    interests: Mapped[str] = mapped_column(String(INTERESTS_MAX), default="")
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="")
    languages: Mapped[str] = mapped_column(String(LANGUAGES_MAX), default="")
    rhythm: Mapped[str] = mapped_column(String(20), default="")
    format: Mapped[str] = mapped_column(String(20), default="")
    # Work emails of people not to be paired with (a manager, reports). Checked against the
    # program's participants only when matching; never looked up while typing.
    avoid: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MatchProposal(db.Model):
    __tablename__ = "match_proposal"
    __table_args__ = (UniqueConstraint("program_id", "mentor_id", "mentee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    state: Mapped[ProposalState] = mapped_column(
        enum_column(ProposalState, "proposal_state"), default=ProposalState.PROPOSED
    )
    score: Mapped[float] = mapped_column(Float, default=0.0)
    # The proposal's reasons in plain words, as the run wrote them.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the admin sent it to both people; they answer within ANSWER_DAYS.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Each person's yes, kept only while the proposal waits. A no is never stored: it closes the
    # proposal at once and both yeses are cleared, so no row ever says who declined.
    mentor_yes: Mapped[bool] = mapped_column(Boolean, default=False)
    mentee_yes: Mapped[bool] = mapped_column(Boolean, default=False)
    # When it went ahead or didn't (for an unanswered one, the moment it ran out).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pair.id", ondelete="SET NULL"))

    @property
    def answer_by(self) -> datetime | None:
        return self.sent_at + timedelta(days=ANSWER_DAYS) if self.sent_at else None


class MatchingRun(db.Model):
    """The latest run of a program's matching: totals, and who was left unmatched and why."""

    __tablename__ = "matching_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    total_score: Mapped[float] = mapped_column(Float, default=0.0)
    # [{"participant_id": 3, "role": "mentee", "reason": "…"}], by name.
    unmatched: Mapped[list[dict]] = mapped_column(JSON, default=list)
