"""How fast Twoway's signed-in pages serve, side by side with a bare Flask "hello".

    python bench/throughput.py [--seconds 5] [--databases sqlite postgresql] [--postgres URL]

For each database it seeds the demo (``flask --app wsgi demo``) into a database of its own
(PostgreSQL: one it creates on ``--postgres`` and drops at the end), serves it with gunicorn
``-w 2`` as a deployment would (no debug), and serves this module's ``hello`` app with the same
settings. A demo person signs in with a one-time link the demo printed (made by the app's own
code), following it with a cookie jar, and wrk (4 connections, ``--latency``) then asks each page
for ``--seconds`` with that session's cookie (``bench/wrk_session.lua``). Printed: requests/s,
p50, p99, and the ratio to hello measured in the same run, against the goals of issue 15: pages
and fragments at ≥ 0.25× hello, the live probe at ≥ 0.5×, p99 under 25 ms.

Needs wrk (``apt-get install -y wrk``). CI doesn't run this: speed goals live here, never in
timed tests.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).with_name("wrk_session.lua")
PAGE_GOAL, PROBE_GOAL, P99_GOAL_MS = 0.25, 0.5, 25.0

hello = Flask("hello")


@hello.get("/")
def say_hello() -> str:
    return "hello"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    status: int = 200
    hx_target: str = ""
    goal: float = PAGE_GOAL


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The server stopped at start:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answers: a 404 or 302 is an answer
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def gunicorn(app: str, env: dict[str, str], port: int, log: Path, chdir: Path = ROOT):
    command = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def postgres_database(server: str):
    """A database of its own on ``server``, dropped afterwards."""
    import psycopg

    name = f"twoway_throughput_{os.getpid()}"
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://{plain.removeprefix('postgresql://')}/{name}"
    finally:
        with psycopg.connect(f"{plain}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_environment(database_url: str, port: int, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "DATABASE_", "CELERY_", "MAIL_"))}
    return env | {
        "SECRET_KEY": "throughput-bench-secret",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        # Mail the demo may queue waits here, not in the checkout's instance/.
        "CELERY_BROKER_URL": f"sqla+sqlite:///{scratch}/broker.sqlite3",
    }


def seed(env: dict[str, str]) -> dict:
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    made = subprocess.run([*flask, "demo", "--json"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(made.stdout)


# wrk sends the same User-Agent as the browser that signed in: Flask-Login's session protection
# marks a session whose address or browser changed as no longer fresh, and writing that into the
# cookie again on every request would be a cost no real browser makes the app pay.
USER_AGENT = "twoway-throughput"


def sign_in(login_url: str) -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
    """Follow the one-time link as a browser does (open it, press "Continue as …"); return an
    opener that carries the session, and its cookie jar."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(login_url).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token is None:
        sys.exit(f"No sign-in form at {login_url}")
    opener.open(login_url, urllib.parse.urlencode({"csrf_token": token.group(1)}).encode()).read()
    if not cookie_header(jar):
        sys.exit("Signing in set no cookie")
    return opener, jar


def cookie_header(jar: http.cookiejar.CookieJar) -> str:
    # Read once the pages were opened: the session then holds its CSRF secret, as a browser's does
    # after its first page (otherwise every measured page would start one and set the cookie again).
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def targets(opener: urllib.request.OpenerDirector, base: str, pair_url: str) -> list[Target]:
    """What is measured, with the ids and versions read from the pages themselves."""
    home = opener.open(base + pair_url).read().decode()
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', home).group(1)
    rules = opener.open(f"{base}{pair_url}/ground-rules").read().decode()
    version = re.search(r'data-version="(\d*)"', rules)
    goals = opener.open(f"{base}{pair_url}/goals").read().decode()
    goal = re.search(r'<article id="goal-(\d+)"', goals).group(1)
    seen = re.search(r'data-changes="(\d+)"', home)
    return [
        Target("pair home", pair_url),
        Target("ground rules", f"{pair_url}/ground-rules"),
        Target("goals", f"{pair_url}/goals"),
        Target("journal", f"{pair_url}/journal"),
        Target("search", f"{pair_url}/journal/search?q=plan"),
        Target("htmx fragment (one goal)", f"{pair_url}/goals/{goal}", hx_target=f"goal-{goal}"),
        Target(
            "ground-rules probe (204)",
            f"{pair_url}/ground-rules/changes?since={version.group(1) if version else 0}",
            status=204,
            goal=PROBE_GOAL,
        ),
        Target(
            "live probe (204)",
            f"{pair_url}/changes?since={seen.group(1) if seen else 0}",
            status=204,
            goal=PROBE_GOAL,
        ),
        Target("static file", stylesheet),
    ]


