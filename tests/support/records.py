"""Stored records made directly (credentials, prompt sets, a pair's content), for tests about what
happens around them, and reading back what is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from factories import UserFactory
from sqlalchemy.orm import Session

from app.auth.links import hash_secret
from app.auth.recovery import normalise
from app.feedback.prompts import DEFAULT_PROMPTS, DEFAULT_SET_NAME
from app.models import (
    Agreement,
    Clause,
    ClauseKind,
    ClauseRevision,
    Intake,
    IntakeRole,
    MeetingFormat,
    NextMeeting,
    Pair,
    Participant,
    Passkey,
    Program,
    Prompt,
    PromptKind,
    PromptSet,
    PushSubscription,
    RecoveryCode,
    SignInLink,
    User,
    utcnow,
)


def give_prompts(session: Session, program: Program) -> dict[str, Prompt]:
    """The default prompt set, as ``feedback.prompts.create_default_set`` gives a program, made
    in the test's session; its prompts by their words."""
    prompt_set = PromptSet(program_id=program.id, name=DEFAULT_SET_NAME)
    prompt_set.prompts = [
        Prompt(position=i, text=words, kind=kind, about_rhythm=about)
        for i, (words, kind, about) in enumerate(DEFAULT_PROMPTS)
    ]
    session.add(prompt_set)
    session.flush()
    program.prompt_set_id = prompt_set.id
    session.flush()
    return {p.text: p for p in prompt_set.prompts}


def add_prompt_set(
    session: Session, program_id: int, *prompts: tuple[str, PromptKind], name: str = "Check-in"
) -> list[Prompt]:
    """A prompt set of the program's own asking ``prompts`` (their words and kind), in that
    order; its prompts. The program asks it only once its ``prompt_set_id`` names it."""
    prompt_set = PromptSet(program_id=program_id, name=name)
    prompt_set.prompts = [Prompt(position=i, text=text, kind=kind) for i, (text, kind) in enumerate(prompts)]
    session.add(prompt_set)
    session.flush()
    return prompt_set.prompts


def read_back(session: Session, query) -> list:
    """What ``query`` finds in the database now, not what the test's session remembers."""
    return list(session.scalars(query.execution_options(populate_existing=True)))


def add_passkey(session: Session, user: User, nickname: str = "Work laptop") -> Passkey:
    passkey = Passkey(
        user_id=user.id,
        credential_id=secrets.token_bytes(32),
        public_key=secrets.token_bytes(77),
        aaguid="00000000-0000-0000-0000-000000000000",
        nickname=nickname,
    )
    session.add(passkey)
    session.flush()
    return passkey


def add_push_subscription(session: Session, user: User, device: str = "Chrome on Android") -> PushSubscription:
    """A browser that gets ``user``'s push notifications (its keys are placeholders: nothing is pushed)."""
    endpoint = f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(32)}"
    subscription = PushSubscription(
        user_id=user.id,
        endpoint=endpoint,
        endpoint_hash=hashlib.sha256(endpoint.encode()).hexdigest(),
        p256dh="B" + "A" * 86,
        auth="A" * 22,
        device=device,
    )
    session.add(subscription)
    session.flush()
    return subscription


def add_link(session: Session, user: User) -> str:
    """A usable one-time sign-in link for ``user``; returns its token."""
    token = secrets.token_urlsafe(32)
    session.add(SignInLink(user_id=user.id, token_hash=hash_secret(token), expires_at=utcnow() + timedelta(minutes=15)))
    session.flush()
    return token


def add_recovery_code(session: Session, user: User) -> str:
    raw = "".join(secrets.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(16))
    code = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
    session.add(RecoveryCode(user_id=user.id, code_hash=hash_secret(normalise(code))))
    session.flush()
    return code


def _agreement(session: Session, pair: Pair) -> None:
    if session.get(Agreement, pair.id) is None:
        session.add(Agreement(pair_id=pair.id, version=1))
        session.flush()


def add_clause(
    session: Session, pair: Pair, title: str = "How we give each other feedback", body: str = "Kindly."
) -> Clause:
    """Ground rules with one clause (and its first revision), for tests about what surrounds them."""
    _agreement(session, pair)
    clause = Clause(pair_id=pair.id, title=title, body=body, position=0)
    session.add(clause)
    session.flush()
    session.add(
        ClauseRevision(
            pair_id=pair.id,
            clause_id=clause.id,
            agreement_version=1,
            action="added",
            kind=clause.kind,
            title=title,
            body=body,
            fields={},
            position=0,
        )
    )
    session.flush()
    return clause


