"""Planning the next meeting, and the private calendar feeds that carry it to people's calendars."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth.links import hash_secret
from app.extensions import db
from app.models import CalendarFeed, NextMeeting, Pair, PairMember, PairStatus, User, utcnow


class Conflict(Exception):
    """The partner changed the plan since this form was loaded."""

    def __init__(self, current: NextMeeting) -> None:
        super().__init__("next meeting changed")
        self.current = current


def still_ahead(planned: NextMeeting | None) -> NextMeeting | None:
    """The plan, unless it is more than a day in the past: then it is time to log that meeting
    and plan the next."""
    if planned is None or planned.starts_at < utcnow() - timedelta(days=1):
        return None
    return planned


def upcoming(pair_id: int) -> NextMeeting | None:
    return still_ahead(db.session.get(NextMeeting, pair_id))


def save(membership: PairMember, base_version: int, values: dict[str, Any]) -> NextMeeting:
    """Set the next meeting over version ``base_version`` of the plan (0: there was none)."""
    values = {**values, "updated_by_id": membership.user_id, "updated_at": utcnow()}
    if base_version == 0:
        try:
            with db.session.begin_nested():
                planned = NextMeeting(pair_id=membership.pair_id, version=1, **values)
                db.session.add(planned)
            return planned
        except IntegrityError:
            raise Conflict(db.session.get(NextMeeting, membership.pair_id, populate_existing=True)) from None
    saved = db.session.execute(
        update(NextMeeting)
        .where(NextMeeting.pair_id == membership.pair_id, NextMeeting.version == base_version)
        .values(**values, version=NextMeeting.version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    current = db.session.get(NextMeeting, membership.pair_id, populate_existing=True)
    if saved != 1:
        raise Conflict(current)
    return current


def has_feed(membership: PairMember) -> bool:
    return bool(
        db.session.scalar(
            select(CalendarFeed.id).where(
                CalendarFeed.user_id == membership.user_id,
                CalendarFeed.pair_id == membership.pair_id,
                CalendarFeed.revoked_at.is_(None),
            )
        )
    )


def revoke_feeds(membership: PairMember) -> None:
    db.session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.user_id == membership.user_id,
            CalendarFeed.pair_id == membership.pair_id,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def new_feed(membership: PairMember) -> str:
    """A fresh secret for this person's feed of this pair; any earlier address stops working.
    Returns the secret, which is shown once: only its hash is kept."""
    revoke_feeds(membership)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=membership.user_id, pair_id=membership.pair_id, token_hash=hash_secret(token)))
    return token


def feed_pair(token: str) -> Pair | None:
    """The pair a live feed token belongs to, with its people loaded, if its owner is still an
    active member of it and the pair hasn't ended."""
    feed = db.session.scalar(
        select(CalendarFeed)
        .join(User, User.id == CalendarFeed.user_id)
        .join(PairMember, (PairMember.pair_id == CalendarFeed.pair_id) & (PairMember.user_id == CalendarFeed.user_id))
        .join(Pair, Pair.id == CalendarFeed.pair_id)
        .where(
            CalendarFeed.token_hash == hash_secret(token),
            CalendarFeed.revoked_at.is_(None),
            User.active.is_(True),
            Pair.status == PairStatus.ACTIVE,
        )
    )
    if feed is None:
        return None
    return (
        db.session.execute(
            select(Pair).where(Pair.id == feed.pair_id).options(joinedload(Pair.members).joinedload(PairMember.user))
        )
        .unique()
        .scalar_one()
    )


def as_values(day_start: datetime, timezone: str, length: int | None, format_: str, place: str) -> dict[str, Any]:
    return {
        "starts_at": day_start,
        "timezone": timezone,
        "length_minutes": length or 45,
        "format": format_,
        "place": place,
    }
