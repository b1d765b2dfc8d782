"""What each person chose: a channel per kind (email, push or off) and quiet hours on their own
clock; and the signed tokens behind a mail's one-click unsubscribe."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, true

from app.extensions import db
from app.models import Channel, Kind, NotificationPreference, User
from app.models.user import UTC_ZONE, zone_named
from app.reminders.kinds import SPECS
from app.reminders.outbox import dialect_insert


@dataclass(frozen=True)
class Settings:
    """One person's choices, read once for a whole pass."""

    zone: ZoneInfo = UTC_ZONE
    quiet_from: time | None = None
    quiet_until: time | None = None
    channels: dict[Kind, Channel] = field(default_factory=dict)

    def channel(self, kind: Kind) -> Channel:
        spec = SPECS[kind]
        if not spec.optional:
            return Channel.EMAIL
        return self.channels.get(kind, spec.default)

    def quiet_at(self, moment: datetime) -> bool:
        if self.quiet_from is None or self.quiet_until is None or self.quiet_from == self.quiet_until:
            return False
        clock = moment.astimezone(self.zone).time().replace(tzinfo=None)
        if self.quiet_from < self.quiet_until:
            return self.quiet_from <= clock < self.quiet_until
        return clock >= self.quiet_from or clock < self.quiet_until  # wraps past midnight

    def quiet_ends(self, moment: datetime) -> datetime | None:
        """When the quiet hours holding ``moment`` end (UTC), or None if ``moment`` isn't in them."""
        if not self.quiet_at(moment) or self.quiet_until is None:
            return None
        local = moment.astimezone(self.zone)
        day = local.date() if local.time().replace(tzinfo=None) < self.quiet_until else local.date() + timedelta(days=1)
        end = datetime.combine(day, self.quiet_until, tzinfo=self.zone)
        # Through UTC and back: a wall time inside a DST gap becomes a real moment after it.
        if end.astimezone(UTC_ZONE) <= moment:
            # The hour the clocks go back comes twice: inside its second time round, quiet hours
            # end at the second reading of that wall time, not the first, which has gone by.
            end = end.replace(fold=1)
        return end.astimezone(UTC_ZONE)


def settings_of(user_ids: Iterable[int]) -> dict[int, Settings]:
    """Everyone's settings in two queries, whatever their number."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    wanted = set(ids)
    channels: dict[int, dict[Kind, Channel]] = {}
    for user_id, kind, channel in db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.kind, NotificationPreference.channel).where(
            _among(NotificationPreference.user_id, ids)
        )
    ):
        if user_id in wanted:
            channels.setdefault(user_id, {})[kind] = channel
    found: dict[int, Settings] = {}
    for user_id, zone, quiet_from, quiet_until in db.session.execute(
        select(User.id, User.time_zone, User.quiet_from, User.quiet_until).where(_among(User.id, ids))
    ):
        if user_id in wanted:
            found[user_id] = Settings(
                zone_named(zone or "") or UTC_ZONE, quiet_from, quiet_until, channels.get(user_id, {})
            )
    return found


# SQLite allows a limited number of bound parameters in one statement.
_IN_MAX = 900


def _among(column, ids: list[int]):
    """``column IN ids`` while the list fits one statement; beyond that (a pass with reminders for
    thousands of people) the whole table is read once, which costs less than dozens of chunks."""
    return column.in_(ids) if len(ids) <= _IN_MAX else true()


def settings_for(user: User) -> Settings:
    return settings_of([user.id]).get(user.id, Settings())


def choose(user_id: int, kind: Kind, channel: Channel) -> None:
    """Set ``user_id``'s channel for ``kind`` (a kind that can't be turned off is left alone)."""
    if not SPECS[kind].optional:
        return
    # One statement, not a read then an insert: a double-tapped save, or a mail client's one-click
    # POST beside the person's own, must not both find no row and then collide on the second insert.
    statement = dialect_insert(NotificationPreference.__table__).values(user_id=user_id, kind=kind, channel=channel)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "kind"], set_={"channel": statement.excluded.channel}
        )
    )


# --- one-click unsubscribe (RFC 8058) ------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="twoway unsubscribe")


def unsubscribe_token(user: User, kind: Kind) -> str:
    """A token naming the person and kind, signed: whoever holds the mail can turn that one kind
    off, and nothing else."""
    return _serializer().dumps([user.id, kind.value])


def unsubscribe_target(token: str) -> tuple[User, Kind] | None:
    try:
        user_id, kind_value = _serializer().loads(token)
        kind = Kind(kind_value)
    except (BadSignature, ValueError, TypeError):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or not SPECS[kind].optional:
        return None
    return user, kind
