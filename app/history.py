"""Earlier words: one way to keep what a pair wrote before it was changed or removed, and what
lost a conflict, so that nothing a partner typed is erased for good.

Goals, milestones, topics and meeting notes record into one table (``PairHistory``) through
``record``; the pair reads it back through ``page``. Private reflections never come here: the
history is read by both people of the pair, a reflection by its author alone.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from sqlalchemy import select

from app import authz, htmx
from app.extensions import db
from app.models import HistoryAction, HistorySubject, PairHistory
from app.numbers import page_number

PER_PAGE = 20
MAX_PAGE = 100_000  # beyond any real history; keeps OFFSET inside a 64-bit integer

EDITED, REMOVED, LOST = HistoryAction.EDITED, HistoryAction.REMOVED, HistoryAction.LOST


def record(
    pair_id: int,
    subject: HistorySubject,
    subject_id: int,
    action: HistoryAction,
    snapshot: dict[str, Any],
    by_id: int | None,
) -> PairHistory:
    """Keep ``snapshot`` (the subject's text fields, by name) in the pair's history. Added to the
    session, written with the change it records: both are committed together, or neither."""
    if not isinstance(subject, HistorySubject):
        # Only the pair's shared things: a reflection, or anything read by one person alone,
        # must never reach a table both people read.
        raise TypeError(f"{subject!r} is not pair content")
    row = PairHistory(
        pair_id=pair_id,
        subject=subject,
        subject_id=subject_id,
        action=action,
        snapshot={key: value for key, value in snapshot.items() if value not in (None, "")},
        by_id=by_id,
    )
    db.session.add(row)
    return row


def page(pair_id: int, subjects: tuple[HistorySubject, ...], number: int = 1, per_page: int = PER_PAGE):
    """Page ``number`` (from 1 to MAX_PAGE) of the pair's history of ``subjects``, newest first, and whether an older page
    follows. One query."""
    rows = list(
        db.session.scalars(
            select(PairHistory)
            .where(PairHistory.pair_id == pair_id, PairHistory.subject.in_(subjects))
            .order_by(PairHistory.id.desc())
            .offset((number - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def render_page(subjects: tuple[HistorySubject, ...], *, heading: str, back: str) -> Response:
    """The history page of one section (``?page=N``): the latest ``PER_PAGE`` first. Three
    queries: the person, the membership with both people, the page of history."""
    membership = authz.current_membership()
    number = page_number(MAX_PAGE)
    rows, has_more = page(membership.pair_id, subjects, number)
    names = {
        m.user_id: "You" if m.user_id == membership.user_id else m.user.first_name for m in membership.pair.members
    }
    return htmx.render(
        "history/index.html", rows=rows, page=number, has_more=has_more, names=names, heading=heading, back=back
    )
