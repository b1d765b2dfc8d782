"""`make run PORT=…` serves on that port, and the links it prints point there."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Stands in for the first `flask` step: shows the environment it got, then stops `make`.
SHOW_ENV = 'sh -c "echo BASE_URL=$$BASE_URL FLASK_DEBUG=$$FLASK_DEBUG; exit 3" --'

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def run_target(*args: str, env: dict[str, str] | None = None) -> str:
    # -o: treat the installed virtualenv and the static build as up to date, so nothing is
    # installed or built here (the suite built the static files once; building them again would
    # import the app for over a second of CPU, twice, for a test about the environment).
    command = ["make", "-s", "-o", ".venv/.installed", "-o", "static", "run", f"FLASK={SHOW_ENV}", *args]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, env=env)
    return result.stdout


def test_make_run_on_another_port_prints_links_for_that_port():
    assert "BASE_URL=http://localhost:5310 FLASK_DEBUG=1" in run_target("PORT=5310", env={"PATH": "/usr/bin:/bin"})


def test_make_run_keeps_a_base_url_someone_set():
    env = {"PATH": "/usr/bin:/bin", "BASE_URL": "http://twoway.test:8080"}
    assert "BASE_URL=http://twoway.test:8080" in run_target("PORT=5310", env=env)
