"""The admin log names a match proposal the admin withdrew

Revision ID: 0023_proposal_withdrawn
Revises: 0022_pair_changes
Create Date: 2026-12-01 16:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

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


def _enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="audit_action", native_enum=False, create_constraint=True)


def _change(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    # Alembic drops the old type's CHECK constraint and adds the new one (SQLite: by recreating
    # the table).
    with op.batch_alter_table("audit_event", schema=None, recreate="auto") as batch_op:
        batch_op.alter_column("action", existing_type=_enum(old), type_=_enum(new), existing_nullable=False)


def upgrade():
    _change(ACTIONS, NEW_ACTIONS)


def downgrade():
    # Events only the new value can describe go first: that action didn't exist.
    op.execute(sa.text("DELETE FROM audit_event WHERE action = 'proposal-withdrawn'"))
    _change(NEW_ACTIONS, ACTIONS)
