"""Messages about a person's account: sign-in links, and notices that a new way into it was added.
Neither is ever held by quiet hours or turned off."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.auth import links
from app.models import Delivery, User
from app.reminders.messages import Message, when
from app.urls import absolute_url

if TYPE_CHECKING:
    from app.reminders.preferences import Settings


def compose_sign_in(delivery: Delivery, user: User, settings: Settings) -> Message:
    """A new link at each try: its token is never stored (only its hash) nor queued, so a mail
    that must be tried again carries a link made for that try."""
    url = links.issue(user, delivery.details.get("next"))
    return Message(
        delivery.kind,
        "Your Twoway sign-in link",
        [
            f"Hi {user.first_name}, here is your link to sign in to Twoway. It works once, within 15 minutes.",
            "If you didn't ask for it, you can ignore this mail: nobody can sign in without the link.",
        ],
        url=url,
        action="Sign in to Twoway",
    )


def compose_security(delivery: Delivery, user: User, settings: Settings) -> Message:
    at = datetime.fromisoformat(delivery.details["at"])
    if delivery.details.get("what") == "passkey":
        subject = "A passkey was added to your Twoway account"
        added = f"A passkey (“{delivery.details.get('nickname', '')}”) was added to your Twoway account on {when(at, settings.zone)}."
        undo = "remove it"
    else:
        subject = "New recovery codes for your Twoway account"
        added = (
            f"A new set of recovery codes was made for your Twoway account on {when(at, settings.zone)}; "
            "the old ones no longer work."
        )
        undo = "make a new set"
    return Message(
        delivery.kind,
        subject,
        [
            added,
            "If it was you, there's nothing to do.",
            f"If it wasn't you, sign in and {undo}, then sign out (that ends every session of yours), "
            "and tell your program's admin that someone else got into your account.",
        ],
        url=absolute_url("account.passkeys"),
        action="Review your passkeys",
    )
