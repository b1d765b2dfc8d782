"""Requests for sign-in mails, counted in the database so the per-address limit holds across
every worker and host, with or without Redis."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class SignInAttempt(db.Model):
    """One sign-in mail asked for. ``address_key`` is an HMAC (keyed with SECRET_KEY) of the
    normalised address, never the address itself: most rows are for people Twoway doesn't know."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_address_key_created_at", "address_key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
