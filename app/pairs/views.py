"""``/``: my pairs. ``/pairs/<id>``: a pair's home, and the parent of every pair section.

The ``pair`` blueprint's ``before_request`` loads the membership (or answers 404) before any
pair view runs, so pair views never check access themselves and a new section is protected the
moment it is registered under this blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, session, url_for
from flask_login import current_user

from app import authz, htmx, page_cache
from app.ending import views as ending
from app.ending.views import bp as ending_bp
from app.extensions import db, limiter
from app.feedback.views import bp as feedback_bp
from app.goals.views import bp as goals_bp
from app.ground_rules.views import bp as ground_rules_bp
from app.idempotency import idempotent
from app.journal import agenda, meetings
from app.journal.forms import TopicForm
from app.journal.views import bp as journal_bp
from app.models import Role, Topic
from app.next_meeting.views import bp as next_meeting_bp
from app.numbers import page_number
from app.pairs import badges, changes, dashboard, landing
from app.program.views import bp as program_bp

bp = Blueprint("pairs", __name__)
pair_bp = Blueprint("pair", __name__, url_prefix="/pairs/<int:pair_id>")
# Every section of a pair hangs under the pair blueprint, which decides access for all of them.
for _section in (
    ground_rules_bp,
    goals_bp,
    journal_bp,
    feedback_bp,
    next_meeting_bp,
    program_bp,
    ending_bp,
    changes.bp,
):
    pair_bp.register_blueprint(_section)


@bp.get("/")
def index() -> Response:
    return htmx.render(
        "pairs/index.html",
        memberships=authz.memberships_of(current_user),
        intake_programs=authz.intake_programs(current_user),
    )


@bp.get("/start")
def start() -> Response:
    """The installed app's start URL: opening Twoway from the phone's home screen goes straight to
    the one pair's home, as signing in does, and shows the list of pairs otherwise."""
    where = landing.url_for_person(current_user)
    return index() if where == url_for(".index") else htmx.redirect(where)


# Pair GETs carry no rate limit (a test walks the routes to keep it so): the limiter's work of
# finding that out, on every probe and kept page, is skipped. Writes and sign-in are limited as ever.
limiter.request_filter(authz.answers_from_visit)


@pair_bp.url_value_preprocessor
def _pull_pair_id(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.pair_id = values.pop("pair_id") if values else None


@pair_bp.url_defaults
def _add_pair_id(endpoint: str, values: dict[str, Any]) -> None:
    # Inside a pair, url_for("pair.…") needs no pair_id: it stays in the same pair.
    if "pair_id" not in values and "membership" in g and current_app.url_map.is_endpoint_expecting(endpoint, "pair_id"):
        values["pair_id"] = g.membership.pair_id


@pair_bp.before_request
def _load_membership() -> Response | None:
    # What needs no objects (the live probe, a page kept since it was drawn) is answered after one
    # light read that decides access the same way; everything else loads the membership whole.
    if authz.answers_from_visit():
        g.visit = authz.visit(g.pair_id)
        if authz.is_light():
            return None
        served = page_cache.serve(g.visit)
        if served is not None:
            return served
    g.membership = authz.load_membership(g.pair_id)
    return authz.guard_closed_pair(g.membership)


@pair_bp.context_processor
def _pair_context() -> dict[str, Any]:
    membership = g.get("membership")
    if membership is None:
        return {}
    return {
        "membership": membership,
        "pair": membership.pair,
        "partner": membership.partner(),
        "changes_seen": changes.seen_by(membership),
        "badges": badges.Badges(membership),
    }


@pair_bp.get("")
def home() -> Response:
    if authz.current_membership().pair.closed:
        # A closed pair opens on what they did together, and their last words.
        return ending.closed_home()
    context = _home_context()
    return htmx.render("pairs/home.html", first_visit=_first_visit(), badges=context["board"].waiting, **context)


# session: the pairs whose home has told this person who is the mentor and who the mentee.
TOLD_ROLES = "told_roles"
TOLD_ROLES_KEPT = 20


def _first_visit() -> bool:
    """Whether this is the person's first look at the pair's home (in this browser, since signing
    in): the sentence naming their roles is said once, not on every visit. Kept in the signed
    session cookie rather than the database, so opening a page still writes nothing."""
    pair_id = authz.current_membership().pair_id
    told = session.get(TOLD_ROLES)
    told = [n for n in told if isinstance(n, int)] if isinstance(told, list) else []
    if pair_id in told:
        return False
    session[TOLD_ROLES] = [*told, pair_id][-TOLD_ROLES_KEPT:]
    return True


def _home_context(**extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    return {
        "board": dashboard.load(membership),
        "topic_form": TopicForm.blank(),
        "names": meetings.member_names(membership),
        "mentee": membership.pair.member(Role.MENTEE),
    } | extra


# The topics box of the home: the journal's agenda, kept on the home where the pair adds to it.
HOME = "pairs/home.html"
TOPICS = ("topics",)


@pair_bp.post("/topics")
@idempotent
def add_topic() -> Response:
    """The quick-add box on the pair's home: one field, one button."""
    form = TopicForm()
    if not form.validate():
        return htmx.render(HOME, blocks=TOPICS, status=422, **_home_context(topic_form=form))
    topic = agenda.add(authz.current_membership(), form.text.data.strip())
    return htmx.after_write(
        url_for(".home") + "#topics",
        HOME,
        blocks=TOPICS,
        context=lambda: _home_context(added=topic),
        notice="Added for next time.",
    )


@pair_bp.get("/topics")
def topics() -> Response:
    """Every open topic, a page at a time: the home shows the first few."""
    membership = authz.current_membership()
    page = page_number(meetings.MAX_PAGE)
    found, has_more = agenda.open_page(membership.pair_id, page)
    return htmx.render(
        "pairs/topics.html", topics=found, has_more=has_more, page=page, names=meetings.member_names(membership)
    )


@pair_bp.post("/topics/<int:topic_id>/remove")
def remove_topic(topic_id: int) -> Response:
    topic = authz.get_in_pair(Topic, topic_id)
    text = topic.text
    removed = agenda.remove(authz.current_membership(), topic)
    db.session.commit()
    return htmx.after_write(
        url_for(".home") + "#topics",
        HOME,
        blocks=TOPICS,
        context=lambda: _home_context(removed=text if removed else None),
    )
