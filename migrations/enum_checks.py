"""Mechanics that several revisions share, for the values a revision has frozen.

A revision keeps its own frozen copy of the values a column allowed then and allows now, and
passes them in; it never imports app code, so its history does not move with today's models.
Revisions already applied call what is here: change what an existing function does and history
changes with it. Add a new function instead.

0020_ending keeps its own way of rewriting its check constraints (a DROP and an ADD CONSTRAINT):
``change_enum`` would also send PostgreSQL an ALTER COLUMN ... TYPE that 0020 never sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def enum_type(values: tuple[str, ...], name: str) -> sa.Enum:
    """The non-native enum type a model declared for ``values``: a VARCHAR and a CHECK constraint
    named after ``name`` (``ck_<table>_<name>`` by the naming convention)."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def change_enum(table: str, column: str, name: str, old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """Let the not-null enum ``column`` of ``table`` allow ``new`` where it allowed ``old``.

    Alembic drops the old type's CHECK constraint and adds the new one: PostgreSQL in place,
    SQLite by recreating the table (its other constraints and indexes reflected and kept)."""
    with op.batch_alter_table(table, schema=None, recreate="auto") as batch_op:
        batch_op.alter_column(
            column, existing_type=enum_type(old, name), type_=enum_type(new, name), existing_nullable=False
        )
