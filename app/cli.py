"""Command-line tools: ``flask --app wsgi admin create``, ``login-link``, ``demo``.

Each exits non-zero with one clear line when the input is wrong.
"""

from __future__ import annotations

import json
import secrets

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import authz
from app import demo as demo_data
from app.auth import links
from app.extensions import db
from app.models import Pair, PairMember, Program, ProgramAdmin, User, normalise_email, valid_email

NAME_MAX = User.name.type.length


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _valid_email(raw: str) -> str:
    email = normalise_email(raw)
    if not valid_email(email):
        _fail(f"{raw!r} is not an email address.")
    return email


@click.group("admin", cls=AppGroup)
def admin_group() -> None:
    """Manage program admins."""


@admin_group.command("create")
@click.option("--email", required=True, help="The admin's email address.")
@click.option("--name", required=True, help="The admin's full name.")
@click.option("--owner", is_flag=True, help="An owner: administers every program and names program admins.")
@click.option(
    "--program", "program_ids", type=int, multiple=True, help="A program (by id) they administer; repeatable."
)
def create_admin(email: str, name: str, owner: bool, program_ids: tuple[int, ...]) -> None:
    """Create an admin (or make an existing person one) and print a sign-in link. An admin sees
    only the programs they administer (--program, or named later by an owner); an owner (--owner)
    sees every program."""
    email = _valid_email(email)
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        _fail(f"The name must have 1 to {NAME_MAX} characters.")
    user = db.session.scalar(User.by_email(email))
    if user is None:
        user = User(email=email, name=name, is_admin=True)
        db.session.add(user)
        db.session.flush()
        verb = "Created admin"
    else:
        if authz.takes_part(user.id):
            # The admin is an adversary of pairs' privacy: someone in a pair can't become one.
            _fail(authz.IN_A_PROGRAM.format(name=f"{user.name} <{user.email}>"))
        user.is_admin = True
        verb = "Made an admin of existing person"
    if owner:
        user.is_owner = True
    for program_id in program_ids:
        if db.session.get(Program, program_id) is None:
            _fail(f"There is no program {program_id}.")
        if db.session.get(ProgramAdmin, (program_id, user.id)) is None:
            db.session.add(ProgramAdmin(program_id=program_id, user_id=user.id))
    url = links.issue(user)
    db.session.commit()
    role = "an owner (every program)" if user.is_owner else f"{len(program_ids) or 'no'} program(s) for now"
    click.echo(f"{verb} {user.name} <{user.email}>: {role}.")
    click.echo(f"Sign-in link (works once, for 15 minutes): {url}")


@click.command("login-link")
@with_appcontext
@click.argument("email")
def login_link(email: str) -> None:
    """Print a one-time sign-in URL for EMAIL."""
    user = db.session.scalar(User.by_email(_valid_email(email)))
    if user is None or not user.active:
        _fail(f"Nobody with the address {normalise_email(email)} can sign in to Twoway.")
    url = links.issue(user)
    db.session.commit()
    click.echo(url)


@click.command("demo")
@with_appcontext
@click.option(
    "--pairs", "pair_count", default=3, show_default=True, type=click.IntRange(1, 500), help="How many pairs."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--if-empty", is_flag=True, help="Seed only an empty database; otherwise print fresh links.")
def demo(pair_count: int, as_json: bool, if_empty: bool) -> None:
    """Create a demo program with an admin and PAIRS pairs, and print everyone's sign-in link."""
    if if_empty and db.session.scalar(select(func.count(User.id))):
        admin, pairs = _latest_program_people()
        click.echo("The database already has people in it; here are fresh sign-in links.", err=True)
    else:
        admin, pairs = demo_data.create_program(pair_count, suffix=secrets.token_hex(2))
        db.session.flush()
    report = {
        "admin": _person(admin) if admin else None,
        "pairs": [
            {"id": pair.id, "url": f"/pairs/{pair.id}", "mentor": _person(pair.mentor), "mentee": _person(pair.mentee)}
            for pair in pairs
        ],
    }
    db.session.commit()
    if as_json:
        click.echo(json.dumps(report))
        return
    if report["admin"]:
        a = report["admin"]
        click.echo(f"Program admin  {a['name']} <{a['email']}>\n  {a['login_url']}")
    for pair in report["pairs"]:
        click.echo(f"\nPair {pair['id']} ({pair['url']})")
        for role in ("mentor", "mentee"):
            p = pair[role]
            click.echo(f"  {role:<6}  {p['name']} <{p['email']}>\n          {p['login_url']}")
    click.echo("\nEach link works once, for 15 minutes. `flask --app wsgi login-link EMAIL` makes another.")


def _person(user: User) -> dict[str, str]:
    return {"name": user.name, "email": user.email, "login_url": links.issue(user)}


def _latest_program_people() -> tuple[User | None, list[Pair]]:
    program = db.session.scalar(select(Program).order_by(Program.id.desc()).limit(1))
    admin = db.session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id.desc()).limit(1))
    if program is None:
        return admin, []
    pairs = db.session.scalars(
        select(Pair)
        .where(Pair.program_id == program.id)
        .order_by(Pair.id)
        .options(selectinload(Pair.members).selectinload(PairMember.user))
    )
    return admin, list(pairs)


def init_app(app: Flask) -> None:
    from app.admin.snapshots import dashboard_group
    from app.ending.cli import ending_group
    from app.reminders.cli import reminders_group

    app.cli.add_command(reminders_group)
    app.cli.add_command(dashboard_group)
    app.cli.add_command(ending_group)
    app.cli.add_command(admin_group)
    app.cli.add_command(login_link)
    app.cli.add_command(demo)
