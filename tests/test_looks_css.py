"""app.css names every colour once, as a custom property, so dark mode (and any later section) is
one set of values: a rule that writes a colour of its own would stay light in dark mode."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).parent.parent / "app" / "static" / "css" / "app.css"
# A literal colour: hex, a colour function, or one of the names someone might reach for.
COLOUR = re.compile(
    r"#[0-9a-f]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(|"
    r"\b(?:white|black|red|green|blue|gr[ae]y|silver|teal|navy|orange|yellow|purple)\b",
    re.IGNORECASE,
)


def declarations(css: str) -> list[tuple[str, str]]:
    """(property, value) of every declaration, comments left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    return [(name.strip(), value.strip()) for name, value in re.findall(r"([-\w]+)\s*:\s*([^;{}]+)(?=[;}])", css)]


def test_every_colour_in_app_css_is_a_custom_property():
    found = declarations(CSS.read_text())
    assert len(found) > 300  # the parser sees the whole file
    literal = [f"{name}: {value}" for name, value in found if not name.startswith("--") and COLOUR.search(value)]
    assert literal == []


def test_dark_mode_sets_every_colour_the_light_scheme_sets():
    css = CSS.read_text()
    light = css[css.index(":root {") : css.index("@media screen and (prefers-color-scheme: dark)")]
    dark = css[css.index("@media screen and (prefers-color-scheme: dark)") :]
    dark = dark[: dark.index("\n}\n")]
    colours = {name for name, value in declarations(light) if name.startswith("--") and COLOUR.search(value)}
    # Print and the QR code stay dark on white in both schemes.
    colours -= {"--print-bg", "--print-fg"}
    assert colours and colours == {name for name, _ in declarations(dark) if name.startswith("--")}
