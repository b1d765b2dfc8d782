"""Ending at the same moment from several places: both partners closing at once, and a closing
reflection saved by two taps, on a database whose requests commit for real."""

from __future__ import annotations

from factories import PairFactory
from sqlalchemy import func, select
from support.apps import clients_of, committed_session, own_app
from support.parallel import at_once

from app.ending import closing
from app.extensions import db
from app.models import ClosingReason, ClosingReflection, Delivery, Kind, Pair, PairEnding, PairStatus


def test_both_closing_at_once_close_it_once_and_tell_once(tmp_path):
    with own_app(tmp_path) as app:
        with committed_session(app) as session:
            pair = PairFactory()
            session.commit()
            pair_id, people = pair.id, [pair.mentor, pair.mentee]
        clients = clients_of(app, *people, *people)

        def send(client) -> int:
            return client.post(f"/pairs/{pair_id}/close", data={"reason": f"Reason of {client}"}).status_code

        answers = at_once(send, [(client,) for client in clients])
        assert answers == [303] * len(clients)
        with app.app_context():
            status, closer = db.session.execute(select(Pair.status, Pair.ended_by_id).where(Pair.id == pair_id)).one()
            notices = list(db.session.scalars(select(Delivery.user_id).where(Delivery.kind == Kind.PAIR_CLOSED)))
            reasons = list(db.session.scalars(select(ClosingReason.author_id)))
        assert status == PairStatus.ENDED
        # One notice, to whoever didn't close it; one reason, the closer's.
        assert len(notices) == 1 and notices[0] != closer
        assert reasons == [closer]


def test_two_taps_on_a_closing_reflection_save_one(tmp_path):
    with own_app(tmp_path) as app:
        with committed_session(app) as session:
            pair = PairFactory()
            session.commit()
            pair_id, mentor = pair.id, pair.mentor
        with app.app_context():
            closing.close(pair_id, PairEnding.EARLY, by=mentor.id)
            db.session.commit()
        clients = clients_of(app, mentor, mentor, mentor)

        def send(client) -> int:
            data = {"learned": "Once", "taught": "", "keep_doing": ""}
            return client.post(f"/pairs/{pair_id}/closing-reflection", data=data).status_code

        assert at_once(send, [(client,) for client in clients]) == [303, 303, 303]
        with app.app_context():
            saved = db.session.scalar(select(func.count()).select_from(ClosingReflection))
        assert saved == 1
