"""A demo program with believable people, for trying Twoway out and for screenshots."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

from app.extensions import db
from app.models import Pair, Program, Role, User

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


# What demo pairs have written so far, by clause title; pairs take turns so no two read alike.
GROUND_RULES = [
    {
        "How we meet, and how we reach each other between meetings": (
            "Video call on Thursdays at 8:30, before the leadership stand-up. Between meetings we use "
            "Teams chat and reply within two working days."
        ),
        "What the mentor wants to get out of this": (
            "To understand how decisions get made above my team, and how a board meeting is prepared."
        ),
        "What the mentee wants to get out of this": (
            "Get comfortable with the tools our new hires live in:\n\n- Teams channels and threads\n"
            "- Notion for team notes\n- asking an AI assistant for a first draft\n\n"
            "And hear honestly how the graduate scheme feels from the inside."
        ),
        "Topics to start with, and topics that are off-limits": (
            "**Start with:** onboarding as new hires experience it; social media for leaders.\n\n"
            "**Off-limits:** individual performance reviews and anything about named colleagues."
        ),
    },
    {
        "How we meet, and how we reach each other between meetings": (
            "In person over coffee on the 3rd floor when we're both in; otherwise a call. "
            "WhatsApp for quick questions, no reply expected after 6 pm."
        ),
        "What the mentor wants to get out of this": "Advice on how to grow into a team-lead role, and people worth meeting.",
        "What the mentee wants to get out of this": (
            "Learn to run a team channel that people actually read, and what the next generation expects of a manager."
        ),
    },
    {
        "What the mentee wants to get out of this": "Understand how our customers use the mobile app day to day.",
    },
]


def _write_ground_rules(pair: Pair, lap: int) -> None:
    """Start a demo pair's ground rules and fill in what they have written so far: the first pair
    has agreed, the second is half-way, the third has only just begun."""
    from app.ground_rules import agreement

    mentor, mentee = pair.member(Role.MENTOR), pair.member(Role.MENTEE)
    agreement.start(mentor)
    written = GROUND_RULES[lap % len(GROUND_RULES)]
    for clause in agreement.clauses(pair.id):
        if clause.title in written:
            agreement.save(mentee if "mentee" in clause.title else mentor, clause, clause.version, {"body": written[clause.title]})
    version = agreement.load(pair.id).version
    if lap % len(GROUND_RULES) == 0:
        agreement.agree(mentor, version)
        agreement.agree(mentee, version)
    elif lap % len(GROUND_RULES) == 1:
        agreement.agree(mentor, version)


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
        db.session.flush()
        _write_ground_rules(pair, i)
        pairs.append(pair)
    return admin, pairs
