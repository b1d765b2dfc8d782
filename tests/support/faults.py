"""A request's connection lost between two of its statements, for tests of what it keeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, event


class Lost(Exception):
    """The connection lost between two statements of a request (a crash, a killed backend)."""


@contextmanager
def lost_at(connection: Connection, statement_start: str) -> Iterator[None]:
    """The block's request loses its connection as it sends the statement that starts with
    ``statement_start`` (``"INSERT INTO audit_event"``); the block must end in that loss."""

    def lose(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().startswith(statement_start):
            raise Lost

    event.listen(connection, "before_cursor_execute", lose)
    try:
        with pytest.raises(Lost):
            yield
    finally:
        event.remove(connection, "before_cursor_execute", lose)
