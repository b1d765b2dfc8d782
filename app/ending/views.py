"""``/pairs/<id>/close`` and ``/pairs/<id>/closing-reflection``: closing a pair early, and each
person's look back. Registered under the ``pair`` blueprint, which has loaded the membership (or
answered 404) and refuses writes to a closed pair but for these last words (``authz``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, url_for
from sqlalchemy.exc import IntegrityError

from app import authz, htmx
from app.ending import closing
from app.ending.forms import CloseForm, ClosingReflectionForm
from app.extensions import db
from app.models import ClosingReflection, utcnow
from app.reminders import outbox

bp = Blueprint("ending", __name__)

CLOSE_TEMPLATE = "ending/close.html"
CLOSED_TEMPLATE = "ending/closed.html"
REFLECTION_TEMPLATE = "ending/reflection.html"


@bp.get("/close")
def confirm_close() -> Response:
    return htmx.render(CLOSE_TEMPLATE, form=CloseForm.blank())


@bp.post("/close")
def close() -> Response:
    membership = authz.current_membership()
    if membership.pair.closed:
        # A second tap, or the partner closing it a moment earlier: nothing changes.
        flash("Your pair is already closed.", "success")
        return htmx.redirect(url_for("pair.home"))
    form = CloseForm()
    if not form.validate():
        return htmx.render(CLOSE_TEMPLATE, status=422, form=form)
    ids = closing.close_early(membership, (form.reason.data or "").strip(), bool(form.share.data))
    db.session.commit()
    if ids is None:
        # Closed between this page's check and its UPDATE: nobody is told twice, nor told why.
        flash("Your pair had already closed, a moment before you pressed: nothing changed.", "success")
        return htmx.redirect(url_for("pair.home"))
    outbox.queue_sending(ids)
    flash(f"Your pair is closed. {membership.partner().user.first_name} has been told, and not why.", "success")
    return htmx.redirect(url_for("pair.home"))


def _my_reflection() -> ClosingReflection | None:
    return db.session.scalar(authz.my_closing_reflection())


def closed_home() -> Response:
    """The home of a closed pair: what they did together, and what is still open to them."""
    membership = authz.current_membership()
    pair = membership.pair
    return htmx.render(
        CLOSED_TEMPLATE,
        summary=closing.summary(pair),
        reflection=_my_reflection(),
        still_open=closing.still_open(pair),
        open_until=closing.open_until(pair),
    )


def _reflection_context(**extra: Any) -> dict[str, Any]:
    pair = authz.current_membership().pair
    return {
        "still_open": not pair.closed or closing.still_open(pair),
        "open_until": closing.open_until(pair),
    } | extra


@bp.get("/closing-reflection")
def reflection() -> Response:
    mine = _my_reflection()
    return htmx.render(
        REFLECTION_TEMPLATE, form=ClosingReflectionForm.blank(obj=mine), saved=mine, **_reflection_context()
    )


@bp.post("/closing-reflection")
def save_reflection() -> Response:
    """Save the signed-in person's closing reflection (one per person and pair: a second save
    replaces the first, so a double tap stores it once)."""
    membership = authz.current_membership()
    form = ClosingReflectionForm()
    if not form.validate():
        return htmx.render(REFLECTION_TEMPLATE, status=422, form=form, saved=None, **_reflection_context())
    mine = _my_reflection()
    if mine is None:
        try:
            with db.session.begin_nested():
                mine = ClosingReflection(pair_id=membership.pair_id, author_id=membership.user_id)
                db.session.add(mine)
                db.session.flush()
        except IntegrityError:
            # Two taps at once: the other made the row a moment ago; this one saves over it.
            mine = _my_reflection()
    for name, value in form.values().items():
        setattr(mine, name, value)
    mine.updated_at = utcnow()
    db.session.commit()
    return htmx.after_write(
        url_for(".reflection"),
        REFLECTION_TEMPLATE,
        blocks=("closing_reflection",),
        context=lambda: _reflection_context(form=ClosingReflectionForm.blank(obj=mine), saved=mine),
        notice="Saved. Only you can read it.",
    )
