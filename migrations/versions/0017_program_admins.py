"""Program admins and the audit log: admins administer their own programs, owners all of them

Revision ID: 0017_program_admins
Revises: 0016_matching
Create Date: 2026-12-01 15:39:14.688102

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_program_admins"
down_revision = "0016_matching"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "action",
            sa.Enum(
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
                name="audit_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_audit_event_actor_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_audit_event_program_id_program"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["user.id"], name=op.f("fk_audit_event_subject_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_program_id_id", ["program_id", "id"], unique=False)
        batch_op.create_index("ix_audit_event_subject_id", ["subject_id"], unique=False)

    op.create_table(
        "program_admin",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["user.id"], name=op.f("fk_program_admin_added_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_program_admin_program_id_program"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_program_admin_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("program_id", "user_id", name=op.f("pk_program_admin")),
    )
    with op.batch_alter_table("program_admin", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_program_admin_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_owner", sa.Boolean(), server_default=sa.false(), nullable=False))

    # Until now every admin administered every program: they become owners, so nobody loses a
    # program they ran. Owners then name each program's admins and may step down.
    op.execute(sa.text('UPDATE "user" SET is_owner = is_admin'))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("is_owner")

    with op.batch_alter_table("program_admin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_admin_user_id"))

    op.drop_table("program_admin")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_subject_id")
        batch_op.drop_index("ix_audit_event_program_id_id")

    op.drop_table("audit_event")
