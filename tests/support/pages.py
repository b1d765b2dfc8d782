"""Reading pages as a person would."""

import html


def text(response) -> str:
    """The response body with HTML entities decoded, so tests can look for the words on screen."""
    return html.unescape(response.get_data(as_text=True))
