"""Real Celery worker and beat processes, started as the Procfile starts them, for the tests that
must kill one or watch beat drive the reminder pass."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Process:
    """A child process whose output is gathered line by line, so a test can wait for a line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self._popen = subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # A group of its own: a prefork worker is a parent and its child, and SIGKILL must take both.
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._popen.stdout is not None
        for line in self._popen.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self._popen.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; output:\n" + "\n".join(self.lines[-60:]))

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        """SIGKILL the whole group: no clean-up, no goodbye, as when a host dies."""
        try:
            os.killpg(self._popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._popen.wait(timeout=30)

    def stop(self) -> None:
        if self._popen.poll() is None:
            try:
                os.killpg(self._popen.pid, signal.SIGTERM)
                self._popen.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self._reader.join(timeout=5)


def environment(database_url: str, broker_url: str, queue: str, **extra: str) -> dict[str, str]:
    """The environment a deployed worker would get; FLASK_DEBUG so that, without MAIL_URL, mail is
    written to the log in full."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "BASE_URL": "http://localhost:5000",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_QUEUE": queue,
        "FLASK_DEBUG": "1",
        **extra,
    }


# The tests wait for what they check before they leave a ``worker`` or ``beat`` block, so the
# process is killed there rather than stopped: Celery's warm shutdown takes seconds, and no test
# is about it.


@contextmanager
def worker(env: dict[str, str]) -> Iterator[Process]:
    # As the Procfile starts it, but without "mingle": on Redis a starting worker spends a second
    # asking for neighbours to copy revoked task ids from; Twoway revokes nothing, and no test is
    # about that handshake.
    process = Process(
        [
            *(sys.executable, "-m", "celery", "-A", "wsgi:celery", "worker"),
            *("--concurrency", "1", "--loglevel", "INFO", "--without-mingle"),
        ],
        env,
    )
    try:
        process.wait_for("ready.")
        yield process
    finally:
        process.kill()


@contextmanager
def beat(env: dict[str, str], schedule: Path) -> Iterator[Process]:
    process = Process(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi:celery",
            "beat",
            "--schedule",
            str(schedule),
            "--loglevel",
            "INFO",
        ],
        env,
    )
    try:
        yield process
    finally:
        process.kill()
