"""Who administers which program, and what the program's admins did.

An admin administers the programs they are an admin of (``ProgramAdmin``); an owner administers
every program and is the one who names program admins. Every admin action that changes who takes
part or what the admin could see is an ``AuditEvent`` of its program: the program's admins and the
owners read the log, and each participant sees the events that concerned them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import LabelledEnum, UTCDateTime, enum_column, utcnow


class ProgramAdmin(db.Model):
    __tablename__ = "program_admin"

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditAction(LabelledEnum):
    """What an admin did, in the words the log shows (the person it concerned follows)."""

    PROGRAM_CREATED = "program-created", "Created the program"
    SETTINGS_CHANGED = "settings-changed", "Changed the program's settings"
    PARTICIPANT_ADDED = "participant-added", "Added a participant"
    PARTICIPANTS_IMPORTED = "participants-imported", "Imported participants from a CSV file"
    PARTICIPANT_REMOVED = "participant-removed", "Removed a participant"
    PAIR_MADE = "pair-made", "Made a pair"
    PAIR_UNDONE = "pair-undone", "Undid a pair"
    PAIRS_PROPOSED = "pairs-proposed", "Sent match proposals"
    PROPOSAL_WITHDRAWN = "proposal-withdrawn", "Withdrew a match proposal"
    PROGRAM_ENDED = "program-ended", "Ended the program"
    CSV_EXPORTED = "csv-exported", "Downloaded the dashboard as CSV"
    HELP_READ = "help-read", "Read the requests for help"
    HELP_ANSWERED = "help-answered", "Answered a request for help"
    ADMIN_ADDED = "admin-added", "Added a program admin"
    ADMIN_REMOVED = "admin-removed", "Removed a program admin"


class AuditEvent(db.Model):
    """One admin action. ``details`` holds names of settings and counts, never a pair's words."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_program_id_id", "program_id", "id"),
        Index("ix_audit_event_subject_id", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    # Who did it; None once that person's account was deleted ("a former admin").
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, "audit_action"))
    # The person it concerned, if one; they see it on their program page.
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
