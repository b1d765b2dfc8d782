"""A demo program with believable people, for trying Twoway out and for screenshots."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from app.extensions import db
from app.feedback.prompts import create_default_set
from app.models import (
    ActionItem,
    Goal,
    GoalStatus,
    Meeting,
    MeetingFormat,
    Milestone,
    NextMeeting,
    Pair,
    Participant,
    Program,
    ProgramAdmin,
    Reflection,
    Role,
    Topic,
    User,
    utcnow,
)

DOMAIN = "northwind.example"

# Mentors are mostly early-career colleagues; mentees are senior leaders: it is reverse mentoring.
MENTORS = [
    "Aisha Khan",
    "Tomás Ortega",
    "Mei Lin",
    "Kwame Mensah",
    "Priya Raman",
    "Jonas Becker",
    "Zainab Yusuf",
    "Lucas Moreau",
    "Sofia Rossi",
    "Daniel Kim",
    "Amara Okafor",
    "Elif Yılmaz",
    "Noah Fischer",
    "Leila Haddad",
    "Mateo Silva",
    "Hana Sato",
]
MENTEES = [
    "Margaret Holloway",
    "Richard Brennan",
    "Helen Castellano",
    "Graham Whitfield",
    "Susan Achterberg",
    "Peter Lindqvist",
    "Catherine Doyle",
    "Michael Okonkwo",
    "Elizabeth Marsh",
    "Robert Ashdown",
    "Frances Nakamura",
    "Andrew Kessler",
    "Judith Ferreira",
    "Stephen Wolcott",
    "Patricia Byrne",
    "Howard Lam",
]
ADMIN = "Ruth Adeyemi"
DEPARTMENTS = ["Engineering", "Sales", "Finance", "Operations", "People"]


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
            agreement.save(
                mentee if "mentee" in clause.title else mentor, clause, clause.version, {"body": written[clause.title]}
            )
    version = agreement.load(pair.id).version
    if lap % len(GROUND_RULES) == 0:
        agreement.agree(mentor, version)
        agreement.agree(mentee, version)
    elif lap % len(GROUND_RULES) == 1:
        agreement.agree(mentor, version)


def _write_journal(pair: Pair, today: date, *, meets_soon: bool = False) -> None:
    """Goals for both people, two logged meetings with action items and a private reflection,
    a topic for next time and a planned meeting: a pair a few weeks in."""
    mentor, mentee = pair.member(Role.MENTOR), pair.member(Role.MENTEE)
    goals = [
        Goal(
            pair_id=pair.id,
            learner=Role.MENTEE,
            title="Run a team channel people actually read",
            why="My updates go out by email and few people read them.",
            success="Half my team reacts to or answers a weekly post.",
            target_on=today + timedelta(weeks=8),
            status=GoalStatus.IN_PROGRESS,
            created_by_id=mentee.user_id,
        ),
        Goal(
            pair_id=pair.id,
            learner=Role.MENTOR,
            title="Understand how the budget round works",
            why="Decisions about my team's tools are made there.",
            status=GoalStatus.NOT_STARTED,
            created_by_id=mentor.user_id,
        ),
    ]
    db.session.add_all(goals)
    db.session.flush()
    db.session.add_all(
        [
            Milestone(
                goal_id=goals[0].id,
                pair_id=pair.id,
                title="Set up the channel with Tomás's help",
                done=True,
                position=0,
            ),
            Milestone(goal_id=goals[0].id, pair_id=pair.id, title="Post one update a week for a month", position=1),
            Milestone(goal_id=goals[0].id, pair_id=pair.id, title="Ask the team what they'd like to see", position=2),
        ]
    )
    first = Meeting(
        pair_id=pair.id,
        held_on=today - timedelta(days=18),
        length_minutes=60,
        format=MeetingFormat.IN_PERSON,
        author_id=mentee.user_id,
        notes="Got to know each other. Agreed our ground rules and what each of us wants to learn.",
    )
    second = Meeting(
        pair_id=pair.id,
        held_on=today - timedelta(days=4),
        length_minutes=45,
        format=MeetingFormat.VIDEO,
        author_id=mentor.user_id,
        notes="Set up the team channel together.\n\n- threads keep replies tidy\n- pin the weekly update",
    )
    db.session.add_all([first, second])
    db.session.flush()
    db.session.add_all(
        [
            Topic(
                pair_id=pair.id,
                text="How new hires find their way around Teams",
                added_by_id=mentee.user_id,
                added_by_role=Role.MENTEE,
                meeting_id=second.id,
            ),
            Topic(
                pair_id=pair.id,
                text="What a good first weekly post looks like",
                added_by_id=mentee.user_id,
                added_by_role=Role.MENTEE,
            ),
            Topic(
                pair_id=pair.id,
                text="How promotions are decided",
                added_by_id=mentor.user_id,
                added_by_role=Role.MENTOR,
            ),
            ActionItem(
                pair_id=pair.id,
                meeting_id=second.id,
                text="Write the first weekly post",
                owner_id=mentee.user_id,
                due_on=today + timedelta(days=3),
                goal_id=goals[0].id,
            ),
            ActionItem(
                pair_id=pair.id,
                meeting_id=second.id,
                text="Share the budget calendar",
                owner_id=mentee.user_id,
                due_on=today + timedelta(days=10),
            ),
            ActionItem(
                pair_id=pair.id,
                meeting_id=first.id,
                text="Book a room for in-person meetings",
                owner_id=mentor.user_id,
                done=True,
                done_at=utcnow(),
            ),
            Reflection(
                meeting_id=second.id,
                pair_id=pair.id,
                author_id=mentee.user_id,
                body="I felt slow at first. Tomás was patient; next time I'll try it before we meet.",
            ),
        ]
    )
    starts = datetime.combine(today + timedelta(days=10), time(8, 30), tzinfo=UTC)
    if meets_soon:
        # The first pair meets in two hours, so a fresh `make run` shows its reminders: the
        # day-before one at once (in the worker's log without MAIL_URL), the hour-before one later.
        starts = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    db.session.add(
        NextMeeting(
            pair_id=pair.id,
            starts_at=starts,
            length_minutes=45,
            format=MeetingFormat.VIDEO,
            place="Teams",
            updated_by_id=mentor.user_id,
        )
    )


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
    db.session.flush()
    create_default_set(program)
    # The demo's admin owns the instance (and so sees the Admins page) and runs this program.
    admin = _person(ADMIN, suffix, is_admin=True, is_owner=True)
    db.session.flush()
    db.session.add(ProgramAdmin(program_id=program.id, user_id=admin.id))
    pairs = []
    for i in range(pair_count):
        lap = f" {i // len(MENTORS) + 1}" if i >= len(MENTORS) else ""
        mentor = _person(MENTORS[i % len(MENTORS)] + lap, suffix)
        mentee = _person(MENTEES[i % len(MENTEES)] + lap, suffix)
        pair = Pair.create(program, mentor=mentor, mentee=mentee)
        db.session.add(pair)
        db.session.flush()
        # Good programs pair people from different parts of the organisation.
        db.session.add_all(
            [
                Participant(program_id=program.id, user_id=mentor.id, department=DEPARTMENTS[i % 5], level="Graduate"),
                Participant(
                    program_id=program.id, user_id=mentee.id, department=DEPARTMENTS[(i + 2) % 5], level="Director"
                ),
            ]
        )
        _write_ground_rules(pair, i)
        if i % len(GROUND_RULES) != len(GROUND_RULES) - 1:  # the newest pair hasn't met yet
            _write_journal(pair, today, meets_soon=i == 0)
        pairs.append(pair)
    return admin, pairs
