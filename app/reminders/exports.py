"""Telling a person that the export they asked for is ready.

The message says only that: the export itself is downloaded from the account page, signed in. A
link to the file would be a credential in an inbox, so the message links to the page instead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from app.extensions import db
from app.models import DataExport, Delivery, ExportState, Kind, User, utcnow
from app.reminders import outbox
from app.reminders.messages import Message, when
from app.urls import absolute_url

if TYPE_CHECKING:
    from app.reminders.preferences import Settings


def tell_owner(export: DataExport) -> int | None:
    """Send the notice for ``export`` (call it once the export is committed as ready): one per
    export, however often the task that built it runs. Commits."""
    return outbox.deliver_now(
        export.user_id, Kind.EXPORT_READY, f"export:{export.id}", useful_until=export.expires_at, export=export.id
    )


def compose(delivery: Delivery, user: User, settings: Settings) -> Message | None:
    """None when the export is gone or no longer downloadable."""
    expires_at = db.session.scalar(
        select(DataExport.expires_at).where(
            DataExport.id == delivery.details.get("export"),
            DataExport.user_id == user.id,
            DataExport.state == ExportState.READY,
        )
    )
    if expires_at is None or expires_at <= utcnow():
        return None
    return Message(
        delivery.kind,
        "Your Twoway export is ready",
        [
            "The export of your Twoway data you asked for is ready to download from your account page.",
            f"It is deleted on {when(expires_at, settings.zone)}; you can make a new one whenever you like.",
        ],
        url=absolute_url("account.passkeys") + "#your-data",
        action="Go to your account",
    )
