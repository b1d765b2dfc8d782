"""Reading pages as a person would."""

import html
import re
from html.parser import HTMLParser


def text(response) -> str:
    """The response body with HTML entities decoded, so tests can look for the words on screen."""
    return html.unescape(response.get_data(as_text=True))


# Flask-WTF's CSRF token is signed with the second it was made: two identical pages drawn a second
# apart differ in it, and in nothing else.
_CSRF_TOKEN = re.compile(r"[\w-]{40,}\.[\w-]{4,}\.[\w-]{20,}")
# Whose drafts and outbox the device keeps (base.html): the viewer's own id, like the token.
_OWNER = re.compile(r'<meta name="twoway-owner" content="[\d:]+">')


def comparable(response) -> str:
    """The page as ``text`` gives it, with its CSRF tokens and its owner's id masked: for checking
    that two answers are the same page, whenever each was drawn and whoever it was drawn for."""
    return _OWNER.sub("", _CSRF_TOKEN.sub("CSRF-TOKEN", text(response)))


def words(response) -> str:
    """Only what is read on screen: tags removed, white space collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def hidden_input(page_html: str, name_ending: str = "csrf_token") -> tuple[str, str]:
    """(name, value) of the page's first hidden input whose name ends with ``name_ending``: by
    default the CSRF token of its first form, as a browser would post it."""
    match = re.search(rf'<input[^>]*name="([^"]*{name_ending})"[^>]*value="([^"]+)"', page_html)
    assert match, f"no {name_ending} field on the page"
    return match.group(1), match.group(2)


class PageScan(HTMLParser):
    """Everything in a page that would need 'unsafe-inline' (or eval) to run under the CSP."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower(): value for name, value in attrs}
        if tag == "script" and not names.get("src"):
            self.problems.append("<script> without src")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in names.items():
            if name == "style":
                self.problems.append(f"style= attribute on <{tag}>")
            if name.startswith("on") or name.startswith("hx-on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            is_url = name in ("href", "src", "action", "formaction")
            if is_url and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name}= on <{tag}>")

    handle_startendtag = handle_starttag


def inline_code_in(page_html: str) -> list[str]:
    scan = PageScan()
    scan.feed(page_html)
    scan.close()
    return scan.problems
