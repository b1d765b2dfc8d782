"""Goals, agenda topics, meetings with action items and private reflections, next meeting, calendar feeds

Revision ID: 0003_journal
Revises: 0002_ground_rules
Create Date: 2026-11-22 11:55:06.617983

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_journal"
down_revision = "0002_ground_rules"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_calendar_feed_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_calendar_feed_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    with op.batch_alter_table("calendar_feed", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calendar_feed_pair_id"), ["pair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calendar_feed_user_id"), ["user_id"], unique=False)

    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column(
            "learner",
            sa.Enum("mentor", "mentee", name="goal_learner", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("success", sa.Text(), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "not-started",
                "in-progress",
                "done",
                "dropped",
                name="goal_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_goal_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_goal_pair_id_pair"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_goal_updated_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal")),
    )
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.create_index("ix_goal_pair_id_status", ["pair_id", "status"], unique=False)

    op.create_table(
        "meeting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "format",
            sa.Enum(
                "in-person", "video", "call", "chat", name="meeting_format", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_meeting_author_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_meeting_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index("ix_meeting_pair_id_held_on", ["pair_id", "held_on"], unique=False)

    op.create_table(
        "next_meeting",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "in-person",
                "video",
                "call",
                "chat",
                name="next_meeting_format",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_next_meeting_pair_id_pair"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_next_meeting_updated_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("pair_id", name=op.f("pk_next_meeting")),
    )
    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goal.id"], name=op.f("fk_action_item_goal_id_goal"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_action_item_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_action_item_owner_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_action_item_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
    )
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_item_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index("ix_action_item_pair_id_done", ["pair_id", "done"], unique=False)

    op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["goal_id"], ["goal.id"], name=op.f("fk_milestone_goal_id_goal"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_milestone_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone")),
    )
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestone_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "reflection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_reflection_author_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_reflection_meeting_id_meeting"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_reflection_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection")),
        sa.UniqueConstraint("meeting_id", "author_id", name=op.f("uq_reflection_meeting_id_author_id")),
    )
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reflection_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "added_by_role",
            sa.Enum("mentor", "mentee", name="topic_added_by_role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["user.id"], name=op.f("fk_topic_added_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meeting.id"], name=op.f("fk_topic_meeting_id_meeting"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_topic_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic")),
    )
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.create_index("ix_topic_pair_id_meeting_id", ["pair_id", "meeting_id"], unique=False)


def downgrade():
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.drop_index("ix_topic_pair_id_meeting_id")

    op.drop_table("topic")
    with op.batch_alter_table("reflection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reflection_pair_id"))

    op.drop_table("reflection")
    with op.batch_alter_table("milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_pair_id"))
        batch_op.drop_index(batch_op.f("ix_milestone_goal_id"))

    op.drop_table("milestone")
    with op.batch_alter_table("action_item", schema=None) as batch_op:
        batch_op.drop_index("ix_action_item_pair_id_done")
        batch_op.drop_index(batch_op.f("ix_action_item_meeting_id"))

    op.drop_table("action_item")
    op.drop_table("next_meeting")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_pair_id_held_on")

    op.drop_table("meeting")
    with op.batch_alter_table("goal", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_pair_id_status")

    op.drop_table("goal")
    with op.batch_alter_table("calendar_feed", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendar_feed_user_id"))
        batch_op.drop_index(batch_op.f("ix_calendar_feed_pair_id"))

    op.drop_table("calendar_feed")
