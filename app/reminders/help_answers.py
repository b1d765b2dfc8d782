"""Telling a person that the program's admin answered their request for help.

The message says only that an answer is there, with a link to the person's program page: the
answer itself is read in Twoway, by the person who asked and nobody else (a lock screen or a
shared inbox is not a private place, and the partner, even when told of the request, never
sees the answer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from app.extensions import db
from app.models import Delivery, HelpRequest, Kind, Program, User
from app.reminders import outbox
from app.reminders.messages import Message
from app.urls import absolute_url

if TYPE_CHECKING:
    from app.reminders.preferences import Settings


def tell_sender(request_id: int, *, amended: bool) -> int | None:
    """Send the answer's notice to whoever asked (call it after the answer is committed). Each
    saved answer is a delivery of its own (the key's moment is when it was saved), so an amended
    answer is told of again, and a double tap that saved nothing new tells nothing."""
    sender_id = db.session.scalar(select(HelpRequest.sender_id).where(HelpRequest.id == request_id))
    if sender_id is None:
        return None
    return outbox.deliver_now(
        sender_id, Kind.HELP_ANSWER, f"help-answer:{request_id}", request=request_id, amended=amended
    )


def compose(delivery: Delivery, user: User, settings: Settings) -> Message | None:
    """None when the request is gone, has no answer, or is not this person's."""
    row = db.session.execute(
        select(HelpRequest.pair_id, HelpRequest.sender_id, HelpRequest.answered_at, Program.name)
        .join(Program, Program.id == HelpRequest.program_id)
        .where(HelpRequest.id == delivery.details.get("request"))
    ).one_or_none()
    if row is None or row.answered_at is None or row.sender_id != user.id:
        return None
    if row.pair_id is not None:
        url = absolute_url("pair.program.index", pair_id=row.pair_id) + "#help"
    else:
        url = absolute_url("pairs.index")
    updated = delivery.details.get("amended")
    return Message(
        delivery.kind,
        "The program admin updated their answer to your request"
        if updated
        else "The program admin answered your request",
        [
            f"The admin of {row.name} {'updated their answer to' if updated else 'answered'} the request for help you sent.",
            "Read it in Twoway: only you can see it there, and it is not in this message.",
        ],
        url=url,
        action="Read the answer",
    )
