"""Are we meeting as we agreed? Judged against the rhythm in the pair's ground rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.models import Rhythm


@dataclass(frozen=True)
class Pace:
    last_met_on: date | None
    days_since: int | None
    every_days: int | None
    state: str  # "new", "on-track", "due", "overdue" or "unknown" (no regular rhythm agreed)

    @property
    def due_on(self) -> date | None:
        if self.last_met_on and self.every_days:
            return self.last_met_on + timedelta(days=self.every_days)
        return None


def grace_days(every_days: int) -> int:
    """How long after the due date a meeting still counts as just due rather than overdue."""
    return max(3, every_days // 2)


def overdue_on(rhythm: Rhythm, last_met_on: date) -> date | None:
    """The first day ``pace`` calls a pair that last met on ``last_met_on`` overdue; None without a
    regular rhythm."""
    every = rhythm.every_days
    return last_met_on + timedelta(days=every + grace_days(every)) if every else None


def pace(rhythm: Rhythm, last_met_on: date | None, today: date) -> Pace:
    every = rhythm.every_days
    if last_met_on is None:
        return Pace(None, None, every, "new")
    days = (today - last_met_on).days
    if not every:
        state = "unknown"
    elif days < every:
        state = "on-track"
    elif days < every + grace_days(every):
        state = "due"
    else:
        state = "overdue"
    return Pace(last_met_on, days, every, state)


def suggest_next(rhythm: Rhythm, last_met_on: date | None, today: date) -> date:
    """The day the agreed cadence points to (never in the past); a week out without one."""
    every = rhythm.every_days or 7
    if last_met_on is None:
        return today + timedelta(days=min(every, 7))
    return max(today, last_met_on + timedelta(days=every))