def add_ground_rules(
    session: Session, pair: Pair, *, cadence: str | None = None, midpoint: date | None = None, end: date | None = None
) -> None:
    """Ground rules whose agreed rhythm is ``cadence`` and whose dates are ``midpoint`` and
    ``end``, each only if given: what the check-ins and reminders read from them."""
    _agreement(session, pair)
    if cadence:
        session.add(
            Clause(
                pair_id=pair.id,
                kind=ClauseKind.RHYTHM,
                title="How often we meet",
                position=0,
                fields={"cadence": cadence, "custom": "", "length_minutes": 45},
            )
        )
    if midpoint or end:
        session.add(
            Clause(
                pair_id=pair.id,
                kind=ClauseKind.DATES,
                title="Our dates",
                position=1,
                fields={"midpoint": midpoint.isoformat() if midpoint else "", "end": end.isoformat() if end else ""},
            )
        )
    session.flush()


def add_pair_content(session: Session, pair: Pair, author: User) -> dict[str, int]:
    """One of everything a pair writes (topic, goal with a milestone, meeting with an action item),
    by ``author``, who is also made a participant of the program: URL values for tests that walk
    every route."""
    from datetime import date

    from app.models import (
        ActionItem,
        Goal,
        HelpRequest,
        Meeting,
        Milestone,
        Participant,
        Role,
        Topic,
    )

    role = Role.MENTOR if author.id == pair.mentor.id else Role.MENTEE
    topic = Topic(pair_id=pair.id, text="Onboarding as new hires see it", added_by_id=author.id, added_by_role=role)
    goal = Goal(pair_id=pair.id, learner=role, title="Run a team channel people read")
    meeting = Meeting(pair_id=pair.id, held_on=date.today(), author_id=author.id, notes="We talked.")
    session.add_all([topic, goal, meeting])
    session.flush()
    milestone = Milestone(goal_id=goal.id, pair_id=pair.id, title="Post one update a week")
    action = ActionItem(pair_id=pair.id, meeting_id=meeting.id, text="Share the deck", owner_id=author.id)
    session.add_all([milestone, action])
    session.flush()
    participant = Participant(program_id=pair.program_id, user_id=author.id, department="Finance")
    help_request = HelpRequest(program_id=pair.program_id, sender_id=author.id, pair_id=pair.id, message="Can we talk?")
    session.add_all([participant, help_request])
    session.flush()
    # A proposed match of the author's, still with the admin (the matching pages walk it).
    from app.models import MatchProposal, User

    someone = User(name="Someone Proposed", email=f"proposed-{participant.id}@example.org")
    session.add(someone)
    session.flush()
    other = Participant(program_id=pair.program_id, user_id=someone.id, department="Marketing")
    session.add(other)
    session.flush()
    proposal = MatchProposal(
        program_id=pair.program_id, mentor_id=other.id, mentee_id=participant.id, reasons=["both like hiking"]
    )
    session.add(proposal)
    session.flush()
    return {
        "proposal_id": proposal.id,
        "program_id": pair.program_id,
        "participant_id": participant.id,
        "request_id": help_request.id,
        "topic_id": topic.id,
        "goal_id": goal.id,
        "milestone_id": milestone.id,
        "meeting_id": meeting.id,
        "action_id": action.id,
    }


def answered(
    session: Session, program: Program, name: str, role: IntakeRole, department: str, level: str, **values
) -> Participant:
    """Someone in ``program`` who answered the intake form (``joined=False``: imported, never
    signed in)."""
    joined = utcnow() - timedelta(days=7) if values.get("joined", True) else None
    user = UserFactory(name=name, first_signed_in_at=joined)
    participant = Participant(program_id=program.id, user_id=user.id, department=department, level=level)
    session.add(participant)
    session.flush()
    session.add(
        Intake(
            participant_id=participant.id,
            role=role,
            teach=values.get("teach", []),
            learn=values.get("learn", []),
            interests=values.get("interests", ""),
            languages=values.get("languages", "English"),
            location=values.get("location", ""),
            avoid=values.get("avoid", []),
        )
    )
    session.flush()
    return participant


def aisha_khan(session: Session, program: Program) -> Participant:
    """A mentor in marketing who teaches short-form video and likes hiking."""
    return answered(
        session,
        program,
        "Aisha Khan",
        IntakeRole.MENTOR,
        "Marketing",
        "L2",
        teach=["Short-form video"],
        learn=["Presenting to a board"],
        interests="hiking",
        location="Secret office 42",
    )


def margaret_holloway(session: Session, program: Program, **changes) -> Participant:
    """A mentee in finance, three levels above Aisha, who wants to learn what Aisha teaches."""
    values = {
        "teach": ["Presenting to a board"],
        "learn": ["Short-form video"],
        "interests": "Hiking",
        "location": "Hidden tower 7",
        "avoid": ["someone@example.org"],
    }
    return answered(session, program, "Margaret Holloway", IntakeRole.MENTEE, "Finance", "L5", **values | changes)


def plan_in_person(session: Session, pair_id: int, starts_at, *, planned_at) -> NextMeeting:
    """The pair's next meeting in Room 4.12 at ``starts_at``, planned at ``planned_at``."""
    planned = NextMeeting(
        pair_id=pair_id, starts_at=starts_at, place="Room 4.12", format=MeetingFormat.IN_PERSON, updated_at=planned_at
    )
    session.add(planned)
    session.flush()
    return planned
