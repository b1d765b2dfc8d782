"""The export's work on the task queue: building a big export, and deleting exports whose day is
over (beat runs ``delete_old_exports`` every few minutes; running it twice deletes nothing twice)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from celery import shared_task
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from app.export import builder
from app.extensions import db
from app.models import EXPORT_KEPT_FOR, DataExport, ExportState, User, utcnow

# An export's file, or one being written: ``<token>.zip``, ``<token>.part``.
_OURS = re.compile(r"(?P<token>[A-Za-z0-9_-]{43})\.(zip|part)")


def folder() -> Path:
    return Path(current_app.config["EXPORT_FOLDER"])


def finish(export: DataExport, size: int) -> None:
    """Mark ``export`` ready for a day, and delete the person's older exports: only the newest is
    kept. Does not commit."""
    now = utcnow()
    export.state, export.size_bytes, export.ready_at = ExportState.READY, size, now
    export.expires_at = now + EXPORT_KEPT_FOR
    older = list(
        db.session.scalars(select(DataExport).where(DataExport.user_id == export.user_id, DataExport.id != export.id))
    )
    for old in older:
        if old.state != ExportState.BUILDING:
            _remove(old)


def _remove(export: DataExport) -> None:
    (folder() / export.file_name).unlink(missing_ok=True)
    db.session.delete(export)


def _unlink(token: str) -> None:
    for name in (f"{token}.zip", f"{token}.part"):
        (folder() / name).unlink(missing_ok=True)


def forget(user_id: int) -> None:
    """Delete every export of ``user_id``'s, files and rows, for an account being erased: a file
    holds their private words. The files go before the commit: should it fail, the account stays
    and its owner makes a new export; an erased account's words must not wait for it. Does not
    commit."""
    tokens = list(db.session.scalars(select(DataExport.token).where(DataExport.user_id == user_id)))
    for token in tokens:
        _unlink(token)
    db.session.execute(delete(DataExport).where(DataExport.user_id == user_id))


@shared_task(name="twoway.build_export")
def build_export(export_id: int) -> str:
    """Build an export too big for a request, then tell its owner. A repeat of the task for an
    export already built (or gone) does nothing."""
    from app.reminders import exports as notices

    export = db.session.get(DataExport, export_id)
    if export is None or export.state != ExportState.BUILDING:
        return "nothing to do"
    user = db.session.get(User, export.user_id)
    try:
        size = builder.build(export, user, folder())
    except Exception:
        current_app.logger.exception("Export %d could not be built", export_id)
        db.session.rollback()
        export = db.session.get(DataExport, export_id)
        if export is not None:
            export.state = ExportState.FAILED
            db.session.commit()
        return "failed"
    token = export.token
    # Its owner may have deleted their account while it was built: the file then goes too.
    if db.session.scalar(select(DataExport.id).where(DataExport.id == export_id)) is None:
        _unlink(token)
        return "gone"
    try:
        finish(export, size)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        _unlink(token)
        return "gone"
    notices.tell_owner(export)
    return "ready"


@shared_task(name="twoway.delete_old_exports")
def delete_old_exports(now: str | None = None) -> int:
    """Delete every export whose day is over at ``now`` (ISO 8601; default: now), its file with
    it, and any file in the folder no export names (a build stopped half way); return how many
    exports went."""
    moment = datetime.fromisoformat(now) if now else utcnow()
    gone = list(db.session.scalars(select(DataExport).where(DataExport.expires_at <= moment)))
    for export in gone:
        (folder() / export.file_name).unlink(missing_ok=True)
    if gone:
        db.session.execute(delete(DataExport).where(DataExport.id.in_([e.id for e in gone])))
    db.session.commit()
    _delete_strays(moment)
    return len(gone)


def _delete_strays(moment: datetime) -> None:
    if not folder().is_dir():
        return
    live = set(db.session.scalars(select(DataExport.token)))
    for path in folder().iterdir():
        named = _OURS.fullmatch(path.name)
        # Only the folder's own files: whatever else someone keeps there is not ours to delete.
        if named is None or named["token"] in live:
            continue
        # Only files older than an export lives: one being written this minute is left alone.
        if path.stat().st_mtime <= (moment - EXPORT_KEPT_FOR).timestamp():
            path.unlink(missing_ok=True)
