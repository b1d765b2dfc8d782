"""Downloading one's own data from the account page: a POST starts an export (one per double
tap), a signed-in GET fetches the file. Small exports are built by the request itself; bigger
ones by a worker, which emails the person when theirs is ready. Nothing of an export is ever
reached through a mailed link: the mail points at the account page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Response, abort, after_this_request, current_app, flash, send_file, url_for
from flask_login import current_user

from app import authz, htmx, queue
from app.export import builder, tasks
from app.extensions import db
from app.forms import Form
from app.idempotency import IdempotentForm, idempotent
from app.models import EXPORT_KEPT_FOR, DataExport, ExportState, utcnow
from app.reminders.messages import when

bp = Blueprint("export", __name__, url_prefix="/account/export")

# A worker that hasn't finished an export within this long never will (a broker that lost the
# task, a worker that stopped): the page says so, and a new export may be asked for.
STUCK_AFTER = timedelta(hours=1)
SECTION = "account.passkeys"


class ExportForm(IdempotentForm, Form):
    """The "Download my data" button: its key makes a double tap one export."""


@dataclass(frozen=True)
class Shown:
    """An export as the account page shows it."""

    export: DataExport
    made: str
    until: str
    stuck: bool

    @property
    def size(self) -> str:
        size = self.export.size_bytes or 0
        if size < 1024 * 1024:
            return f"{max(1, round(size / 1024))} KB"
        return f"{size / (1024 * 1024):.1f} MB"


def section() -> dict:
    """What the account page's "Your data" section needs: one query."""
    now = utcnow()
    exports = db.session.scalars(
        authz.own_exports()
        .where(DataExport.expires_at > now)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
        .limit(1)
    ).all()
    zone = current_user.zone
    shown = [
        Shown(
            e,
            when(e.created_at, zone),
            when(e.expires_at, zone),
            e.state == ExportState.BUILDING and now - e.created_at > STUCK_AFTER,
        )
        for e in exports
    ]
    return {"latest_export": shown[0] if shown else None, "export_form": ExportForm.blank()}


def _account_page() -> str:
    return url_for(SECTION) + "#your-data"


@bp.post("", endpoint="start")
@idempotent
def start() -> Response:
    now = utcnow()
    building = db.session.scalar(
        authz.own_exports()
        .where(DataExport.state == ExportState.BUILDING, DataExport.created_at > now - STUCK_AFTER)
        .with_only_columns(DataExport.id)
        .limit(1)
    )
    if building is not None:
        flash("Your export is still being prepared. We'll email you when it's ready.", "success")
        return htmx.redirect(_account_page())
    rows = builder.count_rows(current_user.id)
    export = DataExport(user_id=current_user.id, rows=rows, created_at=now, expires_at=now + EXPORT_KEPT_FOR)
    db.session.add(export)
    db.session.flush()
    if rows <= current_app.config["EXPORT_IN_REQUEST_ROWS"]:
        tasks.finish(export, builder.build(export, current_user._get_current_object(), tasks.folder()))
        return htmx.redirect(url_for(".download", token=export.token))

    export_id = export.id

    @after_this_request
    def hand_over(response: Response) -> Response:
        # After ``@idempotent`` has committed the export: the worker must find it.
        if response.status_code < 400:
            queue.enqueue(tasks.build_export, export_id)
        return response

    flash(
        "We're preparing your export: there's a lot of it. We'll email you when it's ready, "
        "and it will be here on this page.",
        "success",
    )
    return htmx.redirect(_account_page())


@bp.get("/<token>.zip")
def download(token: str) -> Response:
    export = authz.own_export(token)
    path = tasks.folder() / export.file_name
    if not path.is_file():
        abort(404)
    made = export.ready_at or export.created_at
    response = send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"twoway-export-{made:%Y-%m-%d}.zip",
        conditional=False,
        etag=False,
        max_age=0,
    )
    # Private data: no cache on the way, nor in the browser, keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
