"""Sign-in never depends on the rate limiter's Redis: when it is unreachable, or accepts
connections and never answers, every sign-in path still answers, and soon."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from factories import UserFactory
from support.limits import build_limited_app

from app.auth import links, recovery
from app.extensions import db

# The sign-in tests wait this long for Redis, where production waits 0.5 s (app.config): the
# bound comes from the same settings, each wait is only shorter.
TIMEOUT_SECONDS = 0.1
# Generous: a stuck Redis costs one timeout, then memory is used; ten of them would not fit.
ANSWER_WITHIN_SECONDS = 10 * TIMEOUT_SECONDS


@pytest.fixture
def closed_port_redis() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there any more


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A server that accepts every connection and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(timeout=1)
        for connection in held:
            connection.close()
        server.close()


def sign_in_everywhere(app, session) -> dict[str, int]:
    """Each sign-in path once: ask for a mail, "Continue as", a recovery code, passkey options."""
    person = UserFactory(name="Noor Haddad", email="noor@example.org")
    session.flush()
    with app.app_context():
        link_path = links.issue(person).removeprefix("http://localhost:5000")
        code = recovery.generate(person)[0]
        db.session.commit()
    client = app.test_client()
    statuses = {
        "email link": client.post("/auth/sign-in/link", data={"email": person.email}).status_code,
        "continue as": client.post(link_path).status_code,
        "recovery code": app.test_client().post("/auth/recovery", data={"code": code}).status_code,
    }
    options = app.test_client().post("/auth/passkey/options", headers={"Accept": "application/json"})
    statuses["passkey options"] = options.status_code
    assert "challenge" in options.get_json()
    return statuses


@pytest.mark.parametrize("fault", ["closed_port_redis", "silent_redis"])
def test_sign_in_works_while_redis_is_down_or_stuck(request, fault, connection, session, caplog):
    with build_limited_app(connection, request.getfixturevalue(fault), timeout_seconds=TIMEOUT_SECONDS) as app:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="flask-limiter"):
            statuses = sign_in_everywhere(app, session)
        elapsed = time.monotonic() - started
    assert statuses == {"email link": 303, "continue as": 303, "recovery code": 303, "passkey options": 200}
    assert elapsed < ANSWER_WITHIN_SECONDS
    assert "falling back to in-memory storage" in caplog.text


def test_while_redis_is_down_the_limits_still_count_in_memory(closed_port_redis, connection):
    with build_limited_app(connection, closed_port_redis) as app:
        client = app.test_client()
        statuses = [client.post("/auth/passkey/options").status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]
