"""The program dashboard and the requests for help sent to a program's admin, who answers them.

Everything here is read through ``app.admin.aggregates``: the published snapshots (noised counts
and averages, already suppressed below the program's privacy threshold: no page here computes a
figure), and the help messages participants wrote to the admin.
An answer reaches the person who asked alone: they are told by their chosen channel that there
is one (never its words), and read it on their program page.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, flash, url_for
from flask_login import current_user

from app import htmx
from app.admin import aggregates, audit
from app.admin.forms import AnswerForm, answer_form, answer_form_prefix
from app.extensions import db
from app.forms import EmptyForm
from app.models import AuditAction, utcnow
from app.reminders import help_answers

# Registered under the ``admin`` blueprint (app/admin/area.py), which has checked for an admin.
bp = Blueprint("dashboard", __name__, url_prefix="/programs/<int:program_id>")


def _board(program_id: int) -> aggregates.Dashboard:
    board = aggregates.dashboard(program_id)
    if board is None:
        abort(404)
    return board


@bp.get("/dashboard")
def show(program_id: int) -> Response:
    board = _board(program_id)
    return htmx.render("admin/dashboard.html", program_id=program_id, program_name=board.program_name, board=board)


def _cell(value: str) -> str:
    """Department names come from imported spreadsheets: a cell starting like a formula is
    written as text, so opening the download never runs one."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@bp.get("/dashboard.csv")
def download(program_id: int) -> Response:
    board = _board(program_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("section", "item", "value", "give_or_take"))
    writer.writerows(tuple(_cell(value) for value in row) for row in aggregates.dashboard_rows(board))
    # Kept in the program's log: a file that leaves Twoway is an action worth knowing of.
    audit.record_read(program_id, AuditAction.CSV_EXPORTED)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="program-{board.program_id}-dashboard.csv"'
    return response


TEMPLATE = "admin/dashboard.html"


def _help_context(program_id: int, name: str, requests: list[aggregates.HelpRequestView], **extra: Any) -> dict:
    forms = {r.id: answer_form(r.id, r.answer, r.answered_at) for r in requests} | extra.pop("forms", {})
    return {
        "program_id": program_id,
        "program_name": name,
        "help_view": True,
        "requests": requests,
        "forms": forms,
        "form": EmptyForm.blank(),
    } | extra


def _program_name(program_id: int) -> str:
    name = aggregates.program_name(program_id)
    if name is None:
        abort(404)
    return name


@bp.get("/help")
def help_requests(program_id: int) -> Response:
    name = _program_name(program_id)
    requests = aggregates.help_requests(program_id)
    if requests:
        # Who read the participants' requests, and when: kept in the program's log.
        audit.record_read(program_id, AuditAction.HELP_READ, requests=len(requests))
    return htmx.render(TEMPLATE, **_help_context(program_id, name, requests))


def _one_request(
    program_id: int, request: aggregates.HelpRequestView, form: AnswerForm, status: int, **extra
) -> Response:
    """A refused answer, with what the admin typed kept: the request's card for htmx, else the page."""
    name = _program_name(program_id)
    requests = aggregates.help_requests(program_id)
    context = _help_context(program_id, name, requests, forms={request.id: form}, r=request, **extra)
    return htmx.render(TEMPLATE, blocks=("help_request",), status=status, **context)


@bp.post("/help/<int:request_id>/answer")
def answer_help_request(program_id: int, request_id: int) -> Response:
    request = aggregates.help_request(program_id, request_id)
    if request is None:
        abort(404)
    form = AnswerForm(prefix=answer_form_prefix(request_id))
    if not form.validate():
        return _one_request(program_id, request, form, 422)
    outcome = aggregates.answer_help_request(
        request, form.answer.data, base=form.base(), admin_id=current_user.id, now=utcnow()
    )
    if outcome is aggregates.Answered.CONFLICT:
        db.session.rollback()
        current = aggregates.help_request(program_id, request_id) or request
        form.answer.errors.append(
            "Another admin answered while you were writing: their answer is shown above. Yours is "
            "below and was not sent; send it to replace theirs."
        )
        # Sending again means "replace theirs": the form now stands on the answer it has seen.
        form.answered_at.data = current.answered_at.isoformat() if current.answered_at else ""
        return _one_request(program_id, current, form, 409)
    if outcome is aggregates.Answered.SAVED:
        # In the answer's own transaction: an answer is never kept without its line in the log.
        audit.record(program_id, AuditAction.HELP_ANSWERED, subject_id=aggregates.help_sender(request_id))
    db.session.commit()
    if outcome is aggregates.Answered.SAVED:
        help_answers.tell_sender(request_id, amended=request.answered_at is not None)
        notice = f"Sent to {request.sender_name} alone: they are told there is an answer, and read it in Twoway."
    else:
        notice = "That is the answer already sent: nothing changed."

    def card() -> dict:
        saved = aggregates.help_request(program_id, request_id) or request
        return _help_context(program_id, _program_name(program_id), [saved], r=saved)

    return htmx.after_write(
        url_for(".help_requests", program_id=program_id) + f"#help_request-{request_id}",
        TEMPLATE,
        blocks=("help_request",),
        context=card,
        notice=notice,
    )


@bp.post("/help/<int:request_id>/handled")
def mark_handled(program_id: int, request_id: int) -> Response:
    if not aggregates.mark_handled(program_id, request_id):
        abort(404)
    db.session.commit()
    flash("Marked as handled.", "success")
    return htmx.redirect(url_for(".help_requests", program_id=program_id))
