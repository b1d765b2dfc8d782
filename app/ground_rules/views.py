"""The ground rules pages. Registered under the ``pair`` blueprint, which has already loaded the
membership (or answered 404) before any of these run."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_login import current_user

from app import authz, htmx
from app.extensions import db
from app.forms import EmptyForm
from app.ground_rules import agreement, diff
from app.ground_rules.forms import AgreeForm, NewClauseForm, form_for
from app.models import Clause, utcnow
from app.numbers import arg_int

bp = Blueprint("ground_rules", __name__, url_prefix="/ground-rules")

TEMPLATE = "ground_rules/index.html"
# Blocks of the page that htmx may ask for by the id of the element it swaps.
PAGE_BLOCKS = ("agreement_status", "clauses")
CHANGED = "agreement-changed"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"describe": diff.describe}


def _page_context(**extra: Any) -> dict[str, Any]:
    membership = authz.current_membership()
    pair_id = membership.pair_id
    found = agreement.load(pair_id)
    context: dict[str, Any] = {"agreement": found, "started": found is not None, "form": EmptyForm()}
    if found is None:
        return context | extra
    current = agreement.clauses(pair_id)
    signoff = agreement.status(found, membership.pair.members)
    changes = []
    if signoff.state == "changed":
        changes = diff.compare(agreement.state_at(pair_id, signoff.last_both_version), agreement.current_state(current))
    rhythm = agreement.Rhythm.from_clauses(current)
    today = date.today()
    context |= {
        "clauses": current,
        "signoff": signoff,
        "changes": changes,
        "rhythm": rhythm,
        "review": [c.id for c in current if agreement.needs_review(c, rhythm.midpoint, today)],
        "agree_form": AgreeForm(version=str(found.version)),
        "new_form": NewClauseForm(),
    }
    return context | extra


def _clause_context(target: Clause, **extra: Any) -> dict[str, Any]:
    midpoint = agreement.midpoint(target.pair_id)
    return {
        "clause": target,
        "review": [target.id] if agreement.needs_review(target, midpoint, date.today()) else [],
        "form": EmptyForm(),
    } | extra


def _page(status: int = 200, **extra: Any) -> Response:
    block = htmx.target() if htmx.target() in PAGE_BLOCKS else None
    return htmx.render(TEMPLATE, block, status=status, **_page_context(**extra))


def _clause(target: Clause, status: int = 200, **extra: Any) -> Response:
    """One clause: its block for htmx, the whole page (showing it in that state) otherwise."""
    if htmx.is_htmx():
        return htmx.render(TEMPLATE, "clause", status=status, **_clause_context(target, **extra))
    return htmx.render(TEMPLATE, status=status, **_page_context(focus=target.id, **extra))


def _after_change(anchor: str | None = None) -> Response:
    location = url_for(".index") + (f"#{anchor}" if anchor else "")
    return htmx.redirect(location)


@bp.get("")
def index() -> Response:
    return _page()


@bp.post("/start")
def start() -> Response:
    agreement.start(authz.current_membership())
    db.session.commit()
    return _after_change()


@bp.get("/clauses/<int:clause_id>")
def show_clause(clause_id: int) -> Response:
    return _clause(agreement.clause(authz.current_membership().pair_id, clause_id))


@bp.get("/clauses/<int:clause_id>/edit")
def edit_clause(clause_id: int) -> Response:
    target = agreement.clause(authz.current_membership().pair_id, clause_id)
    return _clause(target, mode="edit", edit_form=form_for(target))


@bp.post("/clauses/<int:clause_id>")
def save_clause(clause_id: int) -> Response:
    membership = authz.current_membership()
    target = agreement.clause(membership.pair_id, clause_id)
    form = form_for(target, from_request=True)
    if not form.validate():
        return _clause(target, status=422, mode="edit", edit_form=form)
    try:
        changed = agreement.save(membership, target, form.base_version(), form.values())
    except agreement.Conflict as conflict:
        db.session.commit()  # keep the losing text: it is never thrown away
        mine = conflict.record
        retry = form_for(conflict.clause, values={"title": mine.title, "body": mine.body, "fields": mine.fields})
        return _clause(conflict.clause, status=409, mode="conflict", conflict=mine, edit_form=retry)
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(f"clause-{target.id}")
    response = _clause(target, saved=changed)
    return htmx.trigger(response, CHANGED) if changed else response


def _structure_changed() -> Response:
    if not htmx.is_htmx():
        return _after_change("clauses")
    return htmx.trigger(htmx.render(TEMPLATE, "clauses", **_page_context()), CHANGED)


@bp.post("/clauses")
def add_clause() -> Response:
    membership = authz.current_membership()
    if agreement.load(membership.pair_id) is None:
        return _after_change()
    form = NewClauseForm()
    if not form.validate():
        return htmx.render(TEMPLATE, "clauses" if htmx.is_htmx() else None, status=422, **_page_context(new_form=form))
    added = agreement.add(membership, form.title.data.strip(), (form.body.data or "").strip())
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(f"clause-{added.id}")
    return _structure_changed()


@bp.post("/clauses/<int:clause_id>/move")
def move_clause(clause_id: int) -> Response:
    membership = authz.current_membership()
    target = agreement.clause(membership.pair_id, clause_id)
    agreement.move(membership, target, "up" if request.form.get("direction") == "up" else "down")
    db.session.commit()
    return _structure_changed()


@bp.post("/clauses/<int:clause_id>/remove")
def remove_clause(clause_id: int) -> Response:
    membership = authz.current_membership()
    agreement.remove(membership, agreement.clause(membership.pair_id, clause_id))
    db.session.commit()
    return _structure_changed()


@bp.post("/clauses/<int:clause_id>/keep")
def keep_clause(clause_id: int) -> Response:
    target = agreement.clause(authz.current_membership().pair_id, clause_id)
    agreement.keep(target)
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change(f"clause-{target.id}")
    return _clause(target, kept=True)


@bp.post("/agree")
def agree() -> Response:
    membership = authz.current_membership()
    form = AgreeForm()
    try:
        agreement.agree(membership, int(form.version.data or 0))
    except (agreement.Stale, ValueError):
        # Nothing was written, so there is nothing to roll back.
        return _page(status=409, stale=True) if htmx.is_htmx() else _after_change("agreement_status")
    db.session.commit()
    if not htmx.is_htmx():
        return _after_change("agreement_status")
    return htmx.render(TEMPLATE, "agreement_status", **_page_context())


@bp.get("/changes")
def changes() -> Response:
    """The cheap probe an open page polls: 204 while nothing changed, else what did."""
    membership = authz.current_membership()
    found = agreement.load(membership.pair_id)
    since = arg_int("since", default=0)
    if found is None:
        return Response(status=204)
    if found.version <= since:
        # Agreeing leaves the version as it is, so the page also says how many had agreed when
        # its status was drawn; a different count means the status needs redrawing.
        shown_agreed = arg_int("agreed")
        if shown_agreed is None or shown_agreed == agreement.agreed_count(found):
            return Response(status=204)
        return jsonify(version=found.version, clauses=[], structure_changed=False)
    names = {m.user_id: m.user.first_name for m in membership.pair.members}
    revisions = agreement.changes_since(membership.pair_id, since, current_user.id)
    edited = {r.clause_id: r for r in revisions if r.action == "edited"}
    return jsonify(
        version=found.version,
        clauses=[
            {"id": cid, "by": names.get(r.author_id, "Your partner"), "url": url_for(".show_clause", clause_id=cid)}
            for cid, r in edited.items()
        ],
        structure_changed=any(r.action != "edited" for r in revisions),
    )


@bp.get("/history")
def history() -> Response:
    membership = authz.current_membership()
    versions = agreement.history(membership.pair_id)
    newest = versions[0].number if versions else 0
    to_version = arg_int("to", default=newest)
    from_version = arg_int("from", default=max(to_version - 1, 0))
    compared = diff.compare(
        agreement.state_at(membership.pair_id, from_version), agreement.state_at(membership.pair_id, to_version)
    )
    return htmx.render(
        "ground_rules/history.html",
        versions=versions,
        from_version=from_version,
        to_version=to_version,
        changes=compared,
        conflicts=agreement.conflicts(membership.pair_id),
        names={m.user_id: m.user.name for m in membership.pair.members},
    )


@bp.get("/print")
def printable() -> Response:
    return htmx.render("ground_rules/print.html", **_page_context(printed_on=utcnow()))


@bp.get("/ground-rules.md")
def download() -> Response:
    membership = authz.current_membership()
    body = render_template("ground_rules/agreement.md", **_page_context())
    response = Response(body, mimetype="text/markdown")
    response.headers["Content-Disposition"] = f'attachment; filename="twoway-ground-rules-pair-{membership.pair_id}.md"'
    return response
