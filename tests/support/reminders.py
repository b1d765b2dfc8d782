"""Driving the reminder pass in tests, and the mail it hands over."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import mail
from app.models import Delivery
from app.reminders import passes


def catch_mail(app: Flask, monkeypatch) -> list[EmailMessage]:
    """Every mail the app hands to its mail server, caught at the hand-over (the real delivery,
    claim and wording all run; tasks run eagerly in tests)."""
    sent: list[EmailMessage] = []
    monkeypatch.setitem(app.config, "MAIL_URL", "smtp://mail.invalid")
    monkeypatch.setattr(mail, "_deliver", lambda _url, message: sent.append(message))
    return sent


def run_pass(app: Flask, session: Session, at: datetime, *, dry_run: bool = False) -> passes.Outcome:
    """``flask reminders due --at AT``, as the CLI and beat run it."""
    session.flush()
    with app.app_context():
        return passes.run(at, dry_run=dry_run)


def deliveries(session: Session) -> list[Delivery]:
    session.expire_all()
    return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def to(sent: list[EmailMessage], email: str) -> list[EmailMessage]:
    return [message for message in sent if message["To"] == email]
