"""Create forms make one thing however often they are sent: a double tap, a retry after a lost
answer, or four posts at the same moment. The quick-add topic box stands for every create form."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from support.apps import clients_of, committed_pair, own_app
from support.parallel import at_once
from support.records import read_back

from app.extensions import db
from app.models import Topic


def _key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def _topics(session, pair) -> list[str]:
    return read_back(session, select(Topic.text).where(Topic.pair_id == pair.id))


def test_the_same_form_sent_twice_adds_one_topic_and_answers_the_same(app, session, pair, mentee):
    key = _key(mentee.get(f"/pairs/{pair.id}").text)
    first = mentee.post(f"/pairs/{pair.id}/topics", data={"text": "Reading a pull request", "idempotency_key": key})
    again = mentee.post(f"/pairs/{pair.id}/topics", data={"text": "Reading a pull request", "idempotency_key": key})
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert _topics(session, pair) == ["Reading a pull request"]


def test_a_retried_htmx_add_gets_the_same_fragment(app, session, pair, mentee):
    key = _key(mentee.get(f"/pairs/{pair.id}").text)
    headers = {"HX-Request": "true", "HX-Target": "topics"}
    data = {"text": "Team rituals", "idempotency_key": key}
    first = mentee.post(f"/pairs/{pair.id}/topics", data=data, headers=headers)
    again = mentee.post(f"/pairs/{pair.id}/topics", data=data, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and "Team rituals" in again.text
    # The fragment's box is blank, with a new key for the next topic.
    assert _key(first.text) != key and 'value="Team rituals"' not in first.text
    assert _topics(session, pair) == ["Team rituals"]


def test_a_form_sent_back_with_an_error_keeps_its_key_and_the_corrected_one_adds(app, session, pair, mentee):
    key = _key(mentee.get(f"/pairs/{pair.id}").text)
    refused = mentee.post(f"/pairs/{pair.id}/topics", data={"text": " ", "idempotency_key": key})
    assert refused.status_code == 422 and _key(refused.text) == key
    added = mentee.post(f"/pairs/{pair.id}/topics", data={"text": "Hybrid meetings", "idempotency_key": key})
    assert added.status_code == 303
    assert _topics(session, pair) == ["Hybrid meetings"]


def test_keys_belong_to_their_person(app, session, pair, mentor, mentee, login):
    key = _key(mentee.get(f"/pairs/{pair.id}").text)
    mentee.post(f"/pairs/{pair.id}/topics", data={"text": "Hers", "idempotency_key": key})
    mentor_client = login(pair.mentor, on=app.test_client())
    mentor_client.post(f"/pairs/{pair.id}/topics", data={"text": "His", "idempotency_key": key})
    assert sorted(_topics(session, pair)) == ["Hers", "His"]


def test_parallel_copies_of_one_submission_add_one_topic(tmp_path):
    copies = 4
    with own_app(tmp_path) as app:
        pair = committed_pair(app)
        pair_id, mentee = pair.id, pair.mentee

        def send(client) -> int:
            data = {"text": "Only once", "idempotency_key": "k" * 22}
            return client.post(f"/pairs/{pair_id}/topics", data=data).status_code

        answers = at_once(send, [(client,) for client in clients_of(app, *[mentee] * copies)])
        with app.app_context():
            assert answers == [303] * copies
            assert db.session.scalar(select(func.count(Topic.id)).where(Topic.pair_id == pair_id)) == 1
