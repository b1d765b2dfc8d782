"""Exports: a person's data export, and the notice that it is ready

Revision ID: 0021_exports
Revises: 0020_ending
Create Date: 2026-12-01 15:36:33.986016

"""

import sqlalchemy as sa
from alembic import op
from enum_checks import change_enum

# revision identifiers, used by Alembic.
revision = "0021_exports"
down_revision = "0020_ending"
branch_labels = None
depends_on = None

KINDS = (
    "sign-in",
    "security",
    "meeting-day-before",
    "meeting-hour-before",
    "check-in-open",
    "check-in-lapsing",
    "action-due",
    "ground-rules-waiting",
    "quiet-pair",
    "help-request",
    "admin-digest",
    "help-answer",
    "match",
    "pair-ending-soon",
    "pair-closed",
)
NEW_KINDS = (*KINDS, "export-ready")
# The kind columns and the names of their check constraints (as 0012_reminders declared them).
KIND_COLUMNS = (("delivery", "delivery_kind"), ("notification_preference", "preference_kind"))


def _change_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    for table, name in KIND_COLUMNS:
        change_enum(table, "kind", name, old, new)


def upgrade():
    op.create_table(
        "data_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("building", "ready", "failed", name="data_export_state", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_data_export_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_export")),
        sa.UniqueConstraint("token", name=op.f("uq_data_export_token")),
    )
    with op.batch_alter_table("data_export", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_export_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_export_user_id"), ["user_id"], unique=False)
    _change_kinds(KINDS, NEW_KINDS)


def downgrade():
    op.execute(sa.text("DELETE FROM delivery WHERE kind = 'export-ready'"))
    op.execute(sa.text("DELETE FROM notification_preference WHERE kind = 'export-ready'"))
    _change_kinds(NEW_KINDS, KINDS)
    with op.batch_alter_table("data_export", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_export_user_id"))
        batch_op.drop_index(batch_op.f("ix_data_export_expires_at"))
    op.drop_table("data_export")
