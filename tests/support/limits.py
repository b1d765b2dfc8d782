"""Rate-limited test apps on the test's own connection, with the limiter's storage in memory or
in the real Redis (under a key prefix of this run's and this worker's own, so parallel workers and runs never meet)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import Connection

from app.config import REDIS_TIMEOUT_SECONDS, rate_limit_settings
from app.extensions import db, limiter
from support.apps import make_app, run_name

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_PREFIX = run_name("limits")
STORAGES = ["memory://", REDIS_URL]


def redis_reachable(url: str = REDIS_URL) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def require_storage(uri: str) -> None:
    """Redis tests are skipped on a machine without Redis, but never in CI (.ci/run sets CI)."""
    if uri.startswith("redis") and not redis_reachable(uri):
        message = f"no Redis at {uri} (set TEST_REDIS_URL)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def build_limited_app(
    connection: Connection, storage_uri: str = "memory://", timeout_seconds: float = REDIS_TIMEOUT_SECONDS, **config
) -> Iterator[Flask]:
    """An app with rate limits on, its limiter storage at ``storage_uri`` (each wait for Redis
    bounded by ``timeout_seconds``), whose requests run on the test's connection (inside the
    test's rolled-back transaction, on either database)."""
    # The Limiter is one object for the whole process and keeps its switch and its "storage is
    # dead, use memory" state on itself: put both back for the other apps of the run.
    was_enabled, was_dead = limiter.enabled, limiter._storage_dead
    settings = rate_limit_settings(storage_uri, timeout_seconds)
    if storage_uri.startswith("redis"):
        settings["RATELIMIT_STORAGE_OPTIONS"] = {**settings["RATELIMIT_STORAGE_OPTIONS"], "key_prefix": RUN_PREFIX}
    app = make_app(
        connection.engine.url.render_as_string(hide_password=False), RATELIMIT_ENABLED=True, **settings, **config
    )
    engines = db._app_engines[app]
    own_engine = engines[None]
    engines[None] = connection
    limiter._storage_dead = False
    _reset_storage()
    try:
        yield app
    finally:
        _reset_storage()
        engines[None] = own_engine
        own_engine.dispose()
        limiter.enabled, limiter._storage_dead = was_enabled, was_dead


def _reset_storage() -> None:
    try:
        limiter.reset()
    except Exception:  # noqa: BLE001 (a storage that is down on purpose has nothing to reset)
        pass
