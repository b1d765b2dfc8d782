"""One way to tick and untick: a goal's milestones and the journal's action items both have
``done`` and ``done_at``, and both buttons say which state they ask for."""

from __future__ import annotations

from typing import Protocol

from app.models import utcnow


class Tickable(Protocol):
    done: bool
    done_at: object


def wanted(value: str | None, current: bool) -> bool:
    """The state a tick button asks for: its ``done`` value ("1" or "0"); without one (an old
    page, a hand-made POST), the opposite of ``current``."""
    return value == "1" if value in ("0", "1") else not current


def tick(item: Tickable, done: bool) -> bool:
    """Set ``item`` done or not. Setting the state asked for, rather than flipping it, makes a
    double tap or a partner's tick a moment earlier harmless. False when it was so already."""
    if item.done == done:
        return False
    item.done = done
    item.done_at = utcnow() if done else None
    return True
