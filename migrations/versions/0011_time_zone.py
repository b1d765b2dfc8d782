"""Each person's time zone

Revision ID: 0011_time_zone
Revises: 0010_history
Create Date: 2026-12-01 10:14:40.088164

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_time_zone"
down_revision = "0010_history"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))

    # Whoever planned a meeting already told us their clock: start from the zone of their latest plan.
    op.execute(
        sa.text(
            'UPDATE "user" SET time_zone = (SELECT next_meeting.timezone FROM next_meeting'
            " WHERE next_meeting.updated_by_id = \"user\".id AND next_meeting.timezone <> 'UTC'"
            " ORDER BY next_meeting.updated_at DESC LIMIT 1)"
        )
    )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
