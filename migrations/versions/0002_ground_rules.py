"""Ground rules: clauses, revisions, conflicts and sign-offs

Revision ID: 0002_ground_rules
Revises: 0001_foundation
Create Date: 2026-11-22 11:36:36.904828

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_ground_rules"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "agreement",
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_agreement_pair_id_pair"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pair_id", name=op.f("pk_agreement")),
    )
    op.create_table(
        "agreement_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["agreement.pair_id"],
            name=op.f("fk_agreement_signature_pair_id_agreement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_agreement_signature_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_signature")),
        sa.UniqueConstraint(
            "pair_id",
            "user_id",
            "agreement_version",
            name=op.f("uq_agreement_signature_pair_id_user_id_agreement_version"),
        ),
    )
    with op.batch_alter_table("agreement_signature", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_signature_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "clause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("text", "rhythm", "dates", name="clause_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("hint", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["agreement.pair_id"], name=op.f("fk_clause_pair_id_agreement"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_clause_updated_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clause")),
    )
    with op.batch_alter_table("clause", schema=None) as batch_op:
        batch_op.create_index("ix_clause_pair_id_position", ["pair_id", "position"], unique=False)

    op.create_table(
        "clause_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("based_on_version", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("text", "rhythm", "dates", name="clause_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_clause_conflict_author_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"], ["clause.id"], name=op.f("fk_clause_conflict_clause_id_clause"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["agreement.pair_id"], name=op.f("fk_clause_conflict_pair_id_agreement"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clause_conflict")),
    )
    with op.batch_alter_table("clause_conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clause_conflict_clause_id"), ["clause_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clause_conflict_pair_id"), ["pair_id"], unique=False)

    op.create_table(
        "clause_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("text", "rhythm", "dates", name="clause_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_clause_revision_author_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"], ["clause.id"], name=op.f("fk_clause_revision_clause_id_clause"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["agreement.pair_id"], name=op.f("fk_clause_revision_pair_id_agreement"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clause_revision")),
    )
    with op.batch_alter_table("clause_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clause_revision_clause_id"), ["clause_id"], unique=False)
        batch_op.create_index(
            "ix_clause_revision_pair_id_agreement_version", ["pair_id", "agreement_version"], unique=False
        )


def downgrade():
    with op.batch_alter_table("clause_revision", schema=None) as batch_op:
        batch_op.drop_index("ix_clause_revision_pair_id_agreement_version")
        batch_op.drop_index(batch_op.f("ix_clause_revision_clause_id"))

    op.drop_table("clause_revision")
    with op.batch_alter_table("clause_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clause_conflict_pair_id"))
        batch_op.drop_index(batch_op.f("ix_clause_conflict_clause_id"))

    op.drop_table("clause_conflict")
    with op.batch_alter_table("clause", schema=None) as batch_op:
        batch_op.drop_index("ix_clause_pair_id_position")

    op.drop_table("clause")
    with op.batch_alter_table("agreement_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_signature_pair_id"))

    op.drop_table("agreement_signature")
    op.drop_table("agreement")
