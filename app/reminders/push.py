"""Web Push to the installed app (pywebpush, VAPID)."""

from __future__ import annotations

from app.models import User
from app.reminders.messages import Message


class TryLater(Exception):
    """The push service couldn't take the message now (5xx, 429, unreachable)."""


def send(user: User, message: Message) -> bool:
    """Push ``message`` to each of ``user``'s subscribed browsers; True if at least one took it.
    False when they have none, so the message goes by email instead."""
    return False
