"""The one optimistic-locking helper: of two saves over the same version exactly one wins."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Goal, Role
from app.versions import Conflict, save_over


@pytest.fixture
def goal(app, session, pair):
    goal = Goal(pair_id=pair.id, learner=Role.MENTEE, title="Learn to write prompts", version=1)
    session.add(goal)
    session.flush()
    return goal


def _load(goal_id: int) -> Goal:
    return db.session.get(Goal, goal_id, populate_existing=True)


def test_a_save_over_the_current_version_writes_and_bumps_it(app, session, goal):
    with app.app_context():
        mine = _load(goal.id)
        assert save_over(mine, 1, {"title": "Write better prompts"}) is True
        assert (mine.title, mine.version) == ("Write better prompts", 2)
        assert (_load(goal.id).title, _load(goal.id).version) == ("Write better prompts", 2)


def test_the_second_save_over_the_same_version_is_a_conflict_and_writes_nothing(app, session, goal):
    with app.app_context():
        first, second = _load(goal.id), _load(goal.id)
        save_over(first, 1, {"title": "Mine"})
        with pytest.raises(Conflict) as raised:
            save_over(second, 1, {"title": "Theirs"})
        assert raised.value.current.title == "Mine"  # refreshed: the view shows what won
        assert _load(goal.id).version == 2


def test_the_same_words_are_no_change_and_the_stamp_does_not_count(app, session, goal):
    with app.app_context():
        mine = _load(goal.id)
        assert save_over(mine, 0, {"title": goal.title}, stamp={"updated_by_id": None}) is False
        assert _load(goal.id).version == 1
