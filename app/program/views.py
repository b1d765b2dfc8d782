"""``/pairs/<id>/program``: the program as its admin sees it, and "Ask the program for help".

Registered under the ``pair`` blueprint, which has loaded the membership (or answered 404) before
these run. The figures come from ``app.admin.aggregates``, the same function the admin dashboard
uses (it reads the published snapshots), so this page shows exactly what the admin sees.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for

from app import authz, htmx
from app.admin import aggregates, audit
from app.ending import retention
from app.extensions import db
from app.idempotency import idempotent
from app.models import HELP_MAX, HelpRequest
from app.program.forms import HelpForm
from app.reminders import admin as admin_reminders

bp = Blueprint("program", __name__, url_prefix="/program")

TEMPLATE = "program/index.html"


def _context(**extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    program_id = membership.pair.program_id
    return {
        "board": aggregates.dashboard(program_id),
        "asked": authz.help_requests_known_to(membership),
        "answers": {row.id: row for row in authz.help_answers_to(membership)},
        "form": HelpForm.blank(),
        "help_max": HELP_MAX,
        "admin_actions": audit.concerning(membership.user_id, [program_id]).get(program_id, []),
        "deletes_on": retention.pair_deletes_on(membership.pair),
    } | extra


@bp.get("")
def index() -> Response:
    return htmx.render(TEMPLATE, **_context())


@bp.post("/help")
@idempotent
def ask_for_help() -> Response:
    membership = authz.current_membership()
    form = HelpForm()
    if not form.validate():
        return htmx.render(TEMPLATE, blocks=("help",), status=422, **_context(form=form))
    help_request = HelpRequest(
        program_id=membership.pair.program_id,
        sender_id=membership.user_id,
        pair_id=membership.pair_id,
        message=form.message.data.strip(),
        partner_told=bool(form.tell_partner.data),
    )
    db.session.add(help_request)
    db.session.flush()
    # The admins' notices are stored with the request (``@idempotent`` commits both) and sent
    # once that commit is done: that one arrived, never its words or who sent it.
    admin_reminders.tell_admins(help_request)
    return htmx.after_write(
        url_for(".index") + "#help",
        TEMPLATE,
        blocks=("help",),
        context=_context,
        notice="Sent. The program's admin will get back to you.",
    )
