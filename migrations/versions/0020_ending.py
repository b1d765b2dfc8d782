"""Ending well: closing pairs and why, closing reflections, retention and what it leaves

Revision ID: 0020_ending
Revises: 0019_snapshots
Create Date: 2026-12-01 15:36:22.152670

"""

import sqlalchemy as sa
from alembic import op

KINDS = [
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
]
NEW_KINDS = ["pair-ending-soon", "pair-closed"]
# The kind columns' check constraints, as 0012_reminders named them (Enum name + naming convention).
KIND_CHECKS = {"delivery": "delivery_kind", "notification_preference": "preference_kind"}


def _kinds_allowed(kinds: list[str]) -> None:
    """Replace the check constraint on both kind columns so that it allows ``kinds``: on
    PostgreSQL a DROP and an ADD CONSTRAINT; SQLite can't alter a constraint in place, so there
    the batch copies the table (its other constraints and indexes reflected and kept)."""
    allowed = ", ".join(f"'{kind}'" for kind in kinds)
    for table, name in KIND_CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_{name}"), type_="check")
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_{name}"), sa.text(f"kind IN ({allowed})"))


# revision identifiers, used by Alembic.
revision = "0020_ending"
down_revision = "0019_snapshots"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "closing_reason",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_closing_reason_author_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_closing_reason_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pair_id", name=op.f("pk_closing_reason")),
    )
    with op.batch_alter_table("closing_reason", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closing_reason_author_id"), ["author_id"], unique=False)

    op.create_table(
        "closing_reflection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("learned", sa.Text(), nullable=False),
        sa.Column("taught", sa.Text(), nullable=False),
        sa.Column("keep_doing", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_closing_reflection_author_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_closing_reflection_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closing_reflection")),
        sa.UniqueConstraint("pair_id", "author_id", name=op.f("uq_closing_reflection_pair_id_author_id")),
    )
    with op.batch_alter_table("closing_reflection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closing_reflection_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_closing_reflection_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "pair_tally",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("meeting_minutes", sa.Integer(), nullable=False),
        sa.Column("goals", sa.Integer(), nullable=False),
        sa.Column("goals_done", sa.Integer(), nullable=False),
        sa.Column("topics_covered", sa.Integer(), nullable=False),
        sa.Column("action_items", sa.Integer(), nullable=False),
        sa.Column("check_ins", sa.Integer(), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_pair_tally_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pair_id", name=op.f("pk_pair_tally")),
    )
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "ended_how",
                sa.Enum(
                    "early",
                    "agreed-end",
                    "program-end",
                    "program-ended",
                    "left",
                    name="pair_ending",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("ended_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_pair_ended_by_id_user"), "user", ["ended_by_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention_months", sa.Integer(), server_default="12", nullable=False))
        batch_op.add_column(sa.Column("content_deleted_at", sa.DateTime(timezone=True), nullable=True))

    _kinds_allowed(KINDS + NEW_KINDS)


def downgrade():
    op.execute(sa.text("DELETE FROM delivery WHERE kind IN ('pair-ending-soon', 'pair-closed')"))
    op.execute(sa.text("DELETE FROM notification_preference WHERE kind IN ('pair-ending-soon', 'pair-closed')"))
    _kinds_allowed(KINDS)
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("content_deleted_at")
        batch_op.drop_column("retention_months")

    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_pair_ended_by_id_user"), type_="foreignkey")
        batch_op.drop_column("ended_by_id")
        batch_op.drop_constraint(batch_op.f("ck_pair_pair_ending"), type_="check")
        batch_op.drop_column("ended_how")
        batch_op.drop_column("ended_at")

    op.drop_table("pair_tally")
    with op.batch_alter_table("closing_reflection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closing_reflection_pair_id"))
        batch_op.drop_index(batch_op.f("ix_closing_reflection_author_id"))

    op.drop_table("closing_reflection")
    with op.batch_alter_table("closing_reason", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closing_reason_author_id"))

    op.drop_table("closing_reason")
