"""Programs, the people taking part, the pairs in them (who is the mentor and who the mentee), and
requests for the program's help."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.ending import DEFAULT_RETENTION_MONTHS, PairEnding
from app.models.types import UTCDateTime, enum_column, utcnow
from app.models.user import User

DEFAULT_PRIVACY_THRESHOLD = 5
MIN_PRIVACY_THRESHOLD = 3
# The privacy budget of the dashboard's snapshots (see app/admin/snapshots.py and the README): what
# one snapshot spends, and the most a program spends in a calendar year. The defaults cover any
# year of the schedule: 12 monthly snapshots and one weekly for each Sunday, of which some years
# (2028, 2034) have 53.
DEFAULT_EPSILON_PER_RELEASE = 1.0
DEFAULT_EPSILON_PER_YEAR = 65.0
HELP_MAX = 4_000
DEPARTMENT_MAX = 120
LEVEL_MAX = 60


class Role(enum.StrEnum):
    # In reverse mentoring the mentor is usually the junior colleague and the mentee the senior one.
    MENTOR = "mentor"
    MENTEE = "mentee"


class PairStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


def new_join_token() -> str:
    """The random part of a program's join page URL: it names no program id, so outsiders can't
    walk through programs, and holding it lets nobody sign in (the page only mails links)."""
    return secrets.token_urlsafe(12)


class Program(db.Model):
    __tablename__ = "program"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint(f"privacy_threshold >= {MIN_PRIVACY_THRESHOLD}", name="privacy_threshold_min"),
        CheckConstraint("epsilon_per_release > 0 AND epsilon_per_year >= epsilon_per_release", name="privacy_budget"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The admin sees no figure that describes fewer than this many pairs.
    privacy_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_PRIVACY_THRESHOLD)
    # The dashboard's privacy budget: each snapshot spends epsilon_per_release, a year at most
    # epsilon_per_year; the smaller, the less any figure can tell about one pair.
    epsilon_per_release: Mapped[float] = mapped_column(Float, default=DEFAULT_EPSILON_PER_RELEASE)
    epsilon_per_year: Mapped[float] = mapped_column(Float, default=DEFAULT_EPSILON_PER_YEAR)
    # When pairs are asked for feedback: after each logged meeting, every N weeks (0: never),
    # at the midpoint and at the end.
    feedback_after_meeting: Mapped[bool] = mapped_column(Boolean, default=True)
    feedback_every_weeks: Mapped[int] = mapped_column(Integer, default=4)
    feedback_at_midpoint: Mapped[bool] = mapped_column(Boolean, default=True)
    feedback_at_end: Mapped[bool] = mapped_column(Boolean, default=True)
    prompt_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("prompt_set.id", ondelete="SET NULL", use_alter=True, name="fk_program_prompt_set_id_prompt_set")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # /join/<join_token>: the kick-off link and QR code the admin hands out (see app/program/join.py).
    join_token: Mapped[str] = mapped_column(String(32), unique=True, default=new_join_token)
    # How long pairs' words are kept after the program's end, then deleted (app/ending/retention.py).
    retention_months: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_RETENTION_MONTHS, server_default=str(DEFAULT_RETENTION_MONTHS)
    )
    # When retention deleted the last of the program's content: from then on only counts remain.
    content_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    pairs: Mapped[list[Pair]] = relationship(back_populates="program", lazy="raise")


class Pair(db.Model):
    __tablename__ = "pair"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    status: Mapped[PairStatus] = mapped_column(
        enum_column(PairStatus, "pair_status"),
        default=PairStatus.ACTIVE,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the pair is closed (app/ending/closing.py): how, when, and by whom if one of them did.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_how: Mapped[PairEnding | None] = mapped_column(enum_column(PairEnding, "pair_ending"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # How many writes to what both people see (app/pairs/changes.py bumps it at each commit): an
    # open page compares it with the count it was drawn at, and a page cache can key on it.
    change_count: Mapped[int] = mapped_column(default=0, server_default="0")

    program: Mapped[Program] = relationship(back_populates="pairs", lazy="raise")
    members: Mapped[list[PairMember]] = relationship(
        back_populates="pair", lazy="raise", cascade="all, delete-orphan", order_by="PairMember.role"
    )

    @property
    def closed(self) -> bool:
        return self.status == PairStatus.ENDED

    @classmethod
    def create(cls, program: Program, *, mentor: User, mentee: User) -> Pair:
        """A new pair with both its people: add it to the session and both are saved together."""
        pair = cls(program=program)
        pair.members = [PairMember(user=mentor, role=Role.MENTOR), PairMember(user=mentee, role=Role.MENTEE)]
        return pair

    def member(self, role: Role) -> PairMember:
        return next(m for m in self.members if m.role == role)

    @property
    def mentor(self) -> User:
        return self.member(Role.MENTOR).user

    @property
    def mentee(self) -> User:
        return self.member(Role.MENTEE).user


class PairMember(db.Model):
    __tablename__ = "pair_member"
    __table_args__ = (
        # One mentor and one mentee per pair, and never the same person twice.
        UniqueConstraint("pair_id", "role"),
        UniqueConstraint("pair_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "pair_role"))
    # Writes only this person sees (their private reflections): kept apart from the pair's count,
    # so the partner's open page can't tell when they happen.
    change_count: Mapped[int] = mapped_column(default=0, server_default="0")

    pair: Mapped[Pair] = relationship(back_populates="members", lazy="raise")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")

    def partner(self) -> PairMember:
        """The other person in this pair (the pair's members must be loaded)."""
        return next(m for m in self.pair.members if m.id != self.id)


class Participant(db.Model):
    """Someone taking part in a program, with what the admin may break figures down by."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("program_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(DEPARTMENT_MAX), default="")
    level: Mapped[str] = mapped_column(String(LEVEL_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HelpRequest(db.Model):
    """A participant asking the program's admin for help. Only this message and the sender's
    name reach the admin; the partner is told only if the sender chose so."""

    __tablename__ = "help_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pair.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text)
    partner_told: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The admin's answer, read by the sender alone (on their program page, and told by their channel).
    answer: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
