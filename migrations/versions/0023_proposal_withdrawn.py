"""The admin log names a match proposal the admin withdrew

Revision ID: 0023_proposal_withdrawn
Revises: 0022_pair_changes
Create Date: 2026-12-01 16:10:00.000000

"""

import sqlalchemy as sa
from alembic import op
from enum_checks import change_enum

revision = "0023_proposal_withdrawn"
down_revision = "0022_pair_changes"
branch_labels = None
depends_on = None

ACTIONS = (
    "program-created",
    "settings-changed",
    "participant-added",
    "participants-imported",
    "participant-removed",
    "pair-made",
    "pair-undone",
    "pairs-proposed",
    "program-ended",
    "csv-exported",
    "help-read",
    "help-answered",
    "admin-added",
    "admin-removed",
)
NEW_ACTIONS = (*ACTIONS, "proposal-withdrawn")


def upgrade():
    change_enum("audit_event", "action", "audit_action", ACTIONS, NEW_ACTIONS)


def downgrade():
    # Events only the new value can describe go first: that action didn't exist.
    op.execute(sa.text("DELETE FROM audit_event WHERE action = 'proposal-withdrawn'"))
    change_enum("audit_event", "action", "audit_action", NEW_ACTIONS, ACTIONS)
