"""One way to do each thing in goals, the journal and the home's topics: the shared htmx,
locking, form, access and tick helpers, and no code that only tests use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app import ticks
from app.models import Goal, Milestone

APP = Path(__file__).resolve().parent.parent / "app"
MINE = [
    *sorted((APP / "goals").glob("*.py")),
    *sorted((APP / "journal").glob("*.py")),
    APP / "pairs" / "views.py",
    APP / "program" / "views.py",
]


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MINE, ids=lambda p: str(p.relative_to(APP)))
def test_views_answer_through_the_htmx_helpers(path):
    source = _source(path)
    assert "is_htmx(" not in source and "htmx.target(" not in source
    assert "PAGE_BLOCKS" not in source and "FORM_BLOCK" not in source
    # No positional block: the block is chosen from HX-Target among those a view lists.
    assert not re.search(r"htmx\.render\(\s*\w+,\s*[\"']", source)


@pytest.mark.parametrize("path", MINE, ids=lambda p: str(p.relative_to(APP)))
def test_display_forms_are_built_blank(path):
    assert "formdata=None" not in _source(path)


@pytest.mark.parametrize("path", MINE, ids=lambda p: str(p.relative_to(APP)))
def test_one_optimistic_lock_and_one_conflict(path):
    source = _source(path)
    assert "class Conflict" not in source
    assert not re.search(r"\w+\.version == base_version", source)


def test_access_to_meetings_and_reflections_is_decided_in_authz():
    journal = "".join(_source(p) for p in sorted((APP / "journal").glob("*.py")))
    assert "author_id != current_user" not in journal and "def editable" not in journal
    readers = [p for p in APP.rglob("*.py") if "select(Reflection" in _source(p)]
    assert readers == [APP / "authz.py"]


def test_code_only_tests_used_is_gone():
    from app.goals import board
    from app.journal import meetings

    assert not hasattr(board, "in_progress") and not hasattr(board, "all_goals")
    assert not hasattr(meetings, "last_meeting")


def test_topics_live_with_the_journal():
    from app.journal import agenda
    from app.journal.forms import TopicForm

    assert not (APP / "pairs" / "forms.py").exists()
    assert TopicForm.__module__ == "app.journal.forms" and callable(agenda.remove)


@pytest.mark.parametrize(
    ("value", "current", "wanted"),
    [
        ("1", False, True),
        ("1", True, True),
        ("0", True, False),
        ("0", False, False),
        (None, True, False),
        ("x", False, True),
    ],
)
def test_a_tick_button_says_the_state_it_asks_for(value, current, wanted):
    assert ticks.wanted(value, current) is wanted


def test_milestones_and_action_items_tick_through_one_helper(mentor, session, pair, monkeypatch):
    ticked = []
    real = ticks.tick
    monkeypatch.setattr(ticks, "tick", lambda item, done: ticked.append(type(item).__name__) or real(item, done))
    goal = Goal(pair_id=pair.id, learner="mentor", title="Use Figma", version=1)
    session.add(goal)
    session.flush()
    milestone = Milestone(goal_id=goal.id, pair_id=pair.id, title="Open a file", position=0)
    session.add(milestone)
    session.flush()
    from app.models import ActionItem

    item = ActionItem(pair_id=pair.id, text="Share the file")
    session.add(item)
    session.flush()
    assert (
        mentor.post(f"/pairs/{pair.id}/goals/milestones/{milestone.id}/toggle", data={"done": "1"}).status_code == 303
    )
    assert mentor.post(f"/pairs/{pair.id}/journal/actions/{item.id}/toggle", data={"done": "1"}).status_code == 303
    assert ticked == ["Milestone", "ActionItem"]
    stored = session.scalar(
        select(Milestone).where(Milestone.id == milestone.id).execution_options(populate_existing=True)
    )
    assert stored.done and stored.done_at is not None


def test_after_a_failed_post_the_other_forms_are_blank(mentor, session, pair):
    first = Goal(pair_id=pair.id, learner="mentor", title="Use Figma", version=1)
    second = Goal(pair_id=pair.id, learner="mentee", title="Use Notion", version=1)
    session.add_all([first, second])
    session.flush()
    too_long = "Step " * 60  # over the milestone limit: refused, and kept where it was typed
    refused = mentor.post(
        f"/pairs/{pair.id}/goals/{first.id}/milestones", data={f"goal-{first.id}-milestone-title": too_long}
    )
    assert refused.status_code == 422 and "<html" in refused.text
    assert refused.text.count(too_long.strip()) == 1
    box = re.search(rf'name="goal-{first.id}-milestone-title"[^>]*>', refused.text).group(0)
    assert too_long.strip() in box
    other = re.search(rf'name="goal-{second.id}-milestone-title"[^>]*>', refused.text).group(0)
    assert "value=" not in other or 'value=""' in other
    new_title = re.search(r'name="new-title"[^>]*>', refused.text).group(0)
    assert "Step" not in new_title
