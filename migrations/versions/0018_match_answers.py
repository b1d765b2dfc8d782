"""Matching: proposals sent to both people, their answers, and the match kind of message

Revision ID: 0018_match_answers
Revises: 0017_program_admins
Create Date: 2026-12-01 15:25:50.870184

"""

import sqlalchemy as sa
from alembic import op
from enum_checks import change_enum

revision = "0018_match_answers"
down_revision = "0017_program_admins"
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
)
STATES = ("proposed", "locked", "rejected")
NEW_KINDS = (*KINDS, "match")
NEW_STATES = (*STATES, "sent", "going-ahead", "not-going-ahead")


def upgrade():
    change_enum("delivery", "kind", "delivery_kind", KINDS, NEW_KINDS)
    change_enum("notification_preference", "kind", "preference_kind", KINDS, NEW_KINDS)
    change_enum("match_proposal", "state", "proposal_state", STATES, NEW_STATES)
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("mentor_yes", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("mentee_yes", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pair_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_match_proposal_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_proposal_sent_at"), ["sent_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_match_proposal_pair_id_pair"), "pair", ["pair_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.alter_column("mentor_yes", server_default=None)
        batch_op.alter_column("mentee_yes", server_default=None)


def downgrade():
    # Rows that only the new values can describe go first: their kinds and states didn't exist.
    op.execute(sa.text("DELETE FROM delivery WHERE kind = 'match'"))
    op.execute(sa.text("DELETE FROM notification_preference WHERE kind = 'match'"))
    op.execute(sa.text("DELETE FROM match_proposal WHERE state NOT IN ('proposed', 'locked', 'rejected')"))
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_match_proposal_pair_id_pair"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_match_proposal_sent_at"))
        batch_op.drop_index(batch_op.f("ix_match_proposal_closed_at"))
        batch_op.drop_column("pair_id")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("mentee_yes")
        batch_op.drop_column("mentor_yes")
        batch_op.drop_column("sent_at")
    change_enum("match_proposal", "state", "proposal_state", NEW_STATES, STATES)
    change_enum("notification_preference", "kind", "preference_kind", NEW_KINDS, KINDS)
    change_enum("delivery", "kind", "delivery_kind", NEW_KINDS, KINDS)
