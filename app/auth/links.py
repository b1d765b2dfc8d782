"""One-time sign-in links: single use, fifteen minutes, and only their hash is stored; and the
per-address limit on mailing them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from app import authz, queue, sealed
from app.extensions import db
from app.forms import drop_control_characters
from app.models import Kind, SignInAttempt, SignInLink, User, normalise_email, utcnow
from app.urls import absolute_url, local_path

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


def request_mail(email: str, next_path: str | None = None, program_id: int | None = None) -> None:
    """Queue a sign-in mail for the address someone typed, known to Twoway or not: the request
    does the same work, and takes the same time, for anyone. The worker decides whether there is
    anyone to mail (``mail_link``). From a program's join page, ``program_id`` says which program's
    participants may be mailed. Call ``allow_mail`` first."""
    asked = {"email": normalise_email(email), "next": next_path, "program": program_id}
    # Sealed: the embedded broker keeps the tasks it handed out, and the address may be a stranger's.
    queue.enqueue(mail_link, sealed.seal(SEALED_PURPOSE, asked))


SEALED_PURPOSE = "sign-in request"


@shared_task(name="twoway.mail_sign_in_link")
def mail_link(token: str) -> None:
    """In the worker: mail a new link to the address asked for if it is an open account (from
    the sign-in page) or one of the program's participants (from its join page, landing in their
    pair); anyone else gets nothing."""
    asked = sealed.unseal(SEALED_PURPOSE, token)
    email, next_path, program_id = asked["email"], asked["next"], asked["program"]
    if program_id is None:
        user = db.session.scalar(User.by_email(email).where(User.active.is_(True)))
    else:
        user = authz.joining_person(program_id, email)
        if user is not None:
            pair_id = authz.joining_pair_id(program_id, user.id)
            next_path = local_path("pair.home", pair_id=pair_id) if pair_id else None
    if user is not None:
        mail_to(user, next_path)


def mail_to(user: User, next_path: str | None = None) -> None:
    """Mail ``user`` a new link (to their own address, the only place a link ever goes from a
    page). The sign-in page and a program's join page both send through here (``mail_link``), so
    whatever limits apply to one apply to the other. The link itself is made when the mail is
    worded (app/reminders/account.py), and made again if the mail must be tried again; nobody
    is sent one after LINK_TTL."""
    from app.reminders import outbox

    outbox.deliver_now(user, Kind.SIGN_IN, secrets.token_hex(16), useful_until=utcnow() + LINK_TTL, next=next_path)


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
