"""Action items due tomorrow: at 09:00 on the person's clock the day before the action is due.

It goes to the person the action belongs to; an action the pair took on together ("Both of us",
no owner) goes to both. Done actions are never reminded of. An action logged after that 09:00
but still on the day before is reminded of at once; one logged on its due day is not ("due
tomorrow" would no longer be true).

The key carries the due date (``action:<id>:<due date>``), so each action's reminder is taken
once. An action's date is set when its meeting is logged and never edited; one ticked done before
that 09:00 and unticked after it is not reminded of (it was done when its moment came).
The words never carry the action's text: only that one is due, and from which meeting.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import ActionItem, Delivery, Kind, Meeting, Pair, PairMember, PairStatus, User
from app.reminders import people
from app.reminders.messages import Message, partner_named
from app.reminders.outbox import Due
from app.urls import absolute_url

DAY = timedelta(days=1)


def _subject(action_id: int, due_on: date) -> str:
    return f"action:{action_id}:{due_on.isoformat()}"


def find(since: datetime, at: datetime) -> list[Due]:
    """Actions falling due tomorrow on someone's clock in (since, at]: one query for all pairs."""
    rows = db.session.execute(
        people.members()
        .add_columns(ActionItem.id, ActionItem.due_on, ActionItem.created_at, ActionItem.owner_id, Meeting.held_on)
        .join(ActionItem, ActionItem.pair_id == Pair.id)
        .outerjoin(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(
            ActionItem.done.is_(False),
            or_(ActionItem.owner_id.is_(None), ActionItem.owner_id == PairMember.user_id),
            # 09:00 the day before, on any clock on Earth, falls within these days of ``at``.
            ActionItem.due_on >= (since - DAY).date(),
            ActionItem.due_on <= (at + 2 * DAY).date(),
        )
    )
    found = []
    for pair_id, user_id, zone, partner, action_id, due_on, logged_at, owner_id, held_on in rows:
        moment = people.morning(due_on - DAY, zone)
        due_day_begins = people.midnight(due_on, zone)
        if since < max(moment, logged_at) <= at and logged_at < due_day_begins:
            details = {
                "pair": pair_id,
                "action": action_id,
                "partner": partner,
                "shared": owner_id is None,
                "met_on": held_on.isoformat() if held_on else None,
            }
            found.append(Due(user_id, Kind.ACTION_DUE, _subject(action_id, due_on), moment, due_day_begins, details))
    return found


def compose(delivery: Delivery, user: User, settings) -> Message | None:
    """The words, from the action as it is now: None once it is done, has another date or
    another owner, or the pair ended."""
    action = db.session.execute(
        select(ActionItem.id, ActionItem.pair_id, ActionItem.due_on, ActionItem.owner_id, ActionItem.done)
        .join(Pair, Pair.id == ActionItem.pair_id)
        .join(PairMember, (PairMember.pair_id == Pair.id) & (PairMember.user_id == user.id))
        .where(ActionItem.id == delivery.details["action"], Pair.status == PairStatus.ACTIVE)
    ).first()
    if action is None or action.done or action.due_on is None:
        return None
    if _subject(action.id, action.due_on) != delivery.subject or action.owner_id not in (None, user.id):
        return None
    partner = partner_named(delivery)
    met_on = delivery.details.get("met_on")
    on = f" on {_day(date.fromisoformat(met_on))}" if met_on else ""
    if action.owner_id is None:
        first = f"You and {partner} have an action due tomorrow, from your meeting{on}."
    else:
        first = f"You have an action due tomorrow, from your meeting with {partner}{on}."
    return Message(
        delivery.kind,
        "An action is due tomorrow",
        [first, "If it's done, tick it off in your journal; if it needs longer, that's fine too."],
        url=absolute_url("pair.journal.index", pair_id=action.pair_id),
        action="Open your journal",
    )


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"
