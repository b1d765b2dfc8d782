"""The ground rules pages. Registered under the ``pair`` blueprint, which has already loaded the
membership (or answered 404) before any of these run."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, g, jsonify, render_template, request, url_for
from werkzeug.wrappers import Request

from app import authz, htmx, versions
from app.extensions import db
from app.ground_rules import agreement, diff
from app.ground_rules.forms import AgreeForm, NewClauseForm, form_for, restore_form
from app.idempotency import idempotent
from app.models import Clause, ClauseKind, utcnow
from app.numbers import arg_int

bp = Blueprint("ground_rules", __name__, url_prefix="/ground-rules")

TEMPLATE = "ground_rules/index.html"
# The blocks of the page htmx swaps, named after the ids they replace (a clause's is clause-<id>).
INDEX_BLOCKS = ("agreement_status", "clauses")
CLAUSE_BLOCKS = ("clause",)
CHANGED = "agreement-changed"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"describe": diff.describe}


def _page_context(*, with_changes: bool = True, **extra: Any) -> dict[str, Any]:
    """Everything the page shows. Every form in it is drawn blank: a failed or finished POST never
    leaks into the Agree button (whose version must be the current one) or the "Add a clause" box."""
    membership = authz.current_membership()
    pair_id = membership.pair_id
    found = agreement.load(pair_id)
    context: dict[str, Any] = {"agreement": found, "started": found is not None}
    if found is None:
        return context | extra
    current = agreement.clauses(pair_id)
    signoff = agreement.status(found, membership.pair.members)
    changes = []
    if with_changes and signoff.state == "changed":
        changes = diff.compare(agreement.state_at(pair_id, signoff.last_both_version), agreement.current_state(current))
    rhythm = agreement.Rhythm.from_clauses(current)
    today = date.today()
    context |= {
        "clauses": current,
        "signoff": signoff,
        "changes": changes,
        "rhythm": rhythm,
        "review": [c.id for c in current if agreement.needs_review(c, rhythm.midpoint, today)],
        "list_ends": (current[0].id, current[-1].id) if current else (None, None),
        "agree_form": AgreeForm.blank(version=str(found.version)),
        "new_form": NewClauseForm.blank(),
    }
    return context | extra


def _clause_context(target: Clause, **extra: Any) -> dict[str, Any]:
    rhythm, ends = agreement.rhythm_and_ends(target.pair_id)
    return {
        "clause": target,
        "review": [target.id] if agreement.needs_review(target, rhythm.midpoint, date.today()) else [],
        "list_ends": ends,
    } | extra


def _clause(target: Clause, status: int = 200, **extra: Any) -> Response:
    """One clause: its block when htmx swaps that clause, else the whole page showing it in that state."""
    if htmx.chosen_block(CLAUSE_BLOCKS):
        return htmx.render(TEMPLATE, blocks=CLAUSE_BLOCKS, status=status, **_clause_context(target, **extra))
    context = _page_context(focus=target.id, **extra)
    if target.removed:  # dropped while being edited: shown where it stood, holding what was typed
        context["clauses"] = sorted([*context["clauses"], target], key=lambda c: c.position)
    return htmx.render(TEMPLATE, status=status, **context)


def _location(anchor: str | None = None) -> str:
    return url_for(".index") + (f"#{anchor}" if anchor else "")


def _clauses_changed(anchor: str = "clauses") -> Response:
    """After a clause was added, moved or dropped: the list for htmx (telling the page the
    agreement moved on), the page at ``anchor`` otherwise."""
    return htmx.trigger(
        htmx.after_write(_location(anchor), TEMPLATE, blocks=("clauses",), context=_page_context), CHANGED
    )


@bp.get("")
def index() -> Response:
    return htmx.render(TEMPLATE, blocks=INDEX_BLOCKS, **_page_context())


@bp.post("/start")
def start() -> Response:
    agreement.start(authz.current_membership())
    db.session.commit()
    return htmx.after_write(_location())


@bp.get("/clauses/<int:clause_id>")
def show_clause(clause_id: int) -> Response:
    return _clause(authz.get_clause(clause_id))


@bp.get("/clauses/<int:clause_id>/edit")
def edit_clause(clause_id: int) -> Response:
    target = authz.get_clause(clause_id)
    return _clause(target, mode="edit", edit_form=form_for(target))


@bp.post("/clauses/<int:clause_id>")
def save_clause(clause_id: int) -> Response:
    membership = authz.current_membership()
    target = authz.get_clause(clause_id, dropped_too=True)
    form = form_for(target, from_request=True)
    if not form.validate():
        return _clause(target, status=422, mode="edit", edit_form=form)
    try:
        changed = agreement.save(membership, target, form.base_version(), form.values())
    except versions.Conflict as conflict:
        db.session.commit()  # keep the losing text: it is never thrown away
        mine = conflict.lost
        if conflict.current.removed:
            # The partner dropped it meanwhile: the words are kept, and offered back as a new clause.
            body = mine.body if mine.kind == ClauseKind.TEXT else diff.describe(mine.kind, mine.fields)
            restore = restore_form(conflict.current, title=mine.title, body=body)
            return _clause(conflict.current, status=409, mode="dropped", restore_form=restore)
        retry = form_for(conflict.current, values={"title": mine.title, "body": mine.body, "fields": mine.fields})
        return _clause(conflict.current, status=409, mode="conflict", conflict=mine, edit_form=retry)
    db.session.commit()
    response = htmx.after_write(
        _location(f"clause-{target.id}"),
        TEMPLATE,
        blocks=CLAUSE_BLOCKS,
        context=lambda: _clause_context(target, saved=changed),
    )
    return htmx.trigger(response, CHANGED) if changed else response


@bp.post("/clauses")
@idempotent
def add_clause() -> Response:
    """The "Add a clause" box. A double tap or a retry adds the clause once (``@idempotent``
    commits the clause and the answer together)."""
    membership = authz.current_membership()
    if agreement.load(membership.pair_id) is None:
        return htmx.after_write(_location())
    form = NewClauseForm()
    if not form.validate():
        return htmx.render(TEMPLATE, blocks=("clauses",), status=422, **_page_context(new_form=form))
    added = agreement.add(membership, form.title.data.strip(), (form.body.data or "").strip())
    return _clauses_changed(f"clause-{added.id}")


@bp.post("/clauses/<int:clause_id>/move")
def move_clause(clause_id: int) -> Response:
    membership = authz.current_membership()
    target = authz.get_clause(clause_id)
    agreement.move(membership, target, "up" if request.form.get("direction") == "up" else "down")
    db.session.commit()
    return _clauses_changed()


@bp.post("/clauses/<int:clause_id>/remove")
def remove_clause(clause_id: int) -> Response:
    membership = authz.current_membership()
    agreement.remove(membership, authz.get_clause(clause_id))
    db.session.commit()
    return _clauses_changed()


@bp.post("/clauses/<int:clause_id>/keep")
def keep_clause(clause_id: int) -> Response:
    target = authz.get_clause(clause_id)
    agreement.keep(target)
    db.session.commit()
    return htmx.after_write(
        _location(f"clause-{target.id}"),
        TEMPLATE,
        blocks=CLAUSE_BLOCKS,
        context=lambda: _clause_context(target, kept=True),
    )


@bp.post("/agree")
def agree() -> Response:
    membership = authz.current_membership()
    form = AgreeForm()
    try:
        agreement.agree(membership, int(form.version.data or 0))
    except (agreement.Stale, ValueError):
        # Nothing was written. The status comes back with a fresh Agree button for the current
        # version, so the next press agrees to what is now on the page.
        return htmx.render(TEMPLATE, blocks=("agreement_status",), status=409, **_page_context(stale=True))
    db.session.commit()
    return htmx.after_write(
        _location("agreement_status"), TEMPLATE, blocks=("agreement_status",), context=_page_context
    )


def _probe(visit: authz.Visit, asked: Request) -> Response | None:
    """The probe's answer from the read that decided access, or None once there are edits to tell."""
    version, agreed = visit.extra
    since = arg_int("since", default=0, args=asked.args)
    if version is None:
        return Response(status=204)
    if version > since:
        return None
    # Agreeing leaves the version as it is, so the page also says how many had agreed when its
    # status was drawn; a different count means the status needs redrawing.
    shown_agreed = arg_int("agreed", args=asked.args)
    if shown_agreed is None or shown_agreed == agreed:
        return Response(status=204)
    return jsonify(version=version, clauses=[], structure_changed=False)


