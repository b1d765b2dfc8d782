"""A quiet pair: one warm nudge to both when they haven't met for longer than they agreed.

A pair is quiet on the day the journal's pace calls them overdue (``pace.overdue_on``: the agreed
rhythm plus its grace period since they last met, or since the pair began if they haven't met
yet) when no meeting is planned ahead. Both hear of it at 09:00 on their own clock that day.

"At most once per period": the key carries the day they last met (``quiet:<pair>:<day>``), so a
quiet spell brings one nudge, however long it lasts; the next can only come a whole rhythm and
its grace after their next meeting. (Agreeing another rhythm during a spell moves the overdue day,
but a nudge already sent for the spell is not sent again on the new one.) Planning a meeting, logging one or
ending the pair before the nudge goes out drops it when it is worded. Never after the pair's end
date, and only for a regular rhythm (weekly, every two weeks, monthly).

The words invite, never blame: "It's been a while since you and Sam met: shall we pick a time?"
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select

from app.extensions import db
from app.ground_rules import agreement
from app.models import Delivery, Kind, Meeting, NextMeeting, Pair, PairMember, PairStatus, Program, Rhythm, User, utcnow
from app.models.ground_rules import CADENCE_DAYS
from app.models.user import UTC_ZONE
from app.next_meeting.pace import grace_days, overdue_on
from app.reminders import people
from app.reminders.messages import Message, partner_named
from app.reminders.outbox import Due
from app.urls import absolute_url

DAY = timedelta(days=1)


def _subject(pair_id: int, since_day: date) -> str:
    return f"quiet:{pair_id}:{since_day.isoformat()}"


def _last_met(pair_id, today: date):
    return (
        select(func.max(Meeting.held_on))
        .where(Meeting.pair_id == pair_id, Meeting.held_on <= today)
        .correlate_except(Meeting)
        .scalar_subquery()
    )


def _since_day(last_met_on: date | None, created_at: datetime, starts_on: date) -> date:
    """What the quiet is counted from: the last meeting, else the day the pair (or its program) began."""
    return last_met_on or max(created_at.astimezone(UTC_ZONE).date(), starts_on)


def find(since: datetime, at: datetime) -> list[Due]:
    """Pairs falling quiet in (since, at], for both of their people: one query for all pairs."""
    today = at.astimezone(UTC_ZONE).date()
    rhythm_fields, dates_fields = agreement.rhythm_columns(Pair.id)
    last_met = _last_met(Pair.id, today)
    # Only pairs whose last meeting was a rhythm and its grace before one of the window's days
    # (09:00 on any clock falls on the UTC day before, of or after), or who never met: the pass
    # that runs every minute reads a handful of pairs, not all of them.
    first, last = since.astimezone(UTC_ZONE).date() - DAY, at.astimezone(UTC_ZONE).date() + DAY
    window_days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    gaps = {every + grace_days(every) for every in CADENCE_DAYS.values()}
    quiet_since = sorted({day - timedelta(days=gap) for day in window_days for gap in gaps})
    rows = db.session.execute(
        people.members()
        .add_columns(
            Pair.created_at,
            Program.starts_on,
            Program.ends_on,
            rhythm_fields,
            dates_fields,
            last_met,
            NextMeeting.starts_at,
        )
        .join(Program, Program.id == Pair.program_id)
        .outerjoin(NextMeeting, NextMeeting.pair_id == Pair.id)
        .where(or_(last_met.is_(None), last_met.in_(quiet_since)))
    )
    found = []
    for pair_id, user_id, zone, partner, created_at, starts_on, ends_on, rhythm_f, dates_f, last_met, next_at in rows:
        if next_at is not None and next_at > at:
            continue  # a meeting is planned: nothing to nudge
        rhythm = Rhythm.from_fields(rhythm_f, dates_f)
        since_day = _since_day(last_met, created_at, starts_on)
        quiet_on = overdue_on(rhythm, since_day)
        if quiet_on is None or quiet_on > (rhythm.ends_on or ends_on):
            continue
        moment = people.morning(quiet_on, zone)
        if since < moment <= at:
            details = {"pair": pair_id, "partner": partner, "since": since_day.isoformat()}
            found.append(Due(user_id, Kind.QUIET_PAIR, _subject(pair_id, since_day), moment, None, details))
    return found


def compose(delivery: Delivery, user: User, settings) -> Message | None:
    """The words, if the pair is still quiet: None once they met, planned a meeting, agreed a
    rhythm under which they aren't overdue, or the pair ended."""
    pair_id = delivery.details["pair"]
    now = utcnow()
    today = now.date()
    rhythm_fields, dates_fields = agreement.rhythm_columns(pair_id)
    row = db.session.execute(
        select(Pair.created_at, Program.starts_on, rhythm_fields, dates_fields, _last_met(pair_id, today))
        .join(Program, Program.id == Pair.program_id)
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.user_id == user.id))
        .where(Pair.id == pair_id, Pair.status == PairStatus.ACTIVE)
    ).first()
    if row is None:
        return None
    created_at, starts_on, rhythm_f, dates_f, last_met = row
    since_day = _since_day(last_met, created_at, starts_on)
    quiet_on = overdue_on(Rhythm.from_fields(rhythm_f, dates_f), since_day)
    if _subject(pair_id, since_day) != delivery.subject or quiet_on is None:
        return None
    if people.local_day(now, settings.zone.key) < quiet_on:
        return None
    planned = db.session.get(NextMeeting, pair_id)
    if planned is not None and planned.starts_at > now:
        return None
    partner = partner_named(delivery)
    return Message(
        delivery.kind,
        f"Time to catch up with {partner}?",
        [
            f"It's been a while since you and {partner} met: shall we pick a time?",
            "Already met? Log it in your journal, so Twoway knows.",
        ],
        url=absolute_url("pair.next_meeting.plan", pair_id=pair_id),
        action="Pick a time",
    )
