"""Dashboard snapshots and the privacy budget they are spent from

Revision ID: 0019_snapshots
Revises: 0018_match_answers
Create Date: 2026-12-01 15:26:01.012594

"""

import sqlalchemy as sa
from alembic import op

revision = "0019_snapshots"
down_revision = "0018_match_answers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "privacy_budget_year",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("spent", sa.Float(), nullable=False),
        sa.CheckConstraint("spent >= 0", name=op.f("ck_privacy_budget_year_spent_not_negative")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_privacy_budget_year_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", "year", name=op.f("pk_privacy_budget_year")),
    )
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("weekly", "monthly", name="snapshot_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.CheckConstraint("epsilon >= 0", name=op.f("ck_snapshot_epsilon_not_negative")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_snapshot_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot")),
        sa.UniqueConstraint("program_id", "kind", "period", name=op.f("uq_snapshot_program_id_kind_period")),
    )
    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshot_program_id"), ["program_id"], unique=False)

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epsilon_per_release", sa.Float(), nullable=False, server_default="1.0"))
        batch_op.add_column(sa.Column("epsilon_per_year", sa.Float(), nullable=False, server_default="64.0"))
        batch_op.create_check_constraint(
            "privacy_budget", "epsilon_per_release > 0 AND epsilon_per_year >= epsilon_per_release"
        )


def downgrade():
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_program_privacy_budget"), type_="check")
        batch_op.drop_column("epsilon_per_year")
        batch_op.drop_column("epsilon_per_release")

    with op.batch_alter_table("snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshot_program_id"))

    op.drop_table("snapshot")
    op.drop_table("privacy_budget_year")