def check(opener: urllib.request.OpenerDirector, base: str, target: Target) -> None:
    request = urllib.request.Request(base + target.path)
    if target.hx_target:
        request.add_header("HX-Request", "true")
        request.add_header("HX-Target", target.hx_target)
    with opener.open(request) as response:
        if response.status != target.status or urllib.parse.urlsplit(response.url).path != target.path.split("?")[0]:
            sys.exit(f"{target.name}: {response.status} at {response.url}, expected {target.status}")


_TIME = re.compile(r"([\d.]+)(us|ms|s|m)\b")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = _TIME.match(text.strip()).groups()
    return float(number) * _UNIT_MS[unit]


def wrk(url: str, seconds: int, connections: int, cookie: str = "", hx_target: str = "") -> Result:
    env = os.environ | {"TWOWAY_COOKIE": cookie, "TWOWAY_HX_TARGET": hx_target, "TWOWAY_USER_AGENT": USER_AGENT}
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(LUA), url]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Result(rps, p50, p99, int(bad.group(1)) if bad else 0)


def measure(
    database: str, database_url: str, args: argparse.Namespace, scratch: Path
) -> list[tuple[str, Result, Target | None]]:
    port, hello_port = free_port(), free_port()
    env = app_environment(database_url, port, scratch)
    report = seed(env)
    pair = report["pairs"][0]
    rows = []
    hello_env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    with (
        gunicorn("wsgi:app", env, port, scratch / f"{database}-app.log") as base,
        gunicorn("throughput:hello", hello_env, hello_port, scratch / "hello.log", chdir=ROOT / "bench") as hello_base,
    ):
        opener, jar = sign_in(pair["mentee"]["login_url"])
        measured = targets(opener, base, pair["url"])
        for target in measured:
            check(opener, base, target)
        cookie = cookie_header(jar)
        wrk(hello_base + "/", args.warmup, args.connections)
        baseline = wrk(hello_base + "/", args.seconds, args.connections)
        rows.append(("bare Flask hello", baseline, None))
        for target in measured:
            url = base + target.path
            wrk(url, args.warmup, args.connections, cookie, target.hx_target)
            result = wrk(url, args.seconds, args.connections, cookie, target.hx_target)
            if result.bad:
                sys.exit(f"{target.name}: {result.bad} answers were not 2xx or 3xx")
            rows.append((target.name, result, target))
    return rows


def table(database: str, rows: list[tuple[str, Result, Target | None]]) -> str:
    hello_rps = rows[0][1].rps
    lines = [
        f"### {database}",
        "",
        "| URL | requests/s | p50 ms | p99 ms | × hello | goal |",
        "|---|---|---|---|---|---|",
    ]
    for name, result, target in rows:
        ratio = result.rps / hello_rps
        if target is None:
            verdict = ""
        else:
            met = ratio >= target.goal and result.p99_ms < P99_GOAL_MS
            verdict = f"{'met' if met else 'missed'} (≥ {target.goal}×, p99 < {P99_GOAL_MS:.0f})"
        lines.append(
            f"| {name} | {result.rps:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} | {ratio:.3f} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="how long wrk asks each URL")
    parser.add_argument("--warmup", type=int, default=1, help="an unmeasured run before each")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="a PostgreSQL server on which a database can be created and dropped",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/throughput.py needs wrk, the HTTP benchmarking tool: apt-get install -y wrk")

    subprocess.run([sys.executable, "-m", "app.static_build"], cwd=ROOT, check=True, capture_output=True)
    tables = []
    with tempfile.TemporaryDirectory(prefix="twoway-throughput-") as scratch_dir:
        scratch = Path(scratch_dir)
        for database in args.databases:
            if database == "sqlite":
                rows = measure("SQLite", f"sqlite:///{scratch}/twoway.sqlite3", args, scratch)
                tables.append(table("SQLite", rows))
            else:
                with postgres_database(args.postgres) as url:
                    rows = measure("PostgreSQL", url, args, scratch)
                tables.append(table("PostgreSQL", rows))
            print(tables[-1] + "\n", flush=True)
    print(
        f"gunicorn -w 2 (sync workers), wrk -c {args.connections} for {args.seconds:g} s per URL, on {os.cpu_count()} CPUs."
    )


if __name__ == "__main__":
    main()
