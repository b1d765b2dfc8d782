"""A person's data export: one ZIP of everything that is theirs, kept for a day.

The file lives in the exports folder (``EXPORT_FOLDER``) named by ``token``, a random value no
URL, mail or log carries but the signed-in owner's own download link."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow

# How long a finished export can be downloaded (as often as its owner likes) before it is deleted.
EXPORT_KEPT_FOR = timedelta(hours=24)


def new_export_token() -> str:
    return secrets.token_urlsafe(32)


class ExportState(LabelledEnum):
    BUILDING = "building", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Couldn't be made"


class DataExport(db.Model):
    __tablename__ = "data_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_export_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    state: Mapped[ExportState] = mapped_column(
        enum_column(ExportState, "data_export_state"), default=ExportState.BUILDING
    )
    # What the export holds, counted before it was built: it decides whether the request builds
    # it or the task queue does.
    rows: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The file and this row go then, whether or not it was downloaded.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def file_name(self) -> str:
        return f"{self.token}.zip"

    def expired(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.expires_at
