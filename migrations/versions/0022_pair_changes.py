"""Live pair pages: a count of the writes to each pair's shared content, and one per person for
what only they see

Revision ID: 0022_pair_changes
Revises: 0021_exports
Create Date: 2026-12-01 16:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0022_pair_changes"
down_revision = "0021_exports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_count", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("pair_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_count", sa.Integer(), server_default="0", nullable=False))


def downgrade():
    with op.batch_alter_table("pair_member", schema=None) as batch_op:
        batch_op.drop_column("change_count")
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_column("change_count")
