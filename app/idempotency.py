"""Create forms make one thing, however often they are sent.

Every create form carries an idempotency key (``IdempotentForm``), new each time the form is drawn
blank and kept when it comes back with a validation error. Its view is wrapped in ``@idempotent``:
the first submission with a key claims it and stores its answer in the same transaction as what
it created; a double tap, or a retry after a lost answer, waits for that transaction and gets the
same answer (the same redirect, or the same fragment) without creating anything.

Views under ``@idempotent`` do not commit: the wrapper commits the claim, the writes and the
answer together, so a crash leaves either all of them or none.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TypeVar

from flask import Response, abort, make_response, request
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField

from app import htmx
from app.extensions import db
from app.models import IDEMPOTENCY_KEY_MAX, IdempotencyKey, utcnow

FIELD = "idempotency_key"
KEPT_FOR = timedelta(hours=24)
_VALID_KEY = re.compile(rf"[A-Za-z0-9_-]{{16,{IDEMPOTENCY_KEY_MAX}}}")
# What a replay needs to answer as the first submission did; the rest comes from the app's hooks.
_REPLAYED_HEADERS = ("Location", "Content-Type", *htmx.RESPONSE_HEADERS)

F = TypeVar("F", bound=Callable[..., Response])


def new_key() -> str:
    return secrets.token_urlsafe(16)


class IdempotentForm:
    """Mix into a create form: it then carries a fresh key each time it is drawn blank."""

    idempotency_key = HiddenField(default=new_key)

    class Meta:
        def bind_field(self, form, unbound_field, options):
            # Under a form prefix the key keeps the bare name ``@idempotent`` reads, and a
            # prefixed id, so several create forms can share a page (a goal's milestone boxes).
            if options.get("name") == FIELD and options.get("prefix"):
                options = {**options, "id": options["prefix"] + FIELD, "prefix": ""}
            return super().bind_field(form, unbound_field, options)


def idempotent(view: F) -> F:
    """Run ``view`` once per (person, key); replay its answer for every later submission."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.form.get(FIELD, "")
        claim = None
        # Forms drawn by Twoway always carry a key; a hand-made request without one is simply not
        # protected against its own repeats.
        if _VALID_KEY.fullmatch(key):
            _forget_old_keys()
            try:
                with db.session.begin_nested():
                    claim = IdempotencyKey(user_id=current_user.id, key=key, headers={}, body="")
                    db.session.add(claim)
            except IntegrityError:
                # This person sent the same form a moment ago: the database made us wait until
                # that transaction ended, so its answer is there to replay.
                return _replay(key)
        response = make_response(view(*args, **kwargs))
        if response.status_code >= 400:
            # Nothing was made: the key stays free for the corrected form, which keeps it.
            db.session.rollback()
            return response
        if claim is not None:
            claim.status = response.status_code
            claim.headers = {name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers}
            claim.body = "" if response.is_streamed else response.get_data(as_text=True)
        db.session.commit()
        return response

    return wrapper  # type: ignore[return-value]


def _replay(key: str) -> Response:
    stored = db.session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key)
    )
    if stored is None or stored.status is None:
        # The claim, the writes and the answer are committed together, so this is a key pruned
        # between two submissions a day apart: say so rather than make the thing twice.
        abort(409)
    response = make_response(stored.body, stored.status)
    for name, value in stored.headers.items():
        response.headers[name] = value
    return response


def _forget_old_keys() -> None:
    db.session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == current_user.id, IdempotencyKey.created_at < utcnow() - KEPT_FOR
        )
    )
