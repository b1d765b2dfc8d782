"""Reading pages as a person would."""

import html
import re


def text(response) -> str:
    """The response body with HTML entities decoded, so tests can look for the words on screen."""
    return html.unescape(response.get_data(as_text=True))


def words(response) -> str:
    """Only what is read on screen: tags removed, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())
