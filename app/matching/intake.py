"""The intake form: the shipped default, a program's own settings, and reading answers.

Every question says who reads it (``Question.admin_sees``, ``Question.matching_uses``): the form
shows exactly that beside each one, so a participant knows what their answers are for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import (
    AVOID_MAX,
    Intake,
    IntakeRole,
    MatchingSettings,
    Participant,
    normalise_email,
    utcnow,
    valid_email,
)
from app.models.matching import INTERESTS_MAX, LANGUAGES_MAX, LOCATION_MAX, OTHER_MAX
from app.models.user import zone_named

# The shipped default list of skills: both directions of reverse mentoring, as practitioners
# describe them (DOMAIN.md). The admin edits the program's own copy.
DEFAULT_SKILLS = (
    "Short-form video",
    "Social media for business",
    "LinkedIn and personal branding",
    "Generative AI tools",
    "Data dashboards",
    "Remote collaboration tools",
    "How new hires see the company",
    "What the next generation expects",
    "Inclusive language",
    "Recent research from university",
    "Presenting to a board",
    "Navigating the organisation",
    "How promotions happen",
    "Career planning",
    "Negotiation",
    "Managing a budget",
    "Leading a team",
    "Stakeholder management",
    "Writing for executives",
    "Building a network",
)

RHYTHM_CHOICES = (("weekly", "Every week"), ("fortnightly", "Every two weeks"), ("monthly", "Every month"))
FORMAT_CHOICES = (("in-person", "In person"), ("video", "Video call"), ("either", "Either"))
ROLE_CHOICES = (
    (IntakeRole.MENTOR.value, "Mentor: I'd share how work looks from where I sit"),
    (IntakeRole.MENTEE.value, "Mentee: I'd like to learn from a newer colleague"),
    (IntakeRole.EITHER.value, "Either: wherever the program needs me"),
)


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    admin_sees: bool = True
    matching_uses: bool = True
    optional: bool = False  # the admin may switch it off


QUESTIONS = (
    Question("role", "Mentor, mentee or either"),
    Question("teach", "What I can teach"),
    Question("learn", "What I want to learn"),
    Question("department", "Department"),
    Question("level", "Level"),
    Question("interests", "Interests and hobbies", optional=True),
    Question("languages", "Languages I can mentor in", optional=True),
    Question("time_zone", "Time zone", optional=True),
    Question("rhythm", "How often I'd like to meet", optional=True),
    Question("format", "In person or by video", matching_uses=False, optional=True),
    Question("location", "Where I work", matching_uses=False, optional=True),
    # The admin never sees the list itself: only that a proposal was ruled out.
    Question("avoid", "People I shouldn't be paired with", admin_sees=False, optional=True),
)
OPTIONAL = tuple(q.key for q in QUESTIONS if q.optional)
BY_KEY = {q.key: q for q in QUESTIONS}


def settings_for(program_id: int) -> MatchingSettings:
    """The program's settings; until the admin saves some, the shipped default (every question
    on), not stored: opening a page never writes."""
    settings = db.session.get(MatchingSettings, program_id)
    if settings is None:
        settings = MatchingSettings(
            program_id=program_id,
            skills=list(DEFAULT_SKILLS),
            questions=list(OPTIONAL),
            **{
                column.name: column.default.arg
                for column in MatchingSettings.__table__.columns
                if column.default and not callable(column.default.arg)
            },
        )
    return settings


def asked(settings: MatchingSettings) -> list[Question]:
    """The questions this program's form asks, in the form's order."""
    return [q for q in QUESTIONS if not q.optional or q.key in settings.questions]


# --- reading and writing answers -----------------------------------------------------------------

_SPLIT = re.compile(r"[,;\n]+")


def split_list(text: str) -> list[str]:
    """Free text typed as a list ("hiking, chess; film"): its items, trimmed, each once."""
    seen: dict[str, str] = {}
    for item in _SPLIT.split(text or ""):
        item = " ".join(item.split())
        if item and item.casefold() not in seen:
            seen[item.casefold()] = item
    return list(seen.values())


def emails(text: str) -> tuple[list[str], list[str]]:
    """The addresses in ``text`` (separated by commas, semicolons, spaces or lines), normalised,
    and the items that are not addresses."""
    good, bad = [], []
    for item in re.split(r"[\s,;]+", text or ""):
        if not item:
            continue
        if valid_email(item):
            if normalise_email(item) not in good:
                good.append(normalise_email(item))
        else:
            bad.append(item)
    return good, bad


_NUMBER = re.compile(r"\d+")


def level_number(level: str) -> int | None:
    """The number in a level as HR writes it ("L4", "Grade 7", "5"); None when it has none."""
    match = _NUMBER.search(level or "")
    return int(match.group()) if match else None


def intake_of(participant_id: int) -> Intake | None:
    return db.session.scalar(select(Intake).where(Intake.participant_id == participant_id))


def save(participant: Participant, values: dict, settings: MatchingSettings) -> Intake:
    """Store ``values`` (already checked by the form or the CSV import) as the person's answers.
    Only the questions the program asks are written."""
    intake = intake_of(participant.id)
    if intake is None:
        intake = Intake(participant_id=participant.id)
        db.session.add(intake)
    keys = {q.key for q in asked(settings)}
    for key in ("department", "level"):
        if key in values:
            setattr(participant, key, values[key])
    fields = {
        "role": ("role",),
        "teach": ("teach", "teach_other"),
        "learn": ("learn", "learn_other"),
        "interests": ("interests",),
        "languages": ("languages",),
        "time_zone": ("time_zone",),
        "rhythm": ("rhythm",),
        "format": ("format",),
        "location": ("location",),
        "avoid": ("avoid",),
    }
    for key, columns in fields.items():
        if key in keys:
            for column in columns:
                if column in values:
                    setattr(intake, column, values[column])
    if "avoid" in keys and "avoid" in values:
        intake.avoid = list(values["avoid"])[:AVOID_MAX]
    intake.updated_at = utcnow()
    db.session.flush()
    return intake


def utc_offset(zone_name: str, at: datetime | None = None) -> float | None:
    zone = zone_named(zone_name or "")
    if zone is None:
        return None
    offset = (at or utcnow()).astimezone(zone).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else None


# --- answers from the admin's CSV import ---------------------------------------------------------

CSV_LIMITS = {
    "teach": OTHER_MAX * 4,
    "learn": OTHER_MAX * 4,
    "interests": INTERESTS_MAX,
    "languages": LANGUAGES_MAX,
    "location": LOCATION_MAX,
    "avoid": AVOID_MAX * 260,
}


def answer_problems(answers: dict[str, str]) -> list[str]:
    """What is wrong with a CSV row's intake cells, in words (nothing: an empty list)."""
    reasons = []
    for column, limit in CSV_LIMITS.items():
        if len(answers.get(column, "")) > limit:
            reasons.append(f"The {column} is longer than {limit} characters.")
    role = answers.get("role", "").lower()
    if role and role not in {r.value for r in IntakeRole}:
        reasons.append("The role is none of mentor, mentee or either.")
    for column, choices in (("rhythm", RHYTHM_CHOICES), ("format", FORMAT_CHOICES)):
        value = answers.get(column, "").lower()
        if value and value not in {key for key, _ in choices}:
            reasons.append(f"The {column} is none of {', '.join(key for key, _ in choices)}.")
    zone = answers.get("time_zone", "")
    if zone and zone_named(zone) is None:
        reasons.append("The time_zone is not a time zone such as Europe/Berlin.")
    good, bad = emails(answers.get("avoid", ""))
    if bad:
        reasons.append("The avoid column holds something that isn't a work email address.")
    elif len(good) > AVOID_MAX:
        reasons.append(f"The avoid column holds more than {AVOID_MAX} addresses.")
    return reasons


