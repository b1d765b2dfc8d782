"""Count sign-in mail requests per address in the database

Revision ID: 0007_sign_in_attempts
Revises: 0006_joining
Create Date: 2026-12-01 10:15:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_sign_in_attempts"
down_revision = "0006_joining"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempt")),
    )
    op.create_index(
        "ix_sign_in_attempt_address_key_created_at", "sign_in_attempt", ["address_key", "created_at"], unique=False
    )
    op.create_index(op.f("ix_sign_in_attempt_created_at"), "sign_in_attempt", ["created_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_sign_in_attempt_created_at"), table_name="sign_in_attempt")
    op.drop_index("ix_sign_in_attempt_address_key_created_at", table_name="sign_in_attempt")
    op.drop_table("sign_in_attempt")
