"""The meeting reminders: the day before at 09:00 on each person's own clock, and an hour before.

A reminder's key carries the meeting's start, so a meeting moved to another time is reminded of
anew and the old time never is (its held reminder finds the plan changed and is dropped). A
meeting planned after a reminder's moment is reminded of at once; the day-before reminder is no
longer useful within the hour before, where the hour-before one takes over.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import Delivery, Kind, NextMeeting, Pair, PairMember, PairStatus, User
from app.models.user import UTC_ZONE, zone_named
from app.reminders.messages import Message, partner_named, when
from app.reminders.outbox import Due
from app.urls import absolute_url

MORNING = time(9, 0)
HOUR = timedelta(hours=1)
# The furthest ahead a day-before reminder can fall due: 09:00 the day before a meeting late in
# the day, on a clock far from UTC.
LOOKAHEAD = timedelta(days=3)


def _upcoming(at: datetime) -> Iterator[tuple[int, datetime, datetime, int, str | None, str]]:
    """(pair, start, planned at, person, their zone, partner's name) for every meeting still ahead
    of ``at`` within LOOKAHEAD: one query, whatever the number of pairs."""
    partner = aliased(PairMember)
    partner_user = aliased(User)
    rows = db.session.execute(
        select(
            NextMeeting.pair_id,
            NextMeeting.starts_at,
            NextMeeting.updated_at,
            PairMember.user_id,
            User.time_zone,
            partner_user.name,
        )
        .join(Pair, Pair.id == NextMeeting.pair_id)
        .join(PairMember, PairMember.pair_id == NextMeeting.pair_id)
        .join(User, User.id == PairMember.user_id)
        .join(partner, (partner.pair_id == PairMember.pair_id) & (partner.id != PairMember.id))
        .join(partner_user, partner_user.id == partner.user_id)
        .where(
            Pair.status == PairStatus.ACTIVE,
            User.active.is_(True),
            NextMeeting.starts_at > at,
            NextMeeting.starts_at <= at + LOOKAHEAD,
        )
    )
    yield from rows.tuples()


def _subject(pair_id: int, starts_at: datetime) -> str:
    return f"meeting:{pair_id}:{starts_at:%Y-%m-%dT%H:%MZ}"


def _due(
    kind: Kind, pair_id: int, starts_at: datetime, user_id: int, partner: str, moment: datetime, until: datetime
) -> Due:
    return Due(user_id, kind, _subject(pair_id, starts_at), moment, until, {"pair": pair_id, "partner": partner})


def find_day_before(since: datetime, at: datetime) -> list[Due]:
    found = []
    for pair_id, starts_at, planned_at, user_id, zone_name, partner in _upcoming(at):
        zone = zone_named(zone_name or "") or UTC_ZONE
        day_before = starts_at.astimezone(zone).date() - timedelta(days=1)
        # Through UTC, so a 09:00 that a DST change skips becomes the first moment after it.
        nominal = datetime.combine(day_before, MORNING, tzinfo=zone).astimezone(UTC_ZONE)
        # The key keeps the nominal moment: editing the place later must not remind again.
        if since < max(nominal, planned_at) <= at:
            found.append(_due(Kind.MEETING_DAY_BEFORE, pair_id, starts_at, user_id, partner, nominal, starts_at - HOUR))
    return found


def find_hour_before(since: datetime, at: datetime) -> list[Due]:
    found = []
    for pair_id, starts_at, planned_at, user_id, _zone, partner in _upcoming(at):
        nominal = starts_at - HOUR
        if since < max(nominal, planned_at) <= at:
            found.append(_due(Kind.MEETING_HOUR_BEFORE, pair_id, starts_at, user_id, partner, nominal, starts_at))
    return found


def _which_day(starts_at: datetime, moment: datetime, zone) -> str:
    days = (starts_at.astimezone(zone).date() - moment.astimezone(zone).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"on {starts_at.astimezone(zone):%A}"


def compose(delivery: Delivery, user: User, settings) -> Message | None:
    """The words, from the plan as it is now; None if the meeting moved, so the old time is never
    sent, or the pair ended or this person is no longer in it (the plan may outlive either)."""
    planned = db.session.scalar(
        select(NextMeeting)
        .join(Pair, Pair.id == NextMeeting.pair_id)
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.user_id == user.id))
        .where(NextMeeting.pair_id == delivery.details["pair"], Pair.status == PairStatus.ACTIVE)
    )
    if planned is None or _subject(planned.pair_id, planned.starts_at) != delivery.subject:
        return None
    partner = partner_named(delivery)
    how = planned.format.label.lower()
    where = f" ({how}: {planned.place})" if planned.place else f" ({how})"
    if delivery.kind == Kind.MEETING_HOUR_BEFORE:
        subject = f"You meet {partner} in an hour"
    else:
        # Counted from the moment it fell due: sent at once for a meeting planned late, it may be today's.
        fell_due = max(delivery.due_at, planned.updated_at)
        subject = f"You meet {partner} {_which_day(planned.starts_at, fell_due, settings.zone)}"
    return Message(
        delivery.kind,
        subject,
        [
            f"You and {partner} meet on {when(planned.starts_at, settings.zone)}{where}, for {planned.length_minutes} minutes.",
            "Anything you want to talk about? Add it to your agenda.",
        ],
        url=absolute_url("pair.journal.index", pair_id=planned.pair_id),
        action="Open your agenda",
    )