@bp.get("/changes")
@authz.light(*agreement.PROBE_COLUMNS, quick=_probe)
def changes() -> Response:
    """The cheap probe an open page polls: 204 while nothing changed, else what did. Answered from
    the read that decided access (most often by app/light.py, before Flask's request cycle), until
    there is something to tell."""
    visit = authz.visit(g.pair_id)
    answer = _probe(visit, request)
    if answer is not None:
        return answer
    version = visit.extra[0]
    since = arg_int("since", default=0)
    membership = authz.current_membership()
    names = {m.user_id: m.user.first_name for m in membership.pair.members}
    revisions = agreement.changes_since(membership.pair_id, since, membership.user_id)
    edited = {r.clause_id: r for r in revisions if r.action == "edited"}
    structural = [r for r in revisions if r.action != "edited"]
    return jsonify(
        version=version,
        clauses=[
            {"id": cid, "by": names.get(r.author_id, "Your partner"), "url": url_for(".show_clause", clause_id=cid)}
            for cid, r in edited.items()
        ],
        structure_changed=bool(structural),
        structure_by=names.get(structural[-1].author_id, "Your partner") if structural else None,
        structure_version=max((r.agreement_version for r in structural), default=None),
    )


@bp.get("/history")
def history() -> Response:
    membership = authz.current_membership()
    saved = agreement.history(membership.pair_id)
    newest = saved[0].number if saved else 0
    to_version = arg_int("to", default=newest)
    from_version = arg_int("from", default=max(to_version - 1, 0))
    compared = diff.compare(
        agreement.state_at(membership.pair_id, from_version), agreement.state_at(membership.pair_id, to_version)
    )
    return htmx.render(
        "ground_rules/history.html",
        versions=saved,
        from_version=from_version,
        to_version=to_version,
        changes=compared,
        conflicts=agreement.conflicts(membership.pair_id),
        names={m.user_id: m.user.name for m in membership.pair.members},
    )


@bp.get("/print")
def printable() -> Response:
    return htmx.render("ground_rules/print.html", **_page_context(with_changes=False, printed_on=utcnow()))


@bp.get("/ground-rules.md")
def download() -> Response:
    membership = authz.current_membership()
    body = render_template("ground_rules/agreement.md", **_page_context(with_changes=False))
    response = Response(body, mimetype="text/markdown")
    response.headers["Content-Disposition"] = f'attachment; filename="twoway-ground-rules-pair-{membership.pair_id}.md"'
    return response
