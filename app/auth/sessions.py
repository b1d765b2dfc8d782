"""Starting and ending a signed-in session, how recently this session proved who it is, and the
signed cookie that carries it."""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete
from werkzeug.wrappers import Request as AnyRequest

from app.extensions import db
from app.models import PushSubscription, User, utcnow

# Adding a way in (a passkey, recovery codes) needs a sign-in this recent: a session left open on a
# shared computer, or one somebody else got hold of, can't quietly add their own way in.
RECENT_SIGN_IN = timedelta(minutes=10)
_SIGNED_IN_AT = "signed_in_at"
# The push subscription this browser made while signed in (app/reminders/views.py add_device).
_PUSH_DEVICE = "push_device"


def start(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing from before sign-in is carried over."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = utcnow()
    session[_SIGNED_IN_AT] = now.timestamp()
    user.last_signed_in_at = now
    if user.first_signed_in_at is None:
        user.first_signed_in_at = now


def signed_in_recently() -> bool:
    """Whether this session began with a sign-in (passkey, link or code) in the last ten minutes."""
    stamp = session.get(_SIGNED_IN_AT)
    if not isinstance(stamp, int | float):
        return False
    return utcnow() - datetime.fromtimestamp(stamp, UTC) <= RECENT_SIGN_IN


def remember_push_device(subscription_id: int) -> None:
    session[_PUSH_DEVICE] = subscription_id


def end(user: User) -> None:
    """Sign out. Bumping the generation invalidates every cookie issued to ``user`` so far, so a
    copy of the cookie taken before sign-out is worthless afterwards (on every device). This
    browser stops getting their push notifications too: on a shared computer, the next person
    must not see whom ``user`` meets tomorrow."""
    device = session.get(_PUSH_DEVICE)
    if isinstance(device, int):
        db.session.execute(
            delete(PushSubscription).where(PushSubscription.id == device, PushSubscription.user_id == user.id)
        )
    user.session_generation += 1
    logout_user()
    session.clear()


def end_others(user: User) -> None:
    """End every session of ``user`` except this one: the generation moves on and this session's
    cookie is reissued with the new one (the time it signed in is kept). Every other browser's
    push subscription goes with them: a lost phone must not keep showing the reminders."""
    device = session.get(_PUSH_DEVICE)
    keep = device if isinstance(device, int) else None
    db.session.execute(
        delete(PushSubscription).where(PushSubscription.user_id == user.id, PushSubscription.id != (keep or 0))
    )
    user.session_generation += 1
    login_user(user)


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


class CookieSessions(SecureCookieSessionInterface):
    """Flask's own signed session cookie, opened for less. Flask builds its serializer twice per
    request and verifies the cookie's signature on each; an open pair page sends the same cookie
    every few seconds. Here the serializer is built once per key, and a cookie verified lately
    (the very same bytes, under the same keys) is not verified again: its contents are copied
    from the first opening, and its age is still checked against the session's lifetime."""

    KEPT = 1024  # cookies remembered per worker, least recently used out first

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}
        self._opened: OrderedDict[tuple, tuple[dict[str, Any], float]] = OrderedDict()

    @staticmethod
    def _keys(app: Flask) -> tuple:
        return (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = self._keys(app)
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_signing_serializer(app) is None:
            return None
        data = self.peek(app, request)
        # A copy: what the request changes must not change what the next one opens. Its values
        # are mostly plain texts and numbers, shared safely; the rest (a list) are copied.
        if not data:
            return self.session_class()
        return self.session_class(
            {key: value if type(value) in _IMMUTABLE else copy.deepcopy(value) for key, value in data.items()}
        )

    def peek(self, app: Flask, request: AnyRequest) -> Mapping[str, Any] | None:
        """The session the request's cookie holds, verified, never to be changed; None when there
        is no cookie or it doesn't verify (app/light.py reads it outside Flask's request cycle)."""
        serializer = self.get_signing_serializer(app)
        value = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not value:
            return None
        max_age = app.permanent_session_lifetime.total_seconds()
        known = (value, self._keys(app))
        # Taken out and put back, never looked up and then moved: under a threaded server another
        # request may push it out in between, and the move would fail this one with a KeyError.
        opened = self._opened.pop(known, None)
        if opened is not None and time.time() - opened[1] <= max_age:
            self._opened[known] = opened  # the most recently used now
            return opened[0]
        try:
            data, signed_at = serializer.loads(value, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return None
        self._opened[known] = (data, signed_at.timestamp())
        if len(self._opened) > self.KEPT:
            self._opened.popitem(last=False)
        return data
