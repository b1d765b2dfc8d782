"""The audit log: what each program's admins did, kept for the program's admins and the owners,
and shown to each participant where it concerned them.

Views call ``record`` in the transaction of the action itself, so an action is never kept without
its event, nor an event without its action. An event names settings and counts, never what a
pair wrote (the admin never sees that to begin with).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app import htmx
from app.admin import setup
from app.ending import erasure
from app.extensions import db
from app.models import AuditAction, AuditEvent, User

bp = Blueprint("log", __name__, url_prefix="/programs/<int:program_id>")

PAGE_SIZE = 50
FORMER_ADMIN = "A former admin"
FORMER_PARTICIPANT = "a former participant"
# Actions that always concern someone: an entry whose person has no account any more (its
# subject set to NULL when the account went) still says whom it was about, without a name.
ABOUT_SOMEONE = {
    AuditAction.PARTICIPANT_ADDED: FORMER_PARTICIPANT,
    AuditAction.PARTICIPANT_REMOVED: FORMER_PARTICIPANT,
    AuditAction.PAIR_MADE: FORMER_PARTICIPANT,
    AuditAction.PAIR_UNDONE: FORMER_PARTICIPANT,
    AuditAction.HELP_ANSWERED: FORMER_PARTICIPANT,
    AuditAction.ADMIN_ADDED: FORMER_ADMIN.lower(),
    AuditAction.ADMIN_REMOVED: FORMER_ADMIN.lower(),
}


def record(
    program_id: int, action: AuditAction, *, subject_id: int | None = None, actor_id: int | None = None, **details: Any
) -> None:
    """Keep ``action`` by the signed-in admin in program ``program_id`` (no commit: the caller's)."""
    actor_id = actor_id if actor_id is not None else current_user.id
    db.session.add(
        AuditEvent(program_id=program_id, actor_id=actor_id, action=action, subject_id=subject_id, details=details)
    )


def record_read(program_id: int, action: AuditAction, **details: Any) -> None:
    """Keep that the signed-in admin read something (a download, the requests for help), from a
    GET, and commit it. A GET reads in autocommit (app/database.py), so the line is one INSERT of
    its own, which waits its turn for SQLite's write lock; the rollback first leaves nothing else in
    the ORM session to be written with it."""
    actor_id = current_user.id  # read before the rollback expires it
    db.session.rollback()
    record(program_id, action, actor_id=actor_id, **details)
    db.session.commit()


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    action: AuditAction
    actor: str
    subject: str | None
    details: dict[str, Any]

    @property
    def words(self) -> str:
        """The details in plain words: which settings, how many people."""
        parts = []
        if changed := self.details.get("changed"):
            parts.append(", ".join(changed))
        if (count := self.details.get("count")) is not None:
            parts.append(f"{count} {'person' if count == 1 else 'people'}")
        if (requests := self.details.get("requests")) is not None:
            parts.append(f"{requests} request{'' if requests == 1 else 's'}")
        if (proposals := self.details.get("proposals")) is not None:
            parts.append(f"{proposals} proposal{'' if proposals == 1 else 's'}")
        return "; ".join(parts)


_actor = aliased(User)
_subject = aliased(User)


def _actor_name(name: str | None) -> str:
    # An admin who deleted their account keeps their row, anonymised as any person's is: in the
    # log they are an admin still, a former one.
    return FORMER_ADMIN if name in (None, erasure.FORMER) else name


def _entries(query) -> list[Entry]:
    return [
        Entry(
            row.id,
            row.created_at,
            row.action,
            _actor_name(row.actor),
            row.subject or ABOUT_SOMEONE.get(row.action),
            row.details or {},
        )
        for row in db.session.execute(query)
    ]


def _query():
    return (
        select(
            AuditEvent.id,
            AuditEvent.created_at,
            AuditEvent.action,
            AuditEvent.details,
            _actor.name.label("actor"),
            _subject.name.label("subject"),
        )
        .outerjoin(_actor, _actor.id == AuditEvent.actor_id)
        .outerjoin(_subject, _subject.id == AuditEvent.subject_id)
    )


def program_log(program_id: int, before: int | None = None) -> list[Entry]:
    """The program's events, newest first, ``PAGE_SIZE`` (and one more, to tell if there are
    older ones) at a time; ``before`` an event id pages back. One query."""
    query = _query().where(AuditEvent.program_id == program_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return _entries(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1))


def concerning(user_id: int, program_ids: list[int]) -> dict[int, list[Entry]]:
    """For a participant's program page: the events about ``user_id`` in each program, newest
    first (the most recent 20 of each). One query."""
    if not program_ids:
        return {}
    rows = db.session.execute(
        _query()
        .add_columns(AuditEvent.program_id)
        .where(AuditEvent.subject_id == user_id, AuditEvent.program_id.in_(program_ids))
        .order_by(AuditEvent.id.desc())
    )
    found: dict[int, list[Entry]] = {}
    for row in rows:
        entries = found.setdefault(row.program_id, [])
        if len(entries) < 20:
            entries.append(Entry(row.id, row.created_at, row.action, _actor_name(row.actor), row.subject, {}))
    return found


@bp.get("/log")
def show(program_id: int) -> Response:
    program = setup.get_program(program_id)
    before = request.args.get("before", type=int)
    entries = program_log(program_id, before)
    # The link to older events pages back from the oldest one shown.
    older = entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None
    return htmx.render("admin/log.html", program=program, entries=entries[:PAGE_SIZE], older=older)
