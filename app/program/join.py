"""``/join/<token>``: a program's join page, the only way in that an admin hands out.

The admin shows this page's link or QR code at the kick-off. It signs nobody in: a person types
their own work email, and if they are one of the program's participants a one-time sign-in link
is mailed to that address, through the same function as the sign-in page's "Email me a link".
Whoever holds the join link (the admin included) learns nothing from it: the page answers
every address the same way, and the link ends up only in the participant's own inbox.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, url_for
from sqlalchemy import select

from app import htmx
from app.auth import links
from app.auth.views import LINK_REQUEST_LIMIT
from app.authz import public
from app.extensions import db, limiter
from app.models import Program
from app.program.forms import JoinForm

bp = Blueprint("join", __name__, url_prefix="/join")

TEMPLATE = "program/join.html"
# Longer than any token we make: such a URL is answered without asking the database.
TOKEN_MAX = 64


def _program(token: str) -> Program:
    if len(token) > TOKEN_MAX:
        abort(404)
    return db.first_or_404(select(Program).where(Program.join_token == token))


@bp.get("/<token>")
@public
def page(token: str) -> Response:
    return htmx.render(TEMPLATE, program=_program(token), form=JoinForm.blank())


@bp.post("/<token>")
@public
# The sign-in page's limits, so a join page is no way round them: the per-address count is kept in
# the database by links.allow_mail, one count for both pages.
@limiter.limit(LINK_REQUEST_LIMIT)
def send_link(token: str) -> Response:
    program = _program(token)
    form = JoinForm()
    if not links.allow_mail(form.email.data or ""):
        abort(429)
    if not form.validate():
        return htmx.render(TEMPLATE, blocks=("join_form",), program=program, form=form, status=422)
    db.session.commit()  # the attempt counts whether or not the address takes part
    # Queued for every address alike; the worker finds out whether it takes part in this program.
    links.request_mail(form.email.data, program_id=program.id)
    # The same words and status for a participant, a stranger, and someone from another program:
    # the page must not tell whoever holds the link who takes part.
    sent = (
        f"If you're taking part in {program.name}, a sign-in link is on its way to {form.email.data}. "
        "It works once, for 15 minutes."
    )
    return htmx.after_write(
        url_for(".page", token=token),
        TEMPLATE,
        blocks=("join_form",),
        context=lambda: {"program": program, "form": JoinForm.blank()},
        notice=sent,
    )
