"""Mails that tell a person a new way into their account was added.

If somebody else got into the account (a session left open, a borrowed phone), the owner hears
about it from their own inbox and can remove what was added.
"""

from __future__ import annotations

from datetime import datetime

from app import mail
from app.models import User
from app.urls import absolute_url


def _when(moment: datetime) -> str:
    return f"{moment:%-d %B %Y at %H:%M} UTC"


def _if_not_you(undo: str) -> str:
    return (
        f"If it wasn't you, sign in and {undo}, then sign out (that ends every session of yours):\n"
        f"{absolute_url('account.passkeys')}\n"
        "and tell your program's admin that someone else got into your account.\n"
    )


def passkey_added(user: User, nickname: str, at: datetime) -> None:
    mail.send(
        user.email,
        "A passkey was added to your Twoway account",
        f"Hi {user.first_name},\n\n"
        f"A passkey (“{nickname}”) was added to your Twoway account on {_when(at)}.\n\n"
        "If it was you, there's nothing to do.\n" + _if_not_you("remove it"),
    )


def recovery_codes_made(user: User, at: datetime) -> None:
    mail.send(
        user.email,
        "New recovery codes for your Twoway account",
        f"Hi {user.first_name},\n\n"
        f"A new set of recovery codes was made for your Twoway account on {_when(at)}; the old ones "
        "no longer work.\n\nIf it was you, keep the new codes somewhere safe.\n" + _if_not_you("make a new set"),
    )
