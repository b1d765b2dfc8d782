"""Planning the next meeting, and the private calendar feeds that carry it to people's calendars."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError

from app import versions
from app.auth.links import hash_secret
from app.extensions import db
from app.models import CalendarFeed, NextMeeting, PairMember, utcnow


def still_ahead(planned: NextMeeting | None) -> NextMeeting | None:
    """The plan, unless it is more than a day in the past: then it is time to log that meeting
    and plan the next."""
    if planned is None or planned.starts_at < utcnow() - timedelta(days=1):
        return None
    return planned


def upcoming(pair_id: int) -> NextMeeting | None:
    return still_ahead(db.session.get(NextMeeting, pair_id))


def save(membership: PairMember, base_version: int, values: dict[str, Any]) -> NextMeeting:
    """Set the next meeting over version ``base_version`` of the plan (0: there was none).
    Raises ``versions.Conflict`` with the plan as it now is when the partner saved since."""
    # Who planned it and on which clock: recorded, but re-saving the same moment from another
    # zone is no change (no new version, no calendar update).
    values = dict(values)
    stamp = {"timezone": values.pop("timezone"), "updated_by_id": membership.user_id, "updated_at": utcnow()}
    planned = db.session.get(NextMeeting, membership.pair_id)
    if planned is None:
        try:
            with db.session.begin_nested():
                planned = NextMeeting(pair_id=membership.pair_id, version=1, **values, **stamp)
                db.session.add(planned)
            return planned
        except IntegrityError:
            # Both made the first plan at once: the other one's is there now.
            raise versions.Conflict(db.session.get(NextMeeting, membership.pair_id, populate_existing=True)) from None
    versions.save_over(planned, base_version, values, stamp=stamp)
    return planned


def _live_feeds(membership: PairMember) -> tuple[ColumnElement[bool], ...]:
    """This person's feeds of this pair that still work."""
    return (
        CalendarFeed.user_id == membership.user_id,
        CalendarFeed.pair_id == membership.pair_id,
        CalendarFeed.revoked_at.is_(None),
    )


def has_feed(membership: PairMember) -> bool:
    return bool(db.session.scalar(select(CalendarFeed.id).where(*_live_feeds(membership))))


def revoke_feeds(membership: PairMember) -> None:
    db.session.execute(update(CalendarFeed).where(*_live_feeds(membership)).values(revoked_at=utcnow()))


def new_feed(membership: PairMember) -> str:
    """A fresh secret for this person's feed of this pair; any earlier address stops working.
    Returns the secret, which is shown once: only its hash is kept."""
    revoke_feeds(membership)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=membership.user_id, pair_id=membership.pair_id, token_hash=hash_secret(token)))
    return token


def as_values(day_start: datetime, timezone: str, length: int | None, format_: str, place: str) -> dict[str, Any]:
    return {
        "starts_at": day_start,
        "timezone": timezone,
        "length_minutes": length or 45,
        "format": format_,
        # One line: a place goes into calendar files and onto one line of the page.
        "place": " ".join(place.split()),
    }
