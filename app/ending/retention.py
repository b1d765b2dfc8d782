"""Retention: each program keeps its pairs' words for ``retention_months`` after its end, then a
scheduled pass deletes them, leaving counts.

What is deleted, per pair: every row of every table that holds a ``pair_id`` (ground rules and
their revisions, conflicts and signatures, goals and milestones, topics, meetings, actions,
reflections, closing reflections and reasons, check-in answers, the next meeting, calendar feeds,
earlier words, requests for help sent from the pair), found from the schema itself so a table
added later is not forgotten; and the pages remembered for the members' double taps, older than
a day. Per program, once its last pair is done: intake answers, match proposals and runs, and
requests for help sent outside a pair.

What stays: the program, its participants (the admin's own set-up: names, departments, levels),
its pairs and who was in them, and one ``PairTally`` per pair: meetings, minutes, goals set and
done, topics covered, actions, check-ins answered, whether both agreed ground rules. Those are
the counts the admin's figures and the pair's closing summary are made of; a figure computed
from content rows reads the tally for a pair whose content is gone.

A pair's words are never deleted sooner than ``KEPT_AFTER_CLOSING`` after the pair closed,
whatever the dates say: an end date typed years in the past (or a retention shortened after the
end) would otherwise close a pair and delete its words in the same pass, before either person
could answer the closing check-in, write a closing reflection or take an export.

Each run handles at most RETENTION_BATCH pairs (idempotent: a pair with a tally is done), so a
big program is deleted over a few runs, never in one long transaction.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, or_, select

from app.ending.closing import CLOSING_WINDOW, tally_columns
from app.extensions import db
from app.idempotency import KEPT_FOR
from app.models import (
    HelpRequest,
    IdempotencyKey,
    Intake,
    MatchingRun,
    MatchProposal,
    Pair,
    PairMember,
    PairStatus,
    PairTally,
    Participant,
    Program,
    utcnow,
)
from app.models.user import UTC_ZONE

RETENTION_BATCH = 200
# The least time a closed pair's words are kept: the two weeks of last words, and two more to
# take them away.
KEPT_AFTER_CLOSING = 2 * CLOSING_WINDOW
# Tables with a pair_id that are not the pair's words: the pair itself and what it leaves.
KEPT = frozenset({"pair", "pair_member", "pair_tally"})


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (31 January + 1 month: the last day of February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def deletes_on(program: Program) -> date:
    """The first day the program's words may be deleted: its end plus its retention."""
    return add_months(program.ends_on, program.retention_months)


def pair_deletes_on(pair: Pair, today: date | None = None) -> date:
    """The first day ``pair``'s words may be deleted: its program's ``deletes_on``, and never
    sooner than KEPT_AFTER_CLOSING after the pair closed (one still going closes tomorrow at the
    earliest)."""
    if pair.ended_at is not None:
        closed = pair.ended_at.astimezone(UTC_ZONE).date()
    elif pair.status == PairStatus.ENDED:
        return deletes_on(pair.program)  # closed before pairs recorded when: long ago
    else:
        closed = max(today or utcnow().astimezone(UTC_ZONE).date(), pair.program.ends_on) + timedelta(days=1)
    return max(deletes_on(pair.program), closed + KEPT_AFTER_CLOSING)


def content_tables():
    """Every table holding a pair's words, children before parents."""
    return [table for table in reversed(db.metadata.sorted_tables) if "pair_id" in table.c and table.name not in KEPT]


def due_programs(today: date) -> list[Program]:
    """Programs whose retention has run out by ``today`` and whose words aren't all deleted yet."""
    candidates = db.session.scalars(
        select(Program).where(Program.content_deleted_at.is_(None), Program.ends_on < today).order_by(Program.id)
    )
    return [program for program in candidates if deletes_on(program) <= today]


def run(at: datetime | None = None) -> tuple[int, int]:
    """Delete the words of up to RETENTION_BATCH pairs of programs whose retention ran out by
    ``at``; finish each program whose pairs are all done. Returns (pairs, programs) handled.
    Does not commit."""
    at = at or utcnow()
    today = at.astimezone(UTC_ZONE).date()
    programs = due_programs(today)
    if not programs:
        return 0, 0
    program_ids = [program.id for program in programs]
    pending = list(
        db.session.scalars(
            select(Pair.id)
            .outerjoin(PairTally, PairTally.pair_id == Pair.id)
            .where(
                Pair.program_id.in_(program_ids),
                PairTally.pair_id.is_(None),
                # A pair still going is closed first (with its notice), and keeps its words a while;
                # one closed before pairs recorded when (no ended_at) closed long ago.
                Pair.status == PairStatus.ENDED,
                or_(Pair.ended_at.is_(None), Pair.ended_at <= at - KEPT_AFTER_CLOSING),
            )
            .order_by(Pair.id)
            .limit(RETENTION_BATCH)
        )
    )
    if pending:
        _delete_pairs(pending, at)
    finished = 0
    for program in programs:
        left = db.session.scalar(
            select(Pair.id)
            .outerjoin(PairTally, PairTally.pair_id == Pair.id)
            .where(Pair.program_id == program.id, PairTally.pair_id.is_(None))
            .limit(1)
        )
        if left is None:
            _delete_program_data(program.id)
            program.content_deleted_at = at
            finished += 1
    return len(pending), finished


def _delete_pairs(pair_ids: list[int], at: datetime) -> None:
    db.session.execute(_tally_insert(tally_columns(pair_ids), at))
    for table in content_tables():
        db.session.execute(delete(table).where(table.c.pair_id.in_(pair_ids)))
    # The pages remembered for the members' double taps may show those words; past a day they
    # replay nothing (``idempotency.KEPT_FOR``), and a fresh one belongs to another pair.
    members = select(PairMember.user_id).where(PairMember.pair_id.in_(pair_ids))
    db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.user_id.in_(members), IdempotencyKey.created_at < at - KEPT_FOR)
    )


def _tally_insert(counts, at: datetime):
    """The pairs' counts as one multi-row INSERT (read first: a pair's tally is written before its
    words are deleted, in the same transaction)."""
    rows = db.session.execute(counts).all()
    return insert(PairTally).values(
        [
            {
                "pair_id": pair_id,
                "meetings": meetings,
                "meeting_minutes": minutes,
                "goals": goals,
                "goals_done": done,
                "topics_covered": covered,
                "action_items": actions,
                "check_ins": check_ins,
                "agreed": signers >= 2,
                "deleted_at": at,
            }
            for pair_id, meetings, minutes, goals, done, covered, actions, check_ins, signers in rows
        ]
    )


def _delete_program_data(program_id: int) -> None:
    participants = select(Participant.id).where(Participant.program_id == program_id)
    for statement in (
        delete(Intake).where(Intake.participant_id.in_(participants)),
        delete(MatchProposal).where(MatchProposal.program_id == program_id),
        delete(MatchingRun).where(MatchingRun.program_id == program_id),
        delete(HelpRequest).where(HelpRequest.program_id == program_id),
    ):
        db.session.execute(statement)
