"""Outgoing mail. Without MAIL_URL, mail is written to the log so Twoway runs with no mail server."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from celery import Task, shared_task
from flask import current_app

from app import queue

SMTP_TIMEOUT = 10
# A mail server that refuses or is unreachable is tried again after about 1, 2, 4, 8 and 16 s.
MAX_RETRIES = 5


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text mail: it is queued, and a worker hands it to the mail server. Nothing is
    ever spoken to the mail server inside a request: a sign-in link is mailed only to a known
    address, so an answer that waited for the mail server would tell whoever timed it (on the
    sign-in page, or a join page the admin holds) who takes part. Failures are logged, never shown
    to the person asking."""
    queue.enqueue(deliver_mail, to, subject, body)


@shared_task(
    name="twoway.deliver_mail",
    bind=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=True,
    max_retries=MAX_RETRIES,
)
def deliver_mail(self: Task, to: str, subject: str, body: str) -> None:
    """Hand one mail to MAIL_URL's server (or, without it, to the log), retrying with backoff."""
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
    try:
        _deliver(url, message)
    except (OSError, smtplib.SMTPException) as error:
        if self.request.retries >= MAX_RETRIES:
            # Subject and address only: the body may hold a sign-in link.
            current_app.logger.error(
                "Could not send mail %r to %s after %d tries: %s", subject, to, MAX_RETRIES + 1, error
            )
            return
        current_app.logger.warning("Mail %r to %s not sent yet (%s); trying again", subject, to, error)
        raise


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
