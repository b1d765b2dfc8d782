"""One-time sign-in links: single use, fifteen minutes, and only their hash is stored; and the
per-address limit on mailing them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from app import mail
from app.extensions import db
from app.forms import drop_control_characters
from app.models import SignInAttempt, SignInLink, User, normalise_email, utcnow
from app.urls import absolute_url

LINK_TTL = timedelta(minutes=15)

# Sign-in mails to one address: enough for a typo'd attempt and a retry, too few to flood an inbox.
MAILS_PER_ADDRESS = 3
MAIL_WINDOW = timedelta(minutes=15)
# Each request removes at most this many expired attempts (of any address): the table holds about
# one window's worth of requests, and no request pays for a big clean-up.
PRUNE_BATCH = 50


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret (link token, recovery code). A slow hash adds nothing when
    the secret carries 80 or more random bits; it only slows down sign-in."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user: User, next_path: str | None = None) -> str:
    """Make a new link for ``user`` and return its absolute URL on BASE_URL; ``next_path`` is where
    the person lands after signing in (checked again when it is used)."""
    token = secrets.token_urlsafe(32)
    db.session.add(SignInLink(user_id=user.id, token_hash=hash_secret(token), expires_at=utcnow() + LINK_TTL))
    return absolute_url("auth.link", token=token, next=next_path or None)


def mail_to(user: User, next_path: str | None = None) -> None:
    """Mail ``user`` a new link (to their own address, the only place a link ever goes from a
    page). The sign-in page and a program's join page both send through here, so whatever limits
    apply to one apply to the other. Commits: the link must exist before the mail is read."""
    url = issue(user, next_path)
    db.session.commit()
    mail.send(
        user.email,
        "Your Twoway sign-in link",
        f"Hi {user.first_name},\n\n"
        f"Here is your link to sign in to Twoway. It works once, within 15 minutes:\n\n{url}\n\n"
        "If you didn't ask for it, you can ignore this mail: nobody can sign in without the link.\n",
    )


def find_usable(token: str) -> SignInLink | None:
    """The link behind ``token`` if it can still sign someone in. Reads only: opening a link
    (or a mail scanner fetching it) must not use it up."""
    return db.session.scalar(
        select(SignInLink)
        .join(SignInLink.user)
        .where(
            SignInLink.token_hash == hash_secret(token),
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > utcnow(),
            User.active.is_(True),
        )
        .options(joinedload(SignInLink.user))
    )


def redeem(token: str) -> User | None:
    """Use the link up and return whose it was; None if it was used, expired or never existed.
    The conditional UPDATE makes the link single-use even when two requests race."""
    now = utcnow()
    user_id = db.session.scalar(
        update(SignInLink)
        .where(SignInLink.token_hash == hash_secret(token), SignInLink.used_at.is_(None), SignInLink.expires_at > now)
        .values(used_at=now)
        .returning(SignInLink.user_id)
    )
    if user_id is None:
        return None
    return db.session.scalar(select(User).where(User.id == user_id, User.active.is_(True)))


def address_key(email: str) -> str:
    """The HMAC (keyed with SECRET_KEY) of the cleaned, normalised ``email``: what the per-address
    limit counts by, so the database never holds the address of someone who isn't in Twoway."""
    cleaned = normalise_email(str(drop_control_characters(email)))
    return hmac.new(current_app.config["SECRET_KEY"].encode(), cleaned.encode(), hashlib.sha256).hexdigest()


def allow_mail(email: str) -> bool:
    """Count a request to mail a sign-in link to ``email`` and say whether one may be sent: at most
    MAILS_PER_ADDRESS per MAIL_WINDOW for one address, however it is typed, whichever worker or
    host answers. Call it before sending any sign-in link by mail, for every address asked for,
    known to Twoway or not (so the answer reveals nothing), then commit: the count lives in the
    session's transaction. A refused request is not recorded, so one address never has more than
    MAILS_PER_ADDRESS rows. Always True while RATELIMIT_ENABLED is off (tests)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    key = address_key(email)
    now = utcnow()
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise requests for one address, so two workers can't both see two mails and send a
        # fourth. (SQLite needs nothing: writing transactions there start with BEGIN IMMEDIATE.)
        db.session.execute(select(func.pg_advisory_xact_lock(int(key[:15], 16))))
    expired = (
        select(SignInAttempt.id)
        .where(SignInAttempt.created_at < now - MAIL_WINDOW)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    db.session.execute(delete(SignInAttempt).where(SignInAttempt.id.in_(expired)))
    recent = db.session.scalar(
        select(func.count(SignInAttempt.id)).where(
            SignInAttempt.address_key == key, SignInAttempt.created_at >= now - MAIL_WINDOW
        )
    )
    if recent >= MAILS_PER_ADDRESS:
        return False
    db.session.add(SignInAttempt(address_key=key, created_at=now))
    db.session.flush()
    return True
