"""Closing a pair, and the summary a closed pair opens on.

A pair closes once: either person closes it early, or the daily pass closes it the day after the
earlier of the end date its ground rules name and its program's end, or its program is ended, or
one of the two deletes their account. Every way goes through ``close``, an UPDATE that only an
active pair matches, so a double tap, two beats or a pass racing a person close it once and tell
of it once.

Whoever did not close it is told that it closed (a ``pair-closed`` delivery), never why: a reason
given is the closer's alone (``ClosingReason``), or also the admin's if they ticked it.

After closing, the space is read-only (``authz.guard_closed_pair``) except the closing check-in
and each person's closing reflection, open for ``CLOSING_WINDOW``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from celery import shared_task
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from app.extensions import db
from app.ground_rules import agreement
from app.models import (
    ActionItem,
    AgreementSignature,
    ClosingReason,
    FeedbackSubmission,
    Goal,
    GoalStatus,
    Kind,
    Meeting,
    Pair,
    PairEnding,
    PairMember,
    PairStatus,
    PairTally,
    Program,
    Rhythm,
    State,
    Topic,
    User,
    utcnow,
)
from app.models.user import UTC_ZONE
from app.reminders import outbox
from app.reminders.outbox import Due

# How long the closing check-in and the closing reflections stay open after a pair closes.
CLOSING_WINDOW = timedelta(days=14)
# Pairs closed per run of the daily pass: a bounded share, the rest on the next run.
CLOSE_BATCH = 500


def subject(pair_id: int) -> str:
    return f"closed:{pair_id}"


def close(pair_id: int, how: PairEnding, *, by: int | None = None, at: datetime | None = None) -> list[int] | None:
    """Close pair ``pair_id`` if it is still active, and queue the notice for whoever should hear
    of it: the partner when one of them closed it, both otherwise. Returns the new deliveries' ids
    for ``outbox.queue_sending`` once the caller has committed; None when the pair was already
    closed (nothing changes, nobody is told twice). Does not commit."""
    at = at or utcnow()
    closed = db.session.execute(
        update(Pair)
        .where(Pair.id == pair_id, Pair.status == PairStatus.ACTIVE)
        .values(status=PairStatus.ENDED, ended_at=at, ended_how=how, ended_by_id=by)
        .returning(Pair.id)
    ).first()
    if closed is None:
        return None
    return _tell([pair_id], how, by, at)


def _tell(pair_ids: list[int], how: PairEnding, by: int | None, at: datetime) -> list[int]:
    partner, partner_user = aliased(PairMember), aliased(User)
    rows = db.session.execute(
        select(PairMember.pair_id, PairMember.user_id, partner.user_id, partner_user.name)
        .join(User, User.id == PairMember.user_id)
        .join(partner, (partner.pair_id == PairMember.pair_id) & (partner.id != PairMember.id))
        .join(partner_user, partner_user.id == partner.user_id)
        .where(PairMember.pair_id.in_(pair_ids), User.active.is_(True))
    )
    dues = [
        Due(
            user_id,
            Kind.PAIR_CLOSED,
            subject(pair_id),
            at,
            None,
            {"pair": pair_id, "partner": partner_name, "how": how.value, "by_partner": by == partner_id},
        )
        for pair_id, user_id, partner_id, partner_name in rows
        if user_id != by
    ]
    added = outbox.add(outbox.row(due, state=State.QUEUED, send_after=None, now=at) for due in dues)
    return [delivery_id for delivery_id, _ in added]


def close_early(member: PairMember, reason: str, shared: bool) -> list[int] | None:
    """``member`` closes their pair now, with the reason they gave (kept apart, theirs alone or
    also the admin's). Returns the deliveries to queue after the commit; None when it had closed
    a moment before (by the partner, or at its end). Does not commit."""
    ids = close(member.pair_id, PairEnding.EARLY, by=member.user_id)
    if ids is None:
        return None  # theirs is the closing, and no reason of ours
    if reason:
        db.session.add(ClosingReason(pair_id=member.pair_id, author_id=member.user_id, text=reason, shared=shared))
    return ids


def end_on(program_ends_on: date, rhythm: Rhythm) -> date:
    """The last day of a pair: the earlier of the end date its ground rules name and its program's."""
    return min(rhythm.ends_on or program_ends_on, program_ends_on)


def _due_pairs(today: date):
    """Active pairs whose program ended before ``today``, or whose ground rules name an end date
    before it (ISO dates compare as text), with those dates: one query, at most CLOSE_BATCH rows."""
    from app.reminders.ending import agreed_end

    rhythm_fields, dates_fields = agreement.rhythm_columns(Pair.id)
    return db.session.execute(
        select(Pair.id, Program.ends_on, rhythm_fields, dates_fields)
        .join(Program, Program.id == Pair.program_id)
        .where(
            Pair.status == PairStatus.ACTIVE,
            or_(Program.ends_on < today, agreed_end(Pair.id) < today.isoformat()),
        )
        .order_by(Pair.id)
        .limit(CLOSE_BATCH)
    )


def close_due(at: datetime | None = None) -> list[int]:
    """Close every active pair whose last day ended before ``at`` (UTC), at most CLOSE_BATCH per
    run. Idempotent: a closed pair is never matched again. Returns deliveries to queue after the
    commit. Does not commit."""
    at = at or utcnow()
    today = at.astimezone(UTC_ZONE).date()
    due: dict[PairEnding, list[int]] = {}
    for pair_id, program_ends_on, rhythm_f, dates_f in _due_pairs(today):
        last_day = end_on(program_ends_on, Rhythm.from_fields(rhythm_f, dates_f))
        if last_day < today:  # the SQL is a coarse cut; the dates as the rhythm reads them decide
            how = PairEnding.AGREED_END if last_day < program_ends_on else PairEnding.PROGRAM_END
            due.setdefault(how, []).append(pair_id)
    ids: list[int] = []
    for how, pair_ids in due.items():
        closed = list(
            db.session.scalars(
                update(Pair)
                .where(Pair.id.in_(pair_ids), Pair.status == PairStatus.ACTIVE)
                .values(status=PairStatus.ENDED, ended_at=at, ended_how=how)
                .returning(Pair.id)
            )
        )
        if closed:
            ids += _tell(closed, how, None, at)
    return ids


def close_program(program_id: int, at: datetime | None = None) -> list[int]:
    """The admin ends program ``program_id`` today: its end date becomes today (or its start, for
    a program that hasn't begun) and every active pair in it closes. Returns deliveries to queue
    after the commit. Does not commit."""
    at = at or utcnow()
    program = db.session.get(Program, program_id)
    today = at.astimezone(UTC_ZONE).date()
    program.ends_on = max(program.starts_on, min(program.ends_on, today))
    closed = list(
        db.session.scalars(
            update(Pair)
            .where(Pair.program_id == program_id, Pair.status == PairStatus.ACTIVE)
            .values(status=PairStatus.ENDED, ended_at=at, ended_how=PairEnding.PROGRAM_ENDED)
            .returning(Pair.id)
        )
    )
    return _tell(closed, PairEnding.PROGRAM_ENDED, None, at) if closed else []


def still_open(pair: Pair, now: datetime | None = None) -> bool:
    """Whether the closing check-in and the closing reflections of closed ``pair`` still take words."""
    return pair.ended_at is not None and (now or utcnow()) - pair.ended_at <= CLOSING_WINDOW


def open_until(pair: Pair) -> datetime | None:
    return pair.ended_at + CLOSING_WINDOW if pair.ended_at else None


@shared_task(name="twoway.close_due_pairs")
def close_due_pairs() -> int:
    """Beat's entry: close the pairs whose end has passed, then tell their people."""
    ids = close_due()
    db.session.commit()
    outbox.queue_sending(ids)
    return len(ids)


# --- the summary a closed pair opens on ----------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    began: date
    ended: date
    meetings: int
    minutes: int
    goals_done: int
    topics_covered: int

    @property
    def months(self) -> int:
        """Whole months together, at least one: a pair that met for three weeks was together a month."""
        days = (self.ended - self.began).days
        return max(1, round(days / 30.44))


def summary(pair: Pair) -> Summary:
    """Months together, meetings, goals done and topics covered: one query. Once retention has
    deleted the pair's words, the same counts come from its tally."""
    pair_id = pair.id

    def one(what, *where):
        return select(what).where(*where).correlate(None).scalar_subquery()

    mine = Meeting.pair_id == pair_id
    row = db.session.execute(
        select(
            one(func.count(Meeting.id), mine),
            one(func.coalesce(func.sum(Meeting.length_minutes), 0), mine),
            one(func.count(Goal.id), Goal.pair_id == pair_id, Goal.status == GoalStatus.DONE),
            one(func.count(Topic.id), Topic.pair_id == pair_id, Topic.meeting_id.is_not(None)),
            one(func.min(Meeting.held_on), mine),
            PairTally.meetings,
            PairTally.meeting_minutes,
            PairTally.goals_done,
            PairTally.topics_covered,
        )
        .select_from(Pair)
        .outerjoin(PairTally, PairTally.pair_id == Pair.id)
        .where(Pair.id == pair_id)
    ).one()
    meetings, minutes, done, covered, first_met, *tally = row
    if tally[0] is not None:
        meetings, minutes, done, covered = tally
    began = pair.created_at.astimezone(UTC_ZONE).date()
    if first_met is not None:
        began = min(began, first_met)
    ended = (pair.ended_at or utcnow()).astimezone(UTC_ZONE).date()
    return Summary(began, ended, meetings, minutes, done, covered)


def tally_columns(pair_ids):
    """Per-pair counts for ``pair_ids`` (a list or a SELECT of ids), for ``PairTally``: one query."""
    pairs = select(Pair.id.label("pair_id")).where(Pair.id.in_(pair_ids)).subquery()

    def per_pair(*what, where=()):
        return select(*what).where(*where).correlate(pairs).scalar_subquery()

    return select(
        pairs.c.pair_id,
        per_pair(func.count(Meeting.id), where=(Meeting.pair_id == pairs.c.pair_id,)),
        per_pair(func.coalesce(func.sum(Meeting.length_minutes), 0), where=(Meeting.pair_id == pairs.c.pair_id,)),
        per_pair(func.count(Goal.id), where=(Goal.pair_id == pairs.c.pair_id,)),
        per_pair(func.count(Goal.id), where=(Goal.pair_id == pairs.c.pair_id, Goal.status == GoalStatus.DONE)),
        per_pair(func.count(Topic.id), where=(Topic.pair_id == pairs.c.pair_id, Topic.meeting_id.is_not(None))),
        per_pair(func.count(ActionItem.id), where=(ActionItem.pair_id == pairs.c.pair_id,)),
        per_pair(
            func.count(func.distinct(FeedbackSubmission.round_key)),
            where=(FeedbackSubmission.pair_id == pairs.c.pair_id,),
        ),
        per_pair(
            func.count(func.distinct(AgreementSignature.user_id)),
            where=(AgreementSignature.pair_id == pairs.c.pair_id,),
        ),
    )
