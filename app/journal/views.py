"""The session journal's pages. Registered under the ``pair`` blueprint, which has already loaded
the membership (or answered 404) before any of these run; meetings, topics and action items are
fetched only through ``authz``."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request, url_for

from app import authz, htmx, ticks, versions
from app import history as pair_history
from app.extensions import db
from app.ground_rules.agreement import rhythm
from app.idempotency import idempotent
from app.journal import agenda, meetings
from app.journal.forms import EditMeetingForm, LogMeetingForm, SearchForm, edit_form_for, reflection_form
from app.models import TOPIC_MAX, ActionItem, HistorySubject, Meeting, MeetingFormat
from app.numbers import page_number
from app.pairs import badges
from app.urls import safe_next

bp = Blueprint("journal", __name__, url_prefix="/journal")

TEMPLATE = "journal/index.html"
LOG_TEMPLATE = "journal/new.html"
SEARCH_TEMPLATE = "journal/search.html"
# The blocks of an entry htmx may ask for, by the id of the element it swaps (``entry-12``…).
ENTRY = ("entry",)
REFLECTION = ("reflection",)
ACTION = ("action",)
LOG_FORM = ("log_form",)
# What the journal's history holds.
SUBJECTS = (HistorySubject.MEETING, HistorySubject.TOPIC)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"format_labels": MeetingFormat.labels(), "snippet": meetings.snippet}


# --- the journal, and one entry ------------------------------------------------------------------


def _entries_context(entries: list[Meeting], **extra: Any) -> dict[str, Any]:
    """What the entry blocks need: names, goal titles, and the viewer's own reflections."""
    membership = authz.current_membership()
    items = [item for meeting in entries for item in meeting.action_items]
    mine = meetings.my_reflections([m.id for m in entries])
    return {
        "entries": entries,
        "names": meetings.member_names(membership),
        "goals": meetings.goal_titles(membership.pair_id, meetings.goals_of(items)),
        "reflections": mine,
        "reflection_forms": {m.id: reflection_form(m.id, mine.get(m.id)) for m in entries},
    } | extra


