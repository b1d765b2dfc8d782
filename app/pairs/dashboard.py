"""What the pair's home shows, read in as few queries as the page budget allows: at most 8, the
signed-in person and the membership included (tests/test_pairs.py and tests/test_next_meeting.py
pin the counts and prove them flat as the data doubles). Each section has a fuller page elsewhere; here
only what a phone needs at a glance: the first few of each list, and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Select, bindparam, case, func, select

from app.extensions import db
from app.feedback import rounds
from app.ground_rules import agreement
from app.journal import agenda, meetings
from app.models import (
    ActionItem,
    Agreement,
    Goal,
    GoalStatus,
    Meeting,
    Milestone,
    NextMeeting,
    Pair,
    PairMember,
    Rhythm,
    Topic,
)
from app.next_meeting.pace import Pace, pace
from app.next_meeting.planning import still_ahead
from app.pairs import badges

# How many of each list the home shows; "Show all" leads to the list's own page.
HOME_TOPICS = 5
HOME_GOALS = 5


@dataclass(frozen=True)
class GoalSummary:
    id: int
    title: str
    learner: str
    milestones: int
    done: int

    @property
    def progress(self) -> int:
        return round(100 * self.done / self.milestones) if self.milestones else 0


@dataclass(frozen=True)
class Dashboard:
    planned: NextMeeting | None
    ground_rules: str  # "none", "draft", "one", "agreed" or "changed"
    i_agreed: bool
    rhythm: Rhythm
    pace: Pace
    topics: list[Topic]
    topic_count: int
    actions: list[ActionItem]
    action_count: int
    goals: list[GoalSummary]
    goal_count: int
    last_meeting: Meeting | None
    open_from_last: list[ActionItem]
    feedback_due: list[rounds.Round]
    actions_due: int  # open action items due by today that are the viewer's, or both people's

    @property
    def waiting(self) -> badges.Waiting:
        """The tab bar's badges, from what the home read anyway."""
        rules_wait = self.ground_rules in ("one", "changed") and not self.i_agreed
        return badges.Waiting(rules_wait, self.actions_due, len(self.feedback_due))


# The home's statements are built once per process with bound parameters: building a statement
# and working out its cache key cost more than running it (profiled, bench/history.py --profile).
PAIR, USER, TODAY = bindparam("pair_id"), bindparam("user_id"), bindparam("today")


@cache
def _plan_and_signoff_query() -> Select:
    current_count, mine, ever_both = badges.signoff_columns(PAIR, USER, Agreement.version)
    return (
        select(
            NextMeeting,
            Agreement.version,
            current_count,
            mine,
            ever_both,
            # The Journal tab's badge: with this, the home needs no query of its own for the badges.
            badges.actions_due_count(PAIR, USER, TODAY),
            *agreement.rhythm_columns(PAIR),
        )
        .select_from(Pair)
        .outerjoin(NextMeeting, NextMeeting.pair_id == Pair.id)
        .outerjoin(Agreement, Agreement.pair_id == Pair.id)
        .where(Pair.id == PAIR)
    )


@cache
def _recent_meetings_query() -> Select:
    return (
        select(Meeting)
        .where(Meeting.pair_id == PAIR)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(rounds.OPEN_ROUNDS)
    )


@cache
def _goals_query() -> Select:
    done = func.sum(case((Milestone.done.is_(True), 1), else_=0))
    return (
        select(Goal.id, Goal.title, Goal.learner, func.count(Milestone.id), func.coalesce(done, 0), func.count().over())
        .outerjoin(Milestone, Milestone.goal_id == Goal.id)
        .where(Goal.pair_id == PAIR, Goal.status == GoalStatus.IN_PROGRESS)
        .group_by(Goal.id)
        .order_by(Goal.target_on.is_(None), Goal.target_on, Goal.id.desc())
        .limit(HOME_GOALS)
    )


def _plan_and_signoff(membership: PairMember, today: date):
    """The next meeting, where the ground rules' sign-off stands, the person's action items due,
    and the rhythm and dates the pair agreed, in one query."""
    return db.session.execute(
        _plan_and_signoff_query(), {"pair_id": membership.pair_id, "user_id": membership.user_id, "today": today}
    ).one()


def load(membership: PairMember, today: date | None = None) -> Dashboard:
    today = today or date.today()
    pair_id = membership.pair_id
    planned, version, current, mine, ever_both, actions_due, rhythm_fields, dates_fields = _plan_and_signoff(
        membership, today
    )
    planned = still_ahead(planned)
    rhythm = Rhythm.from_fields(rhythm_fields, dates_fields)
    # The latest few meetings: the newest for "where you left off", all of them for feedback rounds.
    recent = list(db.session.scalars(_recent_meetings_query(), {"pair_id": pair_id}))
    last = recent[0] if recent else None
    found = rounds.Facts(rhythm, [(m.id, m.held_on) for m in recent if m.held_on <= today])
    goal_rows = db.session.execute(_goals_query(), {"pair_id": pair_id}).all()
    goals = [GoalSummary(*row[:5]) for row in goal_rows]
    # The first few open items, and any others of the last meeting for "where you left off".
    open_items, action_count = meetings.first_open_action_items(
        pair_id, meetings.HOME_ACTIONS, also_of=last.id if last else None
    )
    topics, topic_count = agenda.first_open(pair_id, HOME_TOPICS)
    return Dashboard(
        planned=planned,
        ground_rules=agreement.signoff_state(version is not None, current or 0, bool(ever_both)),
        i_agreed=bool(mine),
        rhythm=rhythm,
        pace=pace(rhythm, last.held_on if last else None, today),
        topics=topics,
        topic_count=topic_count,
        actions=open_items[: meetings.HOME_ACTIONS],
        action_count=action_count,
        goals=goals,
        goal_count=goal_rows[0][5] if goal_rows else 0,
        last_meeting=last,
        open_from_last=[item for item in open_items if last and item.meeting_id == last.id],
        feedback_due=rounds.due_for(membership, today, found),
        actions_due=actions_due or 0,
    )
