"""The reminder pass: what fell due in (the last run's moment, ``at``], taken as deliveries and
queued. Beat runs it every minute for the present; ``flask reminders due --at`` runs it for any
moment. Every kind's search is a few queries over all pairs, so the pass costs a fixed number of
queries (plus one INSERT per thousand-odd deliveries), not one per pair. Kinds found together (a
check-in's "opened" and "lapsing" share their rounds) name the same search, which runs once.

- Catch-up: after downtime a run covers at most CATCH_UP; what is no longer useful by ``at`` (an
  hour-before reminder for a meeting that started) is dropped, never sent late.
- Overlap: each run looks LATE_COMMIT further back than the last one's moment, so a change
  committed just after the last run read the database is still seen. The delivery's unique key
  makes the overlap harmless.
- Quiet hours: a reminder due inside them is held until they end, and dropped if it would no
  longer be useful by then.
- Matching: proposals nobody answered in time close as not going ahead (``answers.expire``),
  before the matching kind's search tells both people.
- Sweep: a delivery still ``queued`` SWEEP_AFTER after it was queued was lost on its way to a
  worker (a broker that was down, a worker killed after fetching it): it is queued again. One in
  ``sending`` is never touched (see ``sending``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import shared_task
from sqlalchemy import delete, or_, select, update

from app.extensions import db
from app.matching import answers
from app.models import Channel, Delivery, ReminderRun, State, utcnow
from app.reminders import outbox
from app.reminders.kinds import SPECS
from app.reminders.outbox import Due
from app.reminders.preferences import settings_of

RUN_NAME = "due"
CATCH_UP = timedelta(hours=24)
LATE_COMMIT = timedelta(minutes=5)
SWEEP_AFTER = timedelta(minutes=10)
# Finished deliveries are kept this long (for `reminders failed` and for operators), then deleted:
# their keys matter only within the catch-up window, and their details name people.
KEEP_FINISHED = timedelta(days=30)
FORGET_BATCH = 1000
# How often beat runs the pass.
EVERY_SECONDS = 60


@dataclass(frozen=True)
class Planned:
    """One due reminder and what the pass decided for it."""

    due: Due
    state: State  # queued, held, or dropped (turned off, or no longer useful once quiet hours end)
    send_after: datetime | None = None
    why: str = ""


@dataclass(frozen=True)
class Outcome:
    since: datetime
    at: datetime
    planned: list[Planned]
    # Of ``planned``, how many were new (not taken by an earlier run); None for a dry run.
    added: int | None
    released: int = 0
    swept: int = 0


def window(at: datetime) -> datetime:
    """Where a run for ``at`` starts: the last run's moment, less the overlap, but never more than
    CATCH_UP back."""
    last = db.session.get(ReminderRun, RUN_NAME)
    earliest = at - CATCH_UP
    if last is None:
        return earliest
    return max(earliest, min(last.covered_until, at) - LATE_COMMIT)


def plan(since: datetime, at: datetime) -> list[Planned]:
    """Everything due in (since, at], with each person's choices applied. Reads only."""
    searches = dict.fromkeys(spec.find for spec in SPECS.values() if spec.find)
    dues = [due for find in searches for due in find(since, at)]
    settings = settings_of(due.user_id for due in dues)
    planned = []
    for due in sorted(dues, key=lambda d: (d.due_at, d.user_id, d.kind.value, d.subject)):
        chosen = settings.get(due.user_id)
        if due.useful_until is not None and due.useful_until <= at:
            continue  # caught up too late to be worth anything
        if chosen is not None and chosen.channel(due.kind) == Channel.OFF:
            planned.append(Planned(due, State.DROPPED, why="turned off"))
            continue
        # Nothing is sent inside quiet hours: held until they end.
        quiet_ends = chosen.quiet_ends(at) if chosen and SPECS[due.kind].optional else None
        if quiet_ends is None or quiet_ends <= at:
            planned.append(Planned(due, State.QUEUED))
        elif due.useful_until is not None and quiet_ends >= due.useful_until:
            planned.append(Planned(due, State.DROPPED, quiet_ends, why="quiet hours until it was no longer useful"))
        else:
            planned.append(Planned(due, State.HELD, quiet_ends, why="quiet hours"))
    return planned


