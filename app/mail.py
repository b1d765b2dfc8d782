"""Outgoing mail: a message built from a reminder's words (plain text and HTML), handed to
MAIL_URL's server. Without MAIL_URL, mail is written to the log so Twoway runs with no mail
server. Only a worker calls this (app/reminders/sending.py): nothing speaks to the mail server
inside a request, so no page's timing tells whether an address has an account."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app

SMTP_TIMEOUT = 10
# Errors after which the mail certainly wasn't accepted, so trying again later is safe.
TRANSIENT = (OSError, smtplib.SMTPException)


class MaybeSent(Exception):
    """The line went (a timeout, a disconnect) while the message was being handed over, and the
    server had not said no: it may have taken the mail, so trying again could send a second copy.
    (A line lost before MAIL FROM is told apart from one lost after DATA only by smtplib's
    internals; both are reported rather than risk the copy.)"""


def build(
    to: str, subject: str, text: str, html: str | None = None, headers: dict[str, str] | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    # One line, whatever the words hold: a name typed with a line break (a CSV cell can carry one)
    # must neither add a header nor make the mail unsendable.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=urlsplit(current_app.config["BASE_URL"]).hostname)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def transmit(message: EmailMessage) -> None:
    """Hand ``message`` to the mail server; raises one of ``TRANSIENT`` when it wasn't taken,
    ``MaybeSent`` when it may have been."""
    url = current_app.config["MAIL_URL"]
    if not url:
        if current_app.debug or current_app.testing:
            # The plain-text part, not the MIME form, so a long link stays on one line and can be opened.
            body = message.get_body(("plain",))
            current_app.logger.warning(
                "MAIL_URL is not set; this mail was not sent:\nTo: %s\nSubject: %s\n\n%s",
                message["To"],
                message["Subject"],
                body.get_content() if body else "",
            )
        else:
            # The mail may hold a sign-in link: in production, logs must never carry it.
            current_app.logger.error(
                "MAIL_URL is not set: a mail to %s (%r) was not sent.", message["To"], message["Subject"]
            )
        return
    _deliver(url, message)


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
        try:
            smtp.send_message(message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError):
            raise  # the server answered no: nothing was taken
        except OSError as error:  # a timeout, a reset, SMTPServerDisconnected
            raise MaybeSent(
                f"the line went while the mail was handed over, so it may have gone ({type(error).__name__})"
            ) from error
