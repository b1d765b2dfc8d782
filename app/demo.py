"""A demo program with believable people, for trying Twoway out and for screenshots."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from app.extensions import db
from app.models import Pair, Program, User

DOMAIN = "northwind.example"

# Mentors are mostly early-career colleagues; mentees are senior leaders: it is reverse mentoring.
MENTORS = [
    "Aisha Khan", "Tomás Ortega", "Mei Lin", "Kwame Mensah", "Priya Raman", "Jonas Becker",
    "Zainab Yusuf", "Lucas Moreau", "Sofia Rossi", "Daniel Kim", "Amara Okafor", "Elif Yılmaz",
    "Noah Fischer", "Leila Haddad", "Mateo Silva", "Hana Sato",
]
MENTEES = [
    "Margaret Holloway", "Richard Brennan", "Helen Castellano", "Graham Whitfield", "Susan Achterberg",
    "Peter Lindqvist", "Catherine Doyle", "Michael Okonkwo", "Elizabeth Marsh", "Robert Ashdown",
    "Frances Nakamura", "Andrew Kessler", "Judith Ferreira", "Stephen Wolcott", "Patricia Byrne",
    "Howard Lam",
]
ADMIN = "Ruth Adeyemi"


def _email(name: str, suffix: str) -> str:
    # Addresses stay ASCII (Tomás → tomas) so every mail system takes them.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    local = ".".join(part.lower() for part in ascii_name.split())
    return f"{local}+{suffix}@{DOMAIN}"


def _person(name: str, suffix: str, **extra: bool) -> User:
    user = User(name=name, email=_email(name, suffix), **extra)
    db.session.add(user)
    return user


def create_program(pair_count: int, *, suffix: str, today: date | None = None) -> tuple[User, list[Pair]]:
    """Add a program of ``pair_count`` pairs and its admin. ``suffix`` keeps the addresses of one
    run apart from another's, so the demo can be created any number of times."""
    today = today or date.today()
    program = Program(
        name=f"Reverse mentoring {today.year}: Leading in a digital workplace",
        starts_on=today - timedelta(days=21),
        ends_on=today - timedelta(days=21) + timedelta(weeks=26),
    )
    db.session.add(program)
    admin = _person(ADMIN, suffix, is_admin=True)
    pairs = []
    for i in range(pair_count):
        lap = f" {i // len(MENTORS) + 1}" if i >= len(MENTORS) else ""
        mentor = _person(MENTORS[i % len(MENTORS)] + lap, suffix)
        mentee = _person(MENTEES[i % len(MENTEES)] + lap, suffix)
        pair = Pair.create(program, mentor=mentor, mentee=mentee)
        db.session.add(pair)
        pairs.append(pair)
    return admin, pairs
