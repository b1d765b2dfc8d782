"""Optimistic locking for everything two people edit: one conditional UPDATE and one conflict type.

Each shared row carries ``version``. A save names the version the editor started from; the
UPDATE matches only while the row is still at that version, so the check and the write are one
step: of two people saving over the same version, exactly one wins and the other gets
``Conflict`` with the row as it now is (the view then shows both texts and keeps the loser's).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db

T = TypeVar("T")


class Conflict(Exception, Generic[T]):
    """Someone saved ``current`` after the version the editor started from. ``lost`` is the
    stored copy of the editor's text, for the features that keep one."""

    def __init__(self, current: T, lost: Any = None) -> None:
        super().__init__(current)
        self.current = current
        self.lost = lost


def save_over(obj: T, base_version: int, changes: dict[str, Any], *, stamp: dict[str, Any] | None = None) -> bool:
    """Write ``changes`` to ``obj``'s row if it is still at ``base_version``, bumping the version.

    ``stamp`` (who and when) is written too but never makes a save count as a change. Returns
    False when ``changes`` are what is stored already (a double tap, or both typed the same words),
    whichever version they were typed over. Raises ``Conflict`` with ``obj`` refreshed when someone
    saved since. On success ``obj`` is kept in step without reading the row back.
    """
    if all(getattr(obj, key) == value for key, value in changes.items()):
        return False
    model = type(obj)
    written = {**changes, **(stamp or {})}
    match = [column == getattr(obj, column.key) for column in inspect(model).primary_key]
    saved = db.session.execute(
        update(model)
        .where(*match, model.version == base_version)  # type: ignore[attr-defined]
        .values(**written, version=base_version + 1)
        .execution_options(synchronize_session=False, changed_row=obj)  # counted by app/pairs/changes.py
    ).rowcount
    if saved != 1:
        db.session.refresh(obj)
        raise Conflict(obj)
    for key, value in {**written, "version": base_version + 1}.items():
        set_committed_value(obj, key, value)
    return True
