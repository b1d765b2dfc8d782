"""The task queue: Celery, bound to the Flask app as the Flask docs' "Background Tasks with Celery"
describes. Tasks are declared with ``shared_task`` in the feature that owns them and queued with
``enqueue``, which never lets a broker that is down or stuck turn a page into an error.

Run a worker with ``celery -A wsgi:celery worker`` and the scheduler with ``celery -A wsgi:celery
beat``; ``make run`` starts both beside gunicorn (see the Procfile).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task, shared_task
from flask import Flask, current_app
from kombu.exceptions import OperationalError
from sqlalchemy import column, create_engine, delete, table
from sqlalchemy.exc import OperationalError as DatabaseError


def celery_init_app(app: Flask) -> Celery:
    """A Celery app for ``app`` whose tasks run inside ``app``'s application context, configured
    from ``app.config["CELERY"]`` (built by app/config.py). Kept in ``app.extensions["celery"]``."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # A context of its own even when run eagerly inside a request: its own database session.
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    # Import the modules that declare tasks, so a worker knows them all.
    celery_app.conf.imports = TASK_MODULES
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


# Every module that declares a task.
TASK_MODULES = (
    "app.auth.links",
    "app.reminders.sending",
    "app.reminders.passes",
    "app.admin.snapshots",
    "app.ending.passes",
    "app.export.tasks",
    "app.queue",
)


def enqueue(task: Task, *args: Any, countdown: float | None = None) -> bool:
    """Queue ``task`` with ``args`` on the current Flask app's Celery app. The broker is given a
    few bounded tries (``task_publish_retry_policy``); if it still can't take the task, the error
    is logged and False returned: the page answers as usual, and whatever was to happen doesn't
    (a sign-in mail: the person can ask again)."""
    celery_app: Celery = current_app.extensions["celery"]
    try:
        celery_app.tasks[task.name].apply_async(args=args, countdown=countdown)
    # Redis errors arrive as Kombu's; the embedded broker's as SQLAlchemy's (a locked or lost file).
    except (OperationalError, DatabaseError, OSError):
        current_app.logger.exception("The task queue is unreachable: %s was not queued", task.name)
        return False
    return True


@shared_task(name="twoway.purge_consumed_messages")
def purge_consumed_messages() -> int:
    """Delete the tasks the embedded broker has handed out: Kombu's SQLAlchemy transport keeps
    them (marked invisible), and they carry addresses and sign-in links. Beat runs it every
    BROKER_PURGE_SECONDS; Redis deletes a task once it is taken, so there it does nothing."""
    url = current_app.config["CELERY"]["broker_url"]
    if not url.startswith("sqla+"):
        return 0
    engine = create_engine(url.removeprefix("sqla+"))
    try:
        with engine.begin() as connection:
            messages = table("kombu_message", column("visible"))
            return connection.execute(delete(messages).where(messages.c.visible.is_(False))).rowcount
    finally:
        engine.dispose()
