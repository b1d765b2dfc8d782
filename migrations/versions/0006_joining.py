"""People join a program themselves; admin-made sign-in links stop working

Revision ID: 0006_joining
Revises: 0005_last_signed_in
Create Date: 2026-12-01 10:20:00

- ``program.join_token``: the random part of the program's public join page (``/join/<token>``),
  where a participant types their own address and is mailed a link. Existing programs get one each.
- ``user.first_signed_in_at``: when someone first signed in, which is what "joined" means on the
  admin's participants page. Filled from ``last_signed_in_at`` (0005 set that for everyone who had
  signed in before, with their account's creation time as the best date known).
- Admin-made sign-in links: ``sign_in_link`` never recorded who asked for a link, so an admin's
  link can't be told apart from one mailed to its owner. Every **unused** link is therefore
  **deleted** (used ones can sign nobody in and are left as they are); anyone who was waiting for
  a mailed link asks for a new one. And because a session started from an admin's link may be held
  by the admin, everyone who ever signed in with a link gets a new session generation: each of
  their sessions ends once, and they sign in again with their passkey or a link mailed to them.
"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_joining"
down_revision = "0005_last_signed_in"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_signed_in_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text('UPDATE "user" SET first_signed_in_at = last_signed_in_at'))

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("join_token", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    program = sa.table("program", sa.column("id", sa.Integer), sa.column("join_token", sa.String))
    for (program_id,) in connection.execute(sa.select(program.c.id)).all():
        connection.execute(
            program.update().where(program.c.id == program_id).values(join_token=secrets.token_urlsafe(12))
        )
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.alter_column("join_token", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_program_join_token"), ["join_token"])

    op.execute(
        sa.text(
            'UPDATE "user" SET session_generation = session_generation + 1'
            " WHERE id IN (SELECT user_id FROM sign_in_link WHERE used_at IS NOT NULL)"
        )
    )
    op.execute(sa.text("DELETE FROM sign_in_link WHERE used_at IS NULL"))


def downgrade():
    # Deleted links and ended sessions stay gone: there is nothing to give back.
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_program_join_token"), type_="unique")
        batch_op.drop_column("join_token")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("first_signed_in_at")
