"""The reverse-mentoring prompt set that ships with Twoway; each program gets its own copy, which
it may change later without touching other programs' answers."""

from __future__ import annotations

from app.extensions import db
from app.models import Program, Prompt, PromptKind, PromptSet

DEFAULT_SET_NAME = "Reverse mentoring check-in"
DEFAULT_PROMPTS: list[tuple[str, PromptKind, bool]] = [
    ("How useful was our last meeting?", PromptKind.SCALE, False),
    ("I felt safe to be candid.", PromptKind.SCALE, False),
    ("I learned something new from my partner.", PromptKind.SCALE, False),
    ("Are we meeting as often as we agreed?", PromptKind.YES_NO, True),
    ("What is working?", PromptKind.TEXT, False),
    ("What should change?", PromptKind.TEXT, False),
]


def create_default_set(program: Program) -> PromptSet:
    """Give ``program`` its own copy of the default prompts and make it the active set."""
    prompt_set = PromptSet(program_id=program.id, name=DEFAULT_SET_NAME)
    prompt_set.prompts = [
        Prompt(position=i, text=text, kind=kind, about_rhythm=about_rhythm)
        for i, (text, kind, about_rhythm) in enumerate(DEFAULT_PROMPTS)
    ]
    db.session.add(prompt_set)
    db.session.flush()
    program.prompt_set_id = prompt_set.id
    return prompt_set
