"""Entry point for gunicorn (``gunicorn wsgi:app``) and the CLI (``flask --app wsgi …``)."""

import sys

from app import create_app
from app.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line that says what to set, for gunicorn and `flask --app wsgi …` alike, not a traceback.
    sys.exit(f"Twoway can't start: {error}")
