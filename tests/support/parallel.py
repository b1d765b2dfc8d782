"""Requests sent at the same moment, for tests of races (double taps, two tabs, retries)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


def at_once(send: Callable[..., Any], calls: Iterable[tuple]) -> list[Any]:
    """Call ``send(*args)`` for each ``args`` in ``calls``, each in its own thread, all released
    together by a barrier; return what each returned, or the exception it raised, in order."""
    calls = list(calls)
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, args: tuple) -> None:
        start.wait()
        try:
            results[index] = send(*args)
        except Exception as error:  # noqa: BLE001 - a failed request is a result to assert on
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, args)) for i, args in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
