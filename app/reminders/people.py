"""What the pair reminders share: the people of every active pair in one SELECT, and 09:00 on
a person's own clock."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from app.models import Pair, PairMember, PairStatus, User
from app.models.user import UTC_ZONE, zone_named

MORNING = time(9, 0)

# The person, their clock and their partner's name: the columns every pair reminder starts from.
_partner = aliased(PairMember)
_partner_user = aliased(User)


def members() -> Select:
    """(pair id, person, their zone, partner's name) for every active person of every active
    pair: one row per person. Callers add their own columns, joins and conditions."""
    return (
        select(Pair.id.label("pair_id"), PairMember.user_id, User.time_zone, _partner_user.name.label("partner"))
        .join(PairMember, PairMember.pair_id == Pair.id)
        .join(User, User.id == PairMember.user_id)
        .join(_partner, (_partner.pair_id == Pair.id) & (_partner.id != PairMember.id))
        .join(_partner_user, _partner_user.id == _partner.user_id)
        .where(Pair.status == PairStatus.ACTIVE, User.active.is_(True))
    )


# Pure, and asked for the same few days and clocks thousands of times in one pass.
@lru_cache(maxsize=4096)
def morning(day: date, zone_name: str | None) -> datetime:
    """09:00 on ``day`` on the clock of ``zone_name`` (UTC when unknown), as a UTC moment. Through
    UTC, so a 09:00 that a DST change skips becomes the first moment after it."""
    zone = zone_named(zone_name or "") or UTC_ZONE
    return datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC_ZONE)


def local_day(moment: datetime, zone_name: str | None) -> date:
    """The day ``moment`` falls on, on the clock of ``zone_name``."""
    return moment.astimezone(zone_named(zone_name or "") or UTC_ZONE).date()


@lru_cache(maxsize=4096)
def midnight(day: date, zone_name: str | None = None) -> datetime:
    """The start of ``day`` on the clock of ``zone_name`` (UTC when unknown), as a UTC moment."""
    zone = zone_named(zone_name or "") or UTC_ZONE
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC_ZONE)
