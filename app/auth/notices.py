"""Mails that tell a person a new way into their account was added.

If somebody else got into the account (a session left open, a borrowed phone), the owner hears
about it from their own inbox and can remove what was added. The words are in
app/reminders/account.py; these are never held by quiet hours and never turned off.
"""

from __future__ import annotations

from datetime import datetime

from app.models import Kind, User
from app.reminders import outbox


def passkey_added(user: User, passkey_id: int, nickname: str, at: datetime) -> None:
    outbox.deliver_now(
        user, Kind.SECURITY, f"passkey:{passkey_id}", what="passkey", nickname=nickname, at=at.isoformat()
    )


def recovery_codes_made(user: User, at: datetime) -> None:
    outbox.deliver_now(
        user, Kind.SECURITY, f"recovery-codes:{at.isoformat()}", what="recovery-codes", at=at.isoformat()
    )
