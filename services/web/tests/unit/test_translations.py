"""Every message a page can show has its Greek translation, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import slotline.web

pytestmark = pytest.mark.unit

PACKAGE = Path(slotline.web.__file__).parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def test_every_message_has_a_greek_translation_with_the_same_placeholders() -> None:
    with (PACKAGE / "locale/el/LC_MESSAGES/messages.po").open("rb") as source:
        greek = read_po(source)
    used = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), METHODS, OPTIONS
        )
    }
    assert used, "no messages found: the extraction is broken"
    for message in used:
        key = message if isinstance(message, str) else message[0]
        found = greek.get(key)
        assert found is not None, f"no Greek for {key!r}"
        assert found.string, f"no Greek for {key!r}"
        translated = found.string if isinstance(found.string, str) else found.string[-1]
        english = message if isinstance(message, str) else message[-1]
        placeholders = re.compile(r"%\(\w+\)[sd]")
        assert set(placeholders.findall(english)) == set(placeholders.findall(translated)), key
