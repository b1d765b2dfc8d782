"""The words of a message, the same for email and push: a subject (the notification's title), a
few short paragraphs, and one link to act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from flask import render_template

from app.models import Delivery, Kind

# Standing in for a partner's name the reminder doesn't have (or that went with their account).
NO_NAME = "your partner"


@dataclass(frozen=True)
class Message:
    kind: Kind
    subject: str
    paragraphs: list[str]
    # Where tapping the notification or the mail's button leads: an absolute URL on BASE_URL.
    url: str
    action: str = "Open Twoway"
    # Extra headers for the mail (the unsubscribe ones are added by ``sending``).
    headers: dict[str, str] = field(default_factory=dict)

    def text(self, **footer: str | None) -> str:
        return render_template("mail/message.txt", message=self, **footer)

    def html(self, **footer: str | None) -> str:
        return render_template("mail/message.html", message=self, **footer)

    @property
    def push_body(self) -> str:
        """A notification shows a line or two: the first paragraph."""
        return self.paragraphs[0] if self.paragraphs else ""


def when(moment: datetime, zone: tzinfo) -> str:
    """ "Wednesday 2 December at 10:00" on the reader's own clock (with the zone's abbreviation,
    since the mail may be read elsewhere)."""
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({local.tzname()})"


def partner_named(delivery: Delivery) -> str:
    """The partner's name as it was when the reminder was queued."""
    return delivery.details.get("partner", NO_NAME)
