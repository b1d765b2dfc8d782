"""Deliveries: a row per message, taken under its unique key before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, cast, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import Delivery, Kind, State, User, utcnow
from app.models.delivery import SUBJECT_MAX

# Deliveries per task, so a pass that finds ten thousand publishes a hundred-odd messages.
TASK_BATCH = 100


@dataclass(frozen=True)
class Due:
    """A message due to one person at ``due_at``: what the reminder pass finds."""

    user_id: int
    kind: Kind
    subject: str
    due_at: datetime
    useful_until: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str, str, datetime]:
        return (self.user_id, self.kind.value, self.subject, self.due_at)


def dialect_insert(table):
    """An INSERT into ``table`` that offers ``on_conflict_do_nothing`` on PostgreSQL and SQLite."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    return insert(table)


def add(rows: Iterable[dict[str, Any]]) -> list[tuple[int, State]]:
    """Insert deliveries, skipping any whose key is already taken (by an earlier run, another
    beat, or this same run retried); return the new ones' ids and states. Does not commit.

    One statement, compiled once and sent for many rows at a time (SQLAlchemy's "insertmanyvalues":
    as many rows per INSERT as the database's limit on bound parameters allows): ten thousand
    deliveries cost a handful of round trips, not a compilation per batch. On the table, not the
    ORM entity: the rows are plain values and the ORM's bulk path would only add overhead.

    On PostgreSQL the rows travel as one array per column, unnested by an INSERT … SELECT: the
    statement stays a few hundred characters whatever the number of rows. psycopg parses every
    statement's text in Python, and for insertmanyvalues' statements of thousands of placeholders
    that parsing cost more than the insert itself (10,000 pairs' first pass: 14 s, 5 s after)."""
    rows = list(rows)
    if not rows:
        return []
    table = Delivery.__table__
    statement = dialect_insert(table)
    if db.session.get_bind().dialect.name == "postgresql":
        names = list(rows[0])
        columns = [
            cast(
                bindparam(f"all_{name}", [r[name] for r in rows], type_=postgresql.ARRAY(table.c[name].type)),
                postgresql.ARRAY(table.c[name].type),
            )
            for name in names
        ]
        unnested = func.unnest(*columns).table_valued(*names).render_derived()
        statement = statement.from_select(names, select(*[unnested.c[name] for name in names]))
        parameters = None
    else:
        parameters = rows
    statement = statement.on_conflict_do_nothing(index_elements=["user_id", "kind", "subject", "due_at"]).returning(
        table.c.id, table.c.state
    )
    return [(row.id, row.state) for row in db.session.execute(statement, parameters)]


def row(due: Due, *, state: State, send_after: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "user_id": due.user_id,
        "kind": due.kind,
        "subject": due.subject[:SUBJECT_MAX],
        "due_at": due.due_at,
        "useful_until": due.useful_until,
        "send_after": send_after,
        "details": due.details,
        "state": state,
        "attempts": 0,
        "error": "",
        "created_at": now,
        "queued_at": now if state == State.QUEUED else None,
    }


def rows_now(dues: list[Due], now: datetime) -> list[dict[str, Any]]:
    """The rows of messages sent as soon as a worker can (a request for help, its answer): queued,
    except that a kind a person may hold waits out their quiet hours like any reminder (dropped if
    they end too late for it). Sign-in links and security notices are never held."""
    from app.reminders.kinds import SPECS
    from app.reminders.preferences import settings_of

    settings = settings_of(due.user_id for due in dues if SPECS[due.kind].optional)
    rows = []
    for due in dues:
        chosen = settings.get(due.user_id) if SPECS[due.kind].optional else None
        quiet_ends = chosen.quiet_ends(now) if chosen else None
        if quiet_ends is None:
            rows.append(row(due, state=State.QUEUED, send_after=None, now=now))
        elif due.useful_until is not None and quiet_ends >= due.useful_until:
            rows.append(
                row(due, state=State.DROPPED, send_after=quiet_ends, now=now)
                | {"error": "quiet hours until it was no longer useful"}
            )
        else:
            rows.append(row(due, state=State.HELD, send_after=quiet_ends, now=now))
    return rows


def deliver_now(
    user: User | int, kind: Kind, subject: str, *, useful_until: datetime | None = None, **details: Any
) -> int | None:
    """Send ``kind`` to ``user`` as soon as a worker can, or once their quiet hours end
    (``rows_now``). Commits, then queues: a worker must find the row. Returns the delivery's id,
    or None when that same delivery was already taken."""
    now = utcnow()
    user_id = user if isinstance(user, int) else user.id
    added = add(rows_now([Due(user_id, kind, subject, now, useful_until, details)], now))
    db.session.commit()
    queue_sending([delivery_id for delivery_id, state in added if state == State.QUEUED])
    return added[0][0] if added else None


def queue_sending(ids: list[int]) -> None:
    """Hand ``ids`` to workers in batches. A broker that is down loses nothing: the rows stay
    queued and the reminder pass's sweep queues them again. So the first batch it refuses ends
    the handing over: each try costs the broker's timeouts, and a pass of a hundred batches would
    otherwise hold its worker for a hundred of them."""
    from app import queue
    from app.reminders.sending import send_deliveries

    for start in range(0, len(ids), TASK_BATCH):
        if not queue.enqueue(send_deliveries, ids[start : start + TASK_BATCH]):
            return


def mark(delivery_id: int, state: State, *, error: str = "", **values: Any) -> None:
    db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id).values(state=state, error=error[:200], **values)
    )


def log_skipped(reason: str, delivery_id: int) -> None:
    current_app.logger.info("Delivery %d not sent: %s", delivery_id, reason)
