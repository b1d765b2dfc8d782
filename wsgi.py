"""Entry point for gunicorn (``gunicorn wsgi:app``), the CLI (``flask --app wsgi …``) and Celery
(``celery -A wsgi:celery worker``, ``celery -A wsgi:celery beat``)."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line that says what to set, for gunicorn and `flask --app wsgi …` alike, not a traceback.
    sys.exit(f"Twoway can't start: {error}")

celery = app.extensions["celery"]
