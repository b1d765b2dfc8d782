"""Participants, feedback prompts and answers, help requests, program feedback cadences

Revision ID: 0004_feedback_admin
Revises: 0003_journal
Create Date: 2026-11-22 12:11:25.302825

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_feedback_admin"
down_revision = "0003_journal"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=False),
        sa.Column("level", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_participant_program_id_program"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_participant_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
        sa.UniqueConstraint("program_id", "user_id", name=op.f("uq_participant_program_id_user_id")),
    )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_participant_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_participant_user_id"), ["user_id"], unique=False)

    op.create_table(
        "prompt_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_prompt_set_program_id_program"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_set")),
    )
    with op.batch_alter_table("prompt_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_set_program_id"), ["program_id"], unique=False)

    op.create_table(
        "feedback_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("round_key", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_feedback_submission_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_feedback_submission_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_submission")),
        sa.UniqueConstraint(
            "pair_id", "round_key", "user_id", name=op.f("uq_feedback_submission_pair_id_round_key_user_id")
        ),
    )
    with op.batch_alter_table("feedback_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_submission_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "help_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("partner_told", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_help_request_pair_id_pair"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_help_request_program_id_program"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["user.id"], name=op.f("fk_help_request_sender_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_request")),
    )
    with op.batch_alter_table("help_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_request_program_id"), ["program_id"], unique=False)

    op.create_table(
        "prompt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prompt_set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("scale", "yes-no", "text", name="prompt_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("about_rhythm", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prompt_set_id"], ["prompt_set.id"], name=op.f("fk_prompt_prompt_set_id_prompt_set"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt")),
    )
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompt_prompt_set_id"), ["prompt_set_id"], unique=False)

    op.create_table(
        "feedback_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("round_key", sa.String(length=40), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("yes", sa.Boolean(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_feedback_answer_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompt.id"], name=op.f("fk_feedback_answer_prompt_id_prompt"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_feedback_answer_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_answer")),
        sa.UniqueConstraint(
            "pair_id",
            "round_key",
            "prompt_id",
            "user_id",
            name=op.f("uq_feedback_answer_pair_id_round_key_prompt_id_user_id"),
        ),
    )
    with op.batch_alter_table("feedback_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_answer_pair_id"), ["pair_id"], unique=False)
        batch_op.create_index("ix_feedback_answer_prompt_id_created_at", ["prompt_id", "created_at"], unique=False)

    # Programs that exist already get the default cadences.
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_after_meeting", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("feedback_every_weeks", sa.Integer(), nullable=False, server_default="4"))
        batch_op.add_column(sa.Column("feedback_at_midpoint", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("feedback_at_end", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column("prompt_set_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_program_prompt_set_id_prompt_set",
            "prompt_set",
            ["prompt_set_id"],
            ["id"],
            ondelete="SET NULL",
            use_alter=True,
        )


def downgrade():
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_constraint("fk_program_prompt_set_id_prompt_set", type_="foreignkey")
        batch_op.drop_column("prompt_set_id")
        batch_op.drop_column("feedback_at_end")
        batch_op.drop_column("feedback_at_midpoint")
        batch_op.drop_column("feedback_every_weeks")
        batch_op.drop_column("feedback_after_meeting")

    with op.batch_alter_table("feedback_answer", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_answer_prompt_id_created_at")
        batch_op.drop_index(batch_op.f("ix_feedback_answer_pair_id"))

    op.drop_table("feedback_answer")
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_prompt_set_id"))

    op.drop_table("prompt")
    with op.batch_alter_table("help_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_help_request_program_id"))

    op.drop_table("help_request")
    with op.batch_alter_table("feedback_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_submission_pair_id"))

    op.drop_table("feedback_submission")
    with op.batch_alter_table("prompt_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prompt_set_program_id"))

    op.drop_table("prompt_set")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_user_id"))
        batch_op.drop_index(batch_op.f("ix_participant_program_id"))

    op.drop_table("participant")