def run(at: datetime | None = None, *, dry_run: bool = False) -> Outcome:
    """The pass for ``at`` (now by default). A dry run lists and writes nothing."""
    at = at or utcnow()
    since = window(at)
    planned = plan(since, at)
    if dry_run:
        return Outcome(since, at, planned, None)
    now = utcnow()
    # In the same transaction as the notices the search found for them.
    answers.expire(at)
    added = outbox.add(
        outbox.row(p.due, state=p.state, send_after=p.send_after, now=now)
        | {"error": p.why if p.state == State.DROPPED else ""}
        for p in planned
    )
    to_send = [delivery_id for delivery_id, state in added if state == State.QUEUED]
    released = _release_held(at, now)
    swept = _sweep(at, now, exclude=set(to_send) | set(released))
    _forget_finished(now)
    _covered(at)
    db.session.commit()
    outbox.queue_sending(to_send + released + swept)
    return Outcome(since, at, planned, len(added), len(released), len(swept))


def _release_held(at: datetime, now: datetime) -> list[int]:
    """Held deliveries whose quiet hours ended by ``at``: queued, or dropped if too late."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.state == State.HELD, Delivery.useful_until.is_not(None), Delivery.useful_until <= at)
        .values(state=State.DROPPED, error="no longer useful when quiet hours ended", finished_at=now)
    )
    return list(
        db.session.scalars(
            update(Delivery)
            .where(Delivery.state == State.HELD, Delivery.send_after <= at)
            .values(state=State.QUEUED, queued_at=now)
            .returning(Delivery.id)
        )
    )


def _sweep(at: datetime, now: datetime, exclude: set[int]) -> list[int]:
    """Deliveries queued long ago and never claimed: queued again while still useful."""
    stale = (Delivery.state == State.QUEUED) & (Delivery.queued_at < min(at, now) - SWEEP_AFTER)
    db.session.execute(
        update(Delivery)
        .where(stale, Delivery.useful_until.is_not(None), Delivery.useful_until <= now)
        .values(state=State.DROPPED, error="lost on its way to a worker, and no longer useful", finished_at=now)
    )
    ids = [
        delivery_id
        for delivery_id in db.session.scalars(
            update(Delivery)
            .where(stale, or_(Delivery.useful_until.is_(None), Delivery.useful_until > now))
            .values(queued_at=now)
            .returning(Delivery.id)
        )
        if delivery_id not in exclude
    ]
    return ids


def _forget_finished(now: datetime) -> None:
    """Delete up to FORGET_BATCH deliveries finished more than KEEP_FINISHED ago (each pass a
    bounded share, so no pass pays for a big clean-up)."""
    old = (
        select(Delivery.id)
        .where(
            Delivery.state.in_([State.SENT, State.DROPPED, State.FAILED]),
            Delivery.created_at < now - KEEP_FINISHED,
        )
        .limit(FORGET_BATCH)
    )
    db.session.execute(delete(Delivery).where(Delivery.id.in_(old)))


def _covered(at: datetime) -> None:
    # Two passes can find no record at once (the very first beat, and an operator's run): each
    # inserts it if missing, then moves it forward, so neither fails on the other's row.
    db.session.execute(
        outbox.dialect_insert(ReminderRun.__table__)
        .values(name=RUN_NAME, covered_until=at)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    db.session.execute(
        update(ReminderRun).where(ReminderRun.name == RUN_NAME, ReminderRun.covered_until < at).values(covered_until=at)
    )


def failed() -> list[Delivery]:
    """What operators should look at: deliveries that failed after their retries, and those a
    worker claimed and never finished (they may or may not have gone out)."""
    return list(
        db.session.scalars(
            select(Delivery)
            .where(
                or_(
                    Delivery.state == State.FAILED,
                    (Delivery.state == State.SENDING) & (Delivery.claimed_at < utcnow() - SWEEP_AFTER),
                )
            )
            .order_by(Delivery.created_at)
        )
    )


@shared_task(name="twoway.reminders_due")
def reminders_due() -> int:
    """Beat's entry: the pass for now. Returns how many deliveries it queued."""
    outcome = run()
    return outcome.added or 0
