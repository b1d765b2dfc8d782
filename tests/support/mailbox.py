"""An inbox behind a real SMTP server in tests (an aiosmtpd handler), and what a sign-in mail and its page look like."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy

LINK = re.compile(r"http://localhost:5000/auth/link/[A-Za-z0-9_-]{20,}")
SENT_PAGE_TEXT = "belongs to someone in Twoway, a sign-in link is on its way"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(envelope.original_content, policy=policy.default) for envelope in self.envelopes]

    def wait_for(self, count: int, seconds: float = 5) -> list:
        """The envelopes once ``count`` have arrived: mail is delivered after the answer is sent."""
        deadline = time.monotonic() + seconds
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.envelopes


def text_of(message) -> str:
    """The plain-text part of a mail (Twoway sends plain text and HTML)."""
    return message.get_body(("plain",)).get_content()


@contextmanager
def smtp_inbox(inbox: Inbox | None = None) -> Iterator[tuple]:
    """A real SMTP server on a free local port, and the ``Inbox`` it fills (a new one unless
    given): ``(controller, inbox)``."""
    from aiosmtpd.controller import Controller

    inbox = inbox or Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
