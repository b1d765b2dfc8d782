"""The command line: each command works, and bad input gets one clear line and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import UserFactory
from sqlalchemy import func, select
from support.apps import migrated_sqlite

from app import create_app
from app.models import Pair, PairMember, Program, Role, SignInLink, User


@pytest.fixture
def cli(app, connection):
    return app.test_cli_runner()


def run(cli, *args):
    return cli.invoke(args=list(args))


def test_demo_json_describes_every_person_with_a_working_link(cli, client, session):
    result = run(cli, "demo", "--pairs", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"admin", "pairs"}
    assert set(report["admin"]) == {"name", "email", "login_url"}
    assert len(report["pairs"]) == 2
    for pair in report["pairs"]:
        assert set(pair) == {"id", "url", "mentor", "mentee"}
        assert pair["url"] == f"/pairs/{pair['id']}"
        members = session.scalars(select(PairMember).where(PairMember.pair_id == pair["id"])).all()
        assert {m.role for m in members} == {Role.MENTOR, Role.MENTEE}

    mentee = report["pairs"][0]["mentee"]
    assert mentee["login_url"].startswith("http://localhost:5000/auth/link/")
    client.post(mentee["login_url"].removeprefix("http://localhost:5000"))
    home = client.get(report["pairs"][0]["url"])
    assert home.status_code == 200
    assert report["pairs"][0]["mentor"]["name"] in home.text
    admin = report["admin"]
    assert session.scalar(select(User.is_admin).where(User.email == admin["email"])) is True


def test_demo_can_run_again_and_adds_another_program(cli, session):
    assert run(cli, "demo").exit_code == 0
    second = run(cli, "demo")
    assert second.exit_code == 0, second.output
    assert session.scalar(select(func.count(Program.id))) == 2
    assert session.scalar(select(func.count(Pair.id))) == 6
    assert "mentor" in second.output and "/auth/link/" in second.output


def test_demo_if_empty_seeds_once_then_prints_fresh_links(cli, session):
    first = run(cli, "demo", "--if-empty")
    assert first.exit_code == 0
    again = run(cli, "demo", "--if-empty")
    assert again.exit_code == 0
    assert "already has people" in again.output
    assert again.output.count("/auth/link/") == 7  # the admin and three pairs of two
    assert session.scalar(select(func.count(Program.id))) == 1


@pytest.mark.parametrize("pairs", ["0", "-1", "many"])
def test_demo_refuses_a_bad_pair_count(cli, pairs):
    result = run(cli, "demo", "--pairs", pairs)
    assert result.exit_code != 0
    assert "--pairs" in result.output


def test_admin_create_makes_an_admin_who_can_sign_in(cli, client, session):
    result = run(cli, "admin", "create", "--email", "Ruth.Adeyemi@Example.org", "--name", "Ruth Adeyemi")
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "ruth.adeyemi@example.org"))
    assert user.is_admin and user.name == "Ruth Adeyemi"
    url = result.output.strip().splitlines()[-1].split(": ", 1)[1]
    client.post(url.removeprefix("http://localhost:5000"))
    assert client.get("/admin").status_code == 200


def test_admin_create_promotes_an_existing_person(cli, session):
    person = UserFactory(email="sam@example.org")
    session.flush()
    result = run(cli, "admin", "create", "--email", "SAM@example.org", "--name", "Sam")
    assert result.exit_code == 0
    session.refresh(person)
    assert person.is_admin
    assert session.scalar(select(func.count(User.id)).where(User.email == "sam@example.org")) == 1


def test_admin_create_refuses_someone_who_takes_part(cli, session):
    """An admin is an adversary of pairs' privacy: someone in a pair (or a program) can't become one."""
    from factories import PairFactory, ProgramFactory

    from app.models import Participant

    pair = PairFactory()
    participant = UserFactory(email="kwame@example.org", name="Kwame Mensah")
    session.add(Participant(program_id=ProgramFactory().id, user_id=participant.id))
    session.flush()
    for person in (pair.mentee, participant):
        result = run(cli, "admin", "create", "--email", person.email, "--name", "Anyone")
        assert result.exit_code != 0
        [line] = result.output.strip().splitlines()
        assert f"Error: {person.name} <{person.email}> takes part in a program, so they can't be made an admin" in line
        session.refresh(person)
        assert not person.is_admin
    assert session.scalar(select(func.count(SignInLink.id))) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-address", "--name", "X"], "is not an email address"),
        (["--email", "x@example.org", "--name", "   "], "The name must have"),
        (["--email", "x@example.org"], "Missing option '--name'"),
    ],
)
def test_admin_create_rejects_bad_input_in_one_line(cli, session, args, message):
    result = run(cli, "admin", "create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("Error")]) == 1
    assert session.scalar(select(func.count(User.id))) == 0


def test_login_link_prints_one_absolute_url(cli, client, session):
    person = UserFactory(name="Mei Lin", email="mei.lin@example.org")
    session.flush()
    result = run(cli, "login-link", "Mei.Lin@example.org")
    assert result.exit_code == 0
    [url] = result.output.split()
    assert url.startswith("http://localhost:5000/auth/link/")
    assert "Continue as Mei Lin" in client.get(url.removeprefix("http://localhost:5000")).text
    assert session.scalar(select(func.count(SignInLink.id)).where(SignInLink.user_id == person.id)) == 1


@pytest.mark.parametrize(
    ("email", "message"), [("nobody@example.org", "Nobody with the address"), ("nonsense", "is not an email address")]
)
def test_login_link_for_an_unknown_or_bad_address_fails_clearly(cli, session, email, message):
    result = run(cli, "login-link", email)
    assert result.exit_code == 1
    # One line, no traceback: what an operator's shell shows.
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("Error: ") and message in line
    assert session.scalar(select(func.count(SignInLink.id))) == 0


def test_demo_pairs_have_ground_rules_at_different_stages(cli, client, session):
    report = json.loads(run(cli, "demo", "--pairs", "3", "--json").output)
    headings = []
    for pair in report["pairs"]:
        client.post(pair["mentee"]["login_url"].removeprefix("http://localhost:5000"))
        page = client.get(f"{pair['url']}/ground-rules").text
        headings.append(page.split('<h2 id="status-heading">')[1].split("</h2>")[0].strip())
        client.post("/auth/sign-out")
    assert headings[0] == "Agreed by both of you"
    assert headings[1].startswith("Agreed by ")
    assert headings[2] == "Draft"


def test_demo_pairs_have_met_and_set_goals_and_the_reflection_stays_private(cli, client, session):
    report = json.loads(run(cli, "demo", "--pairs", "1", "--json").output)
    pair = report["pairs"][0]
    client.post(pair["mentor"]["login_url"].removeprefix("http://localhost:5000"))
    home = client.get(pair["url"]).get_data(as_text=True)
    for shown in ("Write the first weekly post", "Run a team channel people actually read", "pin the weekly update"):
        assert shown in home
    journal = client.get(f"{pair['url']}/journal").get_data(as_text=True)
    assert "Set up the team channel together." in journal
    assert "I felt slow at first" not in journal  # the mentee's private reflection


# --- login-link from a shell, as an operator runs it ------------------------------------------

REPO = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def flask_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``flask --app wsgi ARGS`` in the checkout, with only ``env`` (and PATH) in the environment."""
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run([*FLASK, *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=60)


@pytest.mark.long
def test_login_link_without_a_secret_key_fails_in_one_line_saying_what_to_set(tmp_path):
    result = flask_cli("login-link", "mei.lin@example.org", DATABASE_URL=f"sqlite:///{tmp_path}/cli.sqlite3")
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "SECRET_KEY" in lines[0] and "FLASK_DEBUG=1" in lines[0]
    assert "Traceback" not in result.stderr


def test_login_link_works_without_flask_debug_when_a_secret_key_is_set(tmp_path):
    # The schema `flask db upgrade` builds (a copy of this run's migrated template: the migrations
    # have tests of their own, and running them again costs most of a second).
    env = {"DATABASE_URL": migrated_sqlite(tmp_path / "cli.sqlite3"), "SECRET_KEY": "operator-secret"}
    # In this process, from that environment alone (no FLASK_DEBUG): each `flask` in a fresh
    # interpreter costs two seconds, and the test above already starts the real one through
    # wsgi.py; what this one is about is the production settings the app then runs with.
    operator = create_app(environ=env).test_cli_runner()
    created = operator.invoke(args=["admin", "create", "--email", "mei.lin@example.org", "--name", "Mei Lin"])
    assert created.exit_code == 0, created.output
    result = operator.invoke(args=["login-link", "Mei.Lin@example.org"])
    assert result.exit_code == 0, result.output
    [url] = result.stdout.split()
    assert url.startswith("http://localhost:5000/auth/link/")
