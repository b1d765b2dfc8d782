"""Starting and ending a signed-in session."""

from __future__ import annotations

from flask import session
from flask_login import login_user, logout_user

from app.models import User, utcnow


def start(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing from before sign-in is carried over."""
    session.clear()
    login_user(user)
    session.permanent = True
    user.last_signed_in_at = utcnow()


def end(user: User) -> None:
    """Sign out. Bumping the generation invalidates every cookie issued to ``user`` so far, so a
    copy of the cookie taken before sign-out is worthless afterwards (on every device)."""
    user.session_generation += 1
    logout_user()
    session.clear()
