"""The ending pass: close the pairs whose last day has passed, then delete the words of programs
whose retention has run out. Beat runs it every ENDING_PASS_SECONDS; ``flask --app wsgi ending
run --at`` runs it for any moment (tests drive time through it). Both steps are idempotent and
bounded per run, and each commits on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from celery import shared_task

from app.ending import closing, retention
from app.extensions import db
from app.models import utcnow
from app.reminders import outbox


@dataclass(frozen=True)
class Outcome:
    closed_notices: int
    pairs_deleted: int
    programs_finished: int


def run(at: datetime | None = None) -> Outcome:
    at = at or utcnow()
    ids = closing.close_due(at)
    # Committed and told before retention starts: a retention run that fails (a dropped
    # connection, a row it can't delete) must not keep pairs from closing, this hour or any other.
    db.session.commit()
    outbox.queue_sending(ids)
    pairs, programs = retention.run(at)
    db.session.commit()
    return Outcome(len(ids), pairs, programs)


@shared_task(name="twoway.ending_pass")
def ending_pass() -> int:
    """Beat's entry: the pass for now. Returns how many notices of closing it queued."""
    return run().closed_notices
