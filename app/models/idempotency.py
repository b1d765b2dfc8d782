"""What a create form's first submission answered, so that a double tap or a retry of the same
form makes one thing and gets the same answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

IDEMPOTENCY_KEY_MAX = 64


class IdempotencyKey(db.Model):
    """One submission of a create form by one person. The unique (person, key) is the claim: of
    two submissions with the same key only one can insert it; the other waits for it and replays
    its answer. ``status`` stays ``None`` until the first submission's answer is stored."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_key_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column(Integer)
    # The headers a replay needs (Location, HX-Redirect, HX-Trigger, Content-Type) and the body.
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text, default="")
