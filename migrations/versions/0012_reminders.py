"""Reminders: deliveries claimed under a unique key, preferences, push subscriptions, help answers, quiet hours

Revision ID: 0012_reminders
Revises: 0011_time_zone
Create Date: 2026-12-01 12:30:15.229353

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_reminders"
down_revision = "0011_time_zone"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_run",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("covered_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reminder_run")),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
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
                name="delivery_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("useful_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "held",
                "queued",
                "sending",
                "sent",
                "failed",
                "dropped",
                name="delivery_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum("email", "push", "off", name="delivery_channel", native_enum=False, create_constraint=True),
            nullable=True,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_delivery_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("user_id", "kind", "subject", "due_at", name="uq_delivery_key"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_state_queued_at", ["state", "queued_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_user_id"), ["user_id"], unique=False)

    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
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
                name="preference_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum("email", "push", "off", name="preference_channel", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_notification_preference_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("endpoint_hash", sa.String(length=64), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=60), nullable=False),
        sa.Column("device", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_push_subscription_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscription")),
        sa.UniqueConstraint("endpoint_hash", name=op.f("uq_push_subscription_endpoint_hash")),
    )
    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_push_subscription_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("help_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("answered_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_help_request_answered_by_id_user"), "user", ["answered_by_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_from", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("quiet_until", sa.Time(), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("quiet_until")
        batch_op.drop_column("quiet_from")

    with op.batch_alter_table("help_request", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_help_request_answered_by_id_user"), type_="foreignkey")
        batch_op.drop_column("answered_by_id")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("answer")

    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscription_user_id"))

    op.drop_table("push_subscription")
    op.drop_table("notification_preference")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_user_id"))
        batch_op.drop_index("ix_delivery_state_queued_at")

    op.drop_table("delivery")
    op.drop_table("reminder_run")
