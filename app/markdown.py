"""Light Markdown for what people write: rendered, then sanitised, so it can never carry markup
of its own. Raw HTML in the source is shown as text; nh3 is the second line of defence."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).disable("image")
_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3", "h4", "hr"}
_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}


@lru_cache(maxsize=2048)
def _render(source: str) -> str:
    # Headings written as "#" would outrank the page's own: every heading becomes an h3 or h4.
    html = _parser.render(source).replace("<h1>", "<h3>").replace("</h1>", "</h3>").replace("<h2>", "<h3>")
    html = html.replace("</h2>", "</h3>").replace("<h5>", "<h4>").replace("</h5>", "</h4>")
    html = html.replace("<h6>", "<h4>").replace("</h6>", "</h4>")
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render(source: str | None) -> Markup:
    """Safe HTML for ``source``. Cached: the same clause is shown on every page view."""
    return Markup(_render(source or ""))
