"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum
from sqlalchemy.types import TypeDecorator


def enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    """Store an enum's values ("mentor"), not its member names ("MENTOR")."""
    return [member.value for member in enum_cls]


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members carry the words a page shows for them: ``DONE = "done", "Done"``
    stores "done" and reads ``GoalStatus.DONE.label``."""

    label: str

    def __new__(cls, value: str, label: str) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Each member's label by member (a stored value looks up the same), for templates."""
        return {member: member.label for member in cls}


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """A column type storing ``enum_cls`` by its values, checked by a named constraint (portable
    across SQLite and PostgreSQL, and renaming a member's Python name never touches stored rows)."""
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=True, values_callable=enum_values)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime: the only kind of timestamp Twoway stores."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp on every database.

    PostgreSQL keeps the zone; SQLite drops it and hands back naive values. Normalising both ways
    means Python code can always compare timestamps without caring which database is underneath.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Twoway stores aware datetimes only; use app.models.types.utcnow().")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
