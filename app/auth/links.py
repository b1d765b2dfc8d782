"""One-time sign-in links: single use, fifteen minutes, and only their hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app import mail
from app.extensions import db
from app.models import SignInLink, User, utcnow
from app.urls import absolute_url

LINK_TTL = timedelta(minutes=15)


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
