"""Outgoing mail. Without MAIL_URL, mail is written to the log so Twoway runs with no mail server."""

from __future__ import annotations

import smtplib
import ssl
import threading
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app

SMTP_TIMEOUT = 10
# The name of the threads that hand mail to the mail server.
DELIVERY_THREAD = "twoway-mail"


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail; failures are logged, never shown to the person asking. The mail
    server is spoken to after the answer has gone: a sign-in link is mailed only to a known
    address, so an answer that waited for the mail server would tell whoever timed it (on the
    sign-in page, or a join page the admin holds) who takes part."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)

    url = current_app.config["MAIL_URL"]
    if not url:
        if current_app.debug or current_app.testing:
            # Plain text, not the MIME form, so a long link stays on one line and can be opened.
            current_app.logger.warning(
                "MAIL_URL is not set; this mail was not sent:\nTo: %s\nSubject: %s\n\n%s", to, subject, body
            )
        else:
            # The mail holds a sign-in link: in production, logs must never carry it.
            current_app.logger.error("MAIL_URL is not set: a mail to %s (%r) was not sent.", to, subject)
        return
    # Not a daemon: a worker that is stopping finishes handing over its mail (SMTP_TIMEOUT bounds it).
    threading.Thread(
        target=_deliver_logged, args=(current_app._get_current_object(), url, message), name=DELIVERY_THREAD
    ).start()


def _deliver_logged(app: Flask, url: str, message: EmailMessage) -> None:
    try:
        _deliver(url, message)
    except (OSError, smtplib.SMTPException):
        app.logger.exception("Could not send mail %r to %s", message["Subject"], message["To"])


def _deliver(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            parts.hostname, parts.port or 465, timeout=SMTP_TIMEOUT, context=ssl.create_default_context()
        )
    elif parts.scheme == "smtp":
        smtp = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SMTP_TIMEOUT)
    else:
        raise smtplib.SMTPException(f"MAIL_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    with smtp:
        if parts.scheme == "smtp":
            smtp.ehlo()
            # Upgrade to TLS whenever the server offers it, and never send a password without it
            # (except to a relay on this machine).
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            elif parts.username and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
                raise smtplib.SMTPException("the mail server offers no STARTTLS; not sending the password in clear")
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
