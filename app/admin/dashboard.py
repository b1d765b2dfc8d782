"""The program dashboard and the requests for help sent to a program's admin.

Everything here is read through ``app.admin.aggregates``: counts and averages already suppressed
below the program's privacy threshold, and the help messages participants wrote to the admin.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, abort, flash, url_for

from app import htmx
from app.admin import aggregates
from app.extensions import db
from app.forms import EmptyForm

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
    writer.writerow(("section", "item", "value"))
    writer.writerows(tuple(_cell(value) for value in row) for row in aggregates.dashboard_rows(board))
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="program-{board.program_id}-dashboard.csv"'
    return response


@bp.get("/help")
def help_requests(program_id: int) -> Response:
    name = aggregates.program_name(program_id)
    if name is None:
        abort(404)
    return htmx.render(
        "admin/dashboard.html",
        program_id=program_id,
        program_name=name,
        help_view=True,
        requests=aggregates.help_requests(program_id),
        form=EmptyForm(),
    )


@bp.post("/help/<int:request_id>/handled")
def mark_handled(program_id: int, request_id: int) -> Response:
    if not aggregates.mark_handled(program_id, request_id):
        abort(404)
    db.session.commit()
    flash("Marked as handled.", "success")
    return htmx.redirect(url_for(".help_requests", program_id=program_id))
