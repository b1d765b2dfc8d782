"""A big export for real: the page hands it to a Celery worker over the embedded SQLite broker,
the worker builds the ZIP and mails its owner through a real SMTP server, and the file is then
on the account page. The rest of the export's tests run tasks eagerly (tests/test_export.py)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import kombu.transport.sqlalchemy
import pytest
from factories import PairFactory, UserFactory
from sqlalchemy import select
from support.apps import clients_of, committed_session, own_app
from support.mailbox import smtp_inbox, text_of
from test_queue import RUN_QUEUE, WAIT_SECONDS, worker_of

from app.config import celery_settings
from app.idempotency import new_key
from app.models import DataExport, ExportState, Meeting, Reflection

NOTES = "Notes-for-the-worker-3c9d"
HERS = "Reflection-of-the-partner-3c9d"


@pytest.fixture
def smtp():
    with smtp_inbox() as server:
        yield server


@pytest.mark.long
def test_a_worker_builds_a_big_export_and_mails_its_owner(tmp_path, smtp, monkeypatch):
    controller, inbox = smtp
    # The worker polls the embedded broker once a second: each task would wait up to a second.
    monkeypatch.setattr(kombu.transport.sqlalchemy.Transport, "polling_interval", 0.05)
    settings = {
        **celery_settings(f"sqla+sqlite:///{tmp_path}/celery-broker.sqlite3", tmp_path),
        "task_default_queue": RUN_QUEUE,
    }
    folder = tmp_path / "exports"
    with (
        own_app(
            tmp_path,
            CELERY=settings,
            MAIL_URL=f"smtp://{controller.hostname}:{controller.port}",
            EXPORT_FOLDER=str(folder),
            EXPORT_IN_REQUEST_ROWS=1,
        ) as app,
        worker_of(app),
    ):
        with committed_session(app) as session:
            margaret = UserFactory(name="Margaret Holloway", email="margaret@example.org")
            pair = PairFactory(mentee=margaret)
            for day in (1, 2, 3):
                meeting = Meeting(pair_id=pair.id, held_on=date(2026, 3, day), author_id=margaret.id, notes=NOTES)
                session.add(meeting)
                session.flush()
                session.add(Reflection(meeting_id=meeting.id, pair_id=pair.id, author_id=pair.mentor.id, body=HERS))
            session.commit()
            (client,) = clients_of(app, margaret)

        started = client.post("/account/export", data={"idempotency_key": new_key()})
        assert started.status_code == 303 and started.location == "/account/passkeys#your-data"
        assert "preparing your export" in client.get(started.location).text

        [envelope] = inbox.wait_for(1, WAIT_SECONDS)
        assert envelope.rcpt_tos == ["margaret@example.org"]
        (mail,) = inbox.messages()
        assert mail["Subject"] == "Your Twoway export is ready"
        assert "/account/passkeys#your-data" in text_of(mail)
        assert NOTES not in mail.as_string()

        with committed_session(app) as session:
            export = session.scalars(select(DataExport)).one()
        assert export.state == ExportState.READY
        assert export.token not in mail.as_string()
        page = client.get("/account/passkeys").text
        assert "is ready" in page
        download = client.get(f"/account/export/{export.token}.zip")
        assert download.status_code == 200
        files = zipfile.ZipFile(io.BytesIO(download.data))
        everything = "".join(files.read(name).decode() for name in files.namelist())
        assert NOTES in everything and HERS not in everything
