"""People and the ways they prove who they are: passkeys, one-time links, recovery codes."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

import email_validator
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    Select,
    String,
    Time,
    false,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

EMAIL_MAX = 254

if TYPE_CHECKING:
    from app.models.program import PairMember


TIME_ZONE_MAX = 64
UTC_ZONE = ZoneInfo("UTC")


def new_user_handle() -> bytes:
    """A random WebAuthn user handle: it must not reveal the email or the database id."""
    return secrets.token_bytes(32)


class User(db.Model):
    __tablename__ = "user"
    __table_args__ = (
        # Addresses are stored lower-cased so that uniqueness is case-insensitive on every database.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Owners run the instance: they administer every program and name each program's admins.
    # Every owner is an admin too (``is_admin``), never a participant.
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    webauthn_user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True, default=new_user_handle)
    # Part of the session cookie's user id: bumping it ends every session this person has.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set at every sign-in.
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once, at the first sign-in: "joined" on the admin's participants page means exactly this,
    # never a guess from other columns.
    first_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The person's clock (an IANA name such as "Europe/Berlin"): times they type and read mean it.
    # Taken from their browser on their first visit, changed on their account page; None until then.
    time_zone: Mapped[str | None] = mapped_column(String(TIME_ZONE_MAX))
    # Quiet hours on the person's own clock (from, until; may wrap past midnight): reminders
    # wait until they end. Both None: no quiet hours.
    quiet_from: Mapped[time | None] = mapped_column(Time)
    quiet_until: Mapped[time | None] = mapped_column(Time)

    passkeys: Mapped[list[Passkey]] = relationship(
        back_populates="user", lazy="raise", cascade="all, delete-orphan", order_by="Passkey.created_at"
    )
    memberships: Mapped[list[PairMember]] = relationship(back_populates="user", lazy="raise")

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    # Flask-Login's interface.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_generation}"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name

    @property
    def zone(self) -> ZoneInfo:
        """The person's time zone, UTC while it is not known."""
        return zone_named(self.time_zone or "") or UTC_ZONE

    @staticmethod
    def by_email(email: str) -> Select[tuple[User]]:
        return select(User).where(User.email == normalise_email(email))

    @property
    def has_joined(self) -> bool:
        """Signed in at least once. From then on the address is theirs: nobody else may change it."""
        return self.first_signed_in_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


def normalise_email(value: str) -> str:
    return value.strip().lower()


def valid_email(value: str) -> bool:
    """The one test of an email address, for forms, the CSV import and the command line alike:
    its syntax (no look-up of the domain: an intranet's may not resolve from here) and its length."""
    if len(value) > EMAIL_MAX:
        return False
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


# Names the zone database carries that are no place on Earth: "localtime" is whichever clock the
# host serving the request runs on (two hosts, two answers), "posixrules" a build default, and
# "Factory" shows "-00".
NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_PLACES


def zone_named(name: str) -> ZoneInfo | None:
    """The time zone called ``name`` if it is one of the system's IANA zones, else None."""
    return ZoneInfo(name) if name in time_zone_names() else None


class Passkey(db.Model):
    __tablename__ = "passkey"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    aaguid: Mapped[str] = mapped_column(String(36))
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    nickname: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="passkeys", lazy="raise")


class SignInLink(db.Model):
    """A one-time sign-in link. Only the token's SHA-256 is kept, so a database leak signs nobody in."""

    __tablename__ = "sign_in_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="raise")


class RecoveryCode(db.Model):
    """A single-use recovery code; only its SHA-256 is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebAuthnChallenge(db.Model):
    """A challenge handed to the browser, kept on the server until it is used once or expires.

    The session cookie holds only ``id``; the challenge itself never leaves the database except
    inside the options sent to the authenticator. Keeping it in the shared database (not in one
    worker's memory) lets any gunicorn worker on any host finish the ceremony.
    """

    __tablename__ = "webauthn_challenge"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    challenge: Mapped[bytes] = mapped_column(LargeBinary(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
