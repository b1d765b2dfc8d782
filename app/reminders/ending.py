"""Two notices about a pair's end: two weeks before its last day ("pair-ending-soon"), and when
it closed ("pair-closed", queued by ``app.ending.closing`` the moment it closes).

The last day is the earlier of the end date the pair wrote into its ground rules and the
program's end. The notice of closing names who closed it if one of the two did, never why.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import ClauseKind, Delivery, Kind, Pair, PairEnding, PairMember, PairStatus, Program, Rhythm, User
from app.models.ground_rules import Clause
from app.models.user import UTC_ZONE
from app.reminders import people
from app.reminders.messages import NO_NAME, Message, partner_named
from app.reminders.outbox import Due
from app.urls import absolute_url

LEAD = timedelta(days=14)
DAY = timedelta(days=1)


def agreed_end(pair_id):
    """The end date a pair's ground rules name (ISO text), as a correlated scalar subquery."""
    return (
        select(Clause.fields["end"].as_string())
        .where(Clause.pair_id == pair_id, Clause.kind == ClauseKind.DATES, Clause.removed.is_(False))
        .order_by(Clause.position)
        .limit(1)
        .correlate_except(Clause)
        .scalar_subquery()
    )


def _last_day(program_ends_on: date, agreed: str | None) -> date:
    from app.ending.closing import end_on

    return end_on(program_ends_on, Rhythm.from_fields(None, {"end": agreed} if agreed else None))


def _subject(pair_id: int, last_day: date) -> str:
    return f"ending:{pair_id}:{last_day.isoformat()}"


def find_soon(since: datetime, at: datetime) -> list[Due]:
    """People of active pairs whose last day is two weeks after a day of (since, at], at 09:00 on
    their own clock: one query, reading only pairs whose program or agreed end falls then."""
    first, last = since.astimezone(UTC_ZONE).date() - DAY, at.astimezone(UTC_ZONE).date() + DAY
    ends = [first + LEAD + timedelta(days=n) for n in range((last - first).days + 1)]
    agreed = agreed_end(Pair.id)
    rows = db.session.execute(
        people.members()
        .add_columns(Program.ends_on, agreed)
        .join(Program, Program.id == Pair.program_id)
        .where(or_(Program.ends_on.in_(ends), agreed.in_([day.isoformat() for day in ends])))
    )
    found = []
    for pair_id, user_id, zone, partner, program_ends_on, agreed_on in rows:
        last_day = _last_day(program_ends_on, agreed_on)
        moment = people.morning(last_day - LEAD, zone)
        if since < moment <= at:
            details = {"pair": pair_id, "partner": partner, "last_day": last_day.isoformat()}
            found.append(Due(user_id, Kind.PAIR_ENDING_SOON, _subject(pair_id, last_day), moment, None, details))
    return found


def compose_soon(delivery: Delivery, user: User, settings) -> Message | None:
    """None once the pair closed or its last day moved."""
    pair_id = delivery.details["pair"]
    row = db.session.execute(
        select(Program.ends_on, agreed_end(pair_id))
        .select_from(Pair)
        .join(Program, Program.id == Pair.program_id)
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.user_id == user.id))
        .where(Pair.id == pair_id, Pair.status == PairStatus.ACTIVE)
    ).first()
    if row is None:
        return None
    last_day = _last_day(*row)
    if _subject(pair_id, last_day) != delivery.subject:
        return None
    partner = partner_named(delivery)
    return Message(
        delivery.kind,
        f"Two weeks left with {partner}",
        [
            f"Your pair with {partner} closes after {last_day.day} {last_day:%B %Y}: two weeks to go.",
            "A good moment to plan a last meeting, and to look back on what you both learned.",
        ],
        url=absolute_url("pair.home", pair_id=pair_id),
        action="Open your pair",
    )


def compose_closed(delivery: Delivery, user: User, settings) -> Message | None:
    """None unless the pair is closed and this person is in it."""
    pair_id = delivery.details["pair"]
    closed = db.session.scalar(
        select(Pair.id)
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.user_id == user.id))
        .where(Pair.id == pair_id, Pair.status == PairStatus.ENDED)
    )
    if closed is None:
        return None
    partner = partner_named(delivery)
    how = delivery.details.get("how")
    if how == PairEnding.LEFT:
        # Their name went with their account.
        partner = NO_NAME
        first = "Your pair has closed: your partner left Twoway."
    elif delivery.details.get("by_partner"):
        first = f"{partner} closed your pair in Twoway."
    elif how == PairEnding.PROGRAM_ENDED:
        first = f"The program has ended, and with it your pair with {partner}."
    else:
        first = f"Your pair with {partner} has come to its end."
    return Message(
        delivery.kind,
        "Your pair has closed" if how == PairEnding.LEFT else f"Your pair with {partner} has closed",
        [
            first,
            "Your space stays there for you to read. For two weeks you can still answer the closing "
            "check-in and write your closing reflection: what you learned, what you taught, what you'll keep doing.",
        ],
        url=absolute_url("pair.home", pair_id=pair_id),
        action="Look back",
    )
