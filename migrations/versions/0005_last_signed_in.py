"""Remember when each person last signed in

Revision ID: 0005_last_signed_in
Revises: 0004_feedback_admin
Create Date: 2026-11-22 12:30:09.196492

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005_last_signed_in"
down_revision = "0004_feedback_admin"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_signed_in_at", sa.DateTime(timezone=True), nullable=True))

    # Whoever has a passkey or has used a link or recovery code has signed in before.
    op.execute(
        sa.text(
            'UPDATE "user" SET last_signed_in_at = created_at'
            " WHERE id IN (SELECT user_id FROM passkey)"
            " OR id IN (SELECT user_id FROM sign_in_link WHERE used_at IS NOT NULL)"
            " OR id IN (SELECT user_id FROM recovery_code WHERE used_at IS NOT NULL)"
        )
    )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("last_signed_in_at")