def _skills_and_other(text: str, skills: list[str]) -> tuple[list[str], str]:
    """A cell's items: those on the program's list (as the list spells them) and the rest."""
    by_key = {skill.casefold(): skill for skill in skills}
    chosen, other = [], []
    for item in split_list(text):
        (chosen if item.casefold() in by_key else other).append(by_key.get(item.casefold(), item))
    return chosen, ", ".join(other)[:OTHER_MAX]


def import_answers(program_id: int, rows: list[tuple[Participant, dict[str, str]]]) -> None:
    """Store the intake answers of imported rows (already checked by ``answer_problems``); rows
    without any answer get no intake, so they show as not answered yet."""
    rows = [(participant, answers) for participant, answers in rows if answers]
    if not rows:
        return
    settings = settings_for(program_id)
    for participant, answers in rows:
        teach, teach_other = _skills_and_other(answers.get("teach", ""), settings.skills)
        learn, learn_other = _skills_and_other(answers.get("learn", ""), settings.skills)
        db.session.add(
            Intake(
                participant_id=participant.id,
                role=IntakeRole(answers.get("role", "either").lower() or "either"),
                teach=teach,
                teach_other=teach_other,
                learn=learn,
                learn_other=learn_other,
                interests=", ".join(split_list(answers.get("interests", "")))[:INTERESTS_MAX],
                languages=", ".join(split_list(answers.get("languages", "")))[:LANGUAGES_MAX],
                time_zone=answers.get("time_zone", ""),
                rhythm=answers.get("rhythm", "").lower(),
                format=answers.get("format", "").lower(),
                location=answers.get("location", ""),
                avoid=emails(answers.get("avoid", ""))[0],
            )
        )
    db.session.flush()
