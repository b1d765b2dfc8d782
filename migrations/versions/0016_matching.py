"""Matching: intake settings and answers, proposals, runs

Revision ID: 0016_matching
Revises: 0012_reminders
Create Date: 2026-12-01 13:02:30.251908

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_matching"
down_revision = "0012_reminders"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "matching_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_score", sa.Float(), nullable=False),
        sa.Column("unmatched", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_matching_run_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_run")),
    )
    with op.batch_alter_table("matching_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matching_run_program_id"), ["program_id"], unique=False)

    op.create_table(
        "matching_settings",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("level_gap", sa.Integer(), nullable=False),
        sa.Column("higher_is_senior", sa.Boolean(), nullable=False),
        sa.Column("different_department", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("weight_skills", sa.Integer(), nullable=False),
        sa.Column("weight_interests", sa.Integer(), nullable=False),
        sa.Column("weight_time_zone", sa.Integer(), nullable=False),
        sa.Column("weight_rhythm", sa.Integer(), nullable=False),
        sa.CheckConstraint("capacity BETWEEN 1 AND 3", name=op.f("ck_matching_settings_capacity_range")),
        sa.CheckConstraint("level_gap BETWEEN 0 AND 10", name=op.f("ck_matching_settings_level_gap_range")),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_matching_settings_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_matching_settings")),
    )
    op.create_table(
        "intake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("mentor", "mentee", "either", name="intake_role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("teach", sa.JSON(), nullable=False),
        sa.Column("teach_other", sa.String(length=300), nullable=False),
        sa.Column("learn", sa.JSON(), nullable=False),
        sa.Column("learn_other", sa.String(length=300), nullable=False),
        sa.Column("interests", sa.String(length=300), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("languages", sa.String(length=200), nullable=False),
        sa.Column("rhythm", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("avoid", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_intake_participant_id_participant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake")),
        sa.UniqueConstraint("participant_id", name=op.f("uq_intake_participant_id")),
    )
    op.create_table(
        "match_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("proposed", "locked", "rejected", name="proposal_state", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mentee_id"], ["participant.id"], name=op.f("fk_match_proposal_mentee_id_participant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["participant.id"], name=op.f("fk_match_proposal_mentor_id_participant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_match_proposal_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_proposal")),
        sa.UniqueConstraint(
            "program_id", "mentor_id", "mentee_id", name=op.f("uq_match_proposal_program_id_mentor_id_mentee_id")
        ),
    )
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_proposal_mentee_id"), ["mentee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_proposal_mentor_id"), ["mentor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_proposal_program_id"), ["program_id"], unique=False)


def downgrade():
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_proposal_program_id"))
        batch_op.drop_index(batch_op.f("ix_match_proposal_mentor_id"))
        batch_op.drop_index(batch_op.f("ix_match_proposal_mentee_id"))

    op.drop_table("match_proposal")
    op.drop_table("intake")
    op.drop_table("matching_settings")
    with op.batch_alter_table("matching_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matching_run_program_id"))

    op.drop_table("matching_run")