def _entry_context(meeting: Meeting, blocks: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    """For the block htmx asks for, only what it needs; for the whole page, the entry on a page
    of its own in the state ``extra`` asks for (editing, a conflict…)."""
    if htmx.chosen_block(blocks) is not None:
        return {"meeting": meeting, "names": meetings.member_names(authz.current_membership()), **extra}
    meetings.load_details(meeting)
    return _entries_context([meeting], single=True, **extra)


def _entry(meeting: Meeting, status: int = 200, blocks: tuple[str, ...] = ENTRY, **extra: Any) -> Response:
    """The part of an entry its author edits (date, format, length, notes) or the reflection, for
    htmx; the whole entry page otherwise."""
    return htmx.render(TEMPLATE, blocks=blocks, status=status, **_entry_context(meeting, blocks, **extra))


@bp.get("")
def index() -> Response:
    page = page_number(meetings.MAX_PAGE)
    entries, has_more = meetings.meetings_page(authz.current_membership().pair_id, page)
    return htmx.render(
        TEMPLATE,
        **_entries_context(entries, page=page, has_more=has_more, single=False, search_form=SearchForm.blank()),
    )


@bp.get("/history")
def history() -> Response:
    """Earlier words of the journal: meeting notes as they were before an edit or as they lost a
    conflict, and topics taken off the agenda. Never a reflection."""
    return pair_history.render_page(SUBJECTS, heading="Earlier words in your journal", back=url_for(".index"))


@bp.get("/meetings/<int:meeting_id>")
def show_meeting(meeting_id: int) -> Response:
    return _entry(authz.get_in_pair(Meeting, meeting_id))


@bp.get("/meetings/<int:meeting_id>/edit")
def edit_meeting(meeting_id: int) -> Response:
    meeting = authz.meeting_to_edit(meeting_id)
    return _entry(meeting, mode="edit", edit_form=edit_form_for(meeting))


@bp.post("/meetings/<int:meeting_id>")
def save_meeting(meeting_id: int) -> Response:
    meeting = authz.meeting_to_edit(meeting_id)
    form = EditMeetingForm()
    if not form.validate():
        return _entry(meeting, status=422, mode="edit", edit_form=form)
    try:
        changed = meetings.save(
            meeting, form.base_version(), form.meeting_values(), by_id=authz.current_membership().user_id
        )
    except versions.Conflict:
        # The meeting was not written; the notes typed are kept in the history (committed here)
        # and go back in the form, over the newer version.
        db.session.commit()
        retry = edit_form_for(meeting, form.meeting_values())
        return _entry(meeting, status=409, mode="conflict", edit_form=retry)
    db.session.commit()
    return htmx.after_write(
        url_for(".show_meeting", meeting_id=meeting.id),
        TEMPLATE,
        blocks=ENTRY,
        context=lambda: _entry_context(meeting, ENTRY, saved=changed),
    )


@bp.post("/meetings/<int:meeting_id>/reflection")
def save_reflection(meeting_id: int) -> Response:
    meeting = authz.get_in_pair(Meeting, meeting_id)
    form = reflection_form(meeting.id, from_request=True)
    if not form.validate():
        mine = meetings.my_reflection(meeting.id)
        return _entry(meeting, status=422, blocks=REFLECTION, mine=mine, reflection_form=form)
    body = (form.body.data or "").strip()
    try:
        mine = meetings.save_reflection(meeting, body, form.base_version())
    except versions.Conflict as conflict:
        # Saved from another tab or device since: both texts are the author's own. Show both; the
        # form keeps what was typed, over the saved version. Nothing goes to the pair's history.
        saved = conflict.current
        retry = reflection_form(meeting.id, saved, body=body)
        return _entry(
            meeting, status=409, blocks=REFLECTION, mine=saved, reflection_form=retry, reflection_conflict=True
        )
    db.session.commit()
    return htmx.after_write(
        url_for(".show_meeting", meeting_id=meeting.id) + f"#reflection-{meeting.id}",
        TEMPLATE,
        blocks=REFLECTION,
        context=lambda: {
            "meeting": meeting,
            "mine": mine,
            "reflection_form": reflection_form(meeting.id, mine),
            "reflection_saved": True,
        },
    )


# --- logging a meeting ---------------------------------------------------------------------------


def _offered(form: LogMeetingForm) -> LogMeetingForm:
    """``form`` with the pair's people and goals as the choices of each action row."""
    membership = authz.current_membership()
    return form.offer(membership.pair.members, meetings.goal_choices(membership.pair_id))


def _log_page(form: LogMeetingForm, status: int = 200, **extra: Any) -> Response:
    membership = authz.current_membership()
    if "topics" not in extra:
        # Sent back (an error, another action row): the topics ticked stay on offer, and ticked.
        extra["topics"], extra["open_count"] = agenda.for_meeting(membership.pair_id, keep=form.covered.data or ())
    return htmx.render(
        LOG_TEMPLATE,
        blocks=LOG_FORM,
        status=status,
        form=form,
        names=meetings.member_names(membership),
        **({"topic_search": ""} | extra),
    )


@bp.get("/new")
def new_meeting() -> Response:
    pair_id = authz.current_membership().pair_id
    q = request.args.get("topic", "").strip()[: TOPIC_MAX + 1]
    topics, open_count = agenda.for_meeting(pair_id, q=q)
    agreed = rhythm(pair_id).length_minutes
    defaults = {"held_on": date.today(), "length_minutes": agreed, "covered": [t.id for t in topics]}
    return _log_page(
        _offered(LogMeetingForm.blank(data=defaults)),
        topics=topics,
        open_count=open_count,
        topic_search=q,
        agreed_length=agreed,
    )


@bp.post("/new/rows")
def add_action_row() -> Response:
    """ "Add another action": the same form back, one row longer, nothing saved. Works without
    JavaScript too. A URL of its own, so it never claims the form's idempotency key."""
    form = _offered(LogMeetingForm())
    return _log_page(form, rows_full=not form.add_row())


@bp.post("/new")
@idempotent
def log_meeting() -> Response:
    membership = authz.current_membership()
    form = _offered(LogMeetingForm())
    if not form.validate():
        return _log_page(form, status=422)
    meeting = meetings.log(
        membership,
        form.meeting_values(),
        form.covered.data or [],
        form.action_values(),
        (form.reflection.data or "").strip(),
    )
    return htmx.redirect(url_for(".index") + f"#meeting-{meeting.id}")


# --- action items --------------------------------------------------------------------------------


def _back_to(anchor: str) -> str:
    """Where a plain form returns after a tick: the Twoway page it came from (the journal, an
    entry, the pair's home), else the journal."""
    referrer = urlsplit(request.referrer or "")
    ours = urlsplit(current_app.config["BASE_URL"])
    same_site = (referrer.scheme, referrer.netloc) == (ours.scheme, ours.netloc)
    back = referrer.path + (f"?{referrer.query}" if referrer.query else "") if same_site else None
    return safe_next(back, default=url_for(".index")) + f"#{anchor}"


@bp.post("/actions/<int:action_id>/toggle")
def toggle_action(action_id: int) -> Response:
    item = authz.get_in_pair(ActionItem, action_id)
    ticks.tick(item, ticks.wanted(request.form.get("done"), item.done))
    db.session.commit()

    def context() -> dict[str, Any]:
        membership = authz.current_membership()
        goals = meetings.goal_titles(membership.pair_id, meetings.goals_of([item]))
        return {"item": item, "names": meetings.member_names(membership), "goals": goals}

    # The item is swapped in place wherever it is shown (the journal, an entry, the pair's home),
    # and the Journal tab's badge of items due follows.
    return badges.with_fresh_tabs(
        htmx.after_write(_back_to(f"action-{item.id}"), TEMPLATE, blocks=ACTION, context=context)
    )


@bp.get("/actions")
def actions() -> Response:
    """Every open action item, a page at a time: the home shows the first few."""
    membership = authz.current_membership()
    page = page_number(meetings.MAX_PAGE)
    items, has_more = meetings.open_action_items_page(membership.pair_id, page)
    return htmx.render(
        "journal/actions.html",
        items=items,
        has_more=has_more,
        page=page,
        names=meetings.member_names(membership),
        goals=meetings.goal_titles(membership.pair_id, meetings.goals_of(items)),
    )


# --- search --------------------------------------------------------------------------------------


@bp.get("/search")
def search() -> Response:
    form = SearchForm(formdata=request.args)
    q = (form.q.data or "").strip()
    if not form.validate():
        return htmx.render(SEARCH_TEMPLATE, status=422, form=form, q=q, hits=None)
    hits = meetings.search(authz.current_membership().pair_id, q) if q else None
    return htmx.render(SEARCH_TEMPLATE, form=form, q=q, hits=hits)
