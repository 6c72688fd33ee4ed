"""A timeline line is said from its kind and facts in the page's language; a kind the
web does not know, or a line without the facts it needs, shows booking's summary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from slotline.events.contract.timeline import LineKind
from slotline.web import i18n
from slotline.web.timeline_lines import _SAYINGS, line_text

pytestmark = pytest.mark.unit


@pytest.fixture
def greek() -> Iterator[None]:
    i18n.use("el")
    yield
    i18n.use("en")


PAID = {
    "kind": LineKind.PAYMENT_CAPTURED,
    "summary": "Paid 20.00 EUR",
    "facts": {"amount": {"amount_minor": 2000, "currency": "EUR"}},
}


class TestALineInThePagesLanguage:
    def test_a_known_kind_is_said_from_its_facts(self, greek: None) -> None:
        assert line_text(PAID) == "Πλήρωσε 20,00\xa0€"

    def test_a_booking_line_says_its_time_in_the_locations_zone(self) -> None:
        line = {
            "kind": LineKind.BOOKING_CANCELLED,
            "summary": "Cancelled Massage of Mon 07 Dec 2026 10:00",
            "facts": {
                "service": "Massage",
                "start": "2026-12-07T08:00:00+00:00",
                "time_zone": "Europe/Athens",
                "reference": "AB12",
                "reason": "",
                "change_reason": "",
            },
        }
        assert line_text(line) == "Cancelled Massage of Mon 7 Dec 10:00"

    def test_an_unknown_kind_falls_back_to_the_summary(self, greek: None) -> None:
        assert line_text({"kind": "SomethingNew", "summary": "New thing", "facts": {}}) == (
            "New thing"
        )

    def test_a_line_written_before_facts_falls_back_to_the_summary(self, greek: None) -> None:
        assert line_text({**PAID, "facts": {}}) == "Paid 20.00 EUR"


def test_every_kind_of_line_booking_names_has_a_saying() -> None:
    assert [kind for kind in LineKind if kind not in _SAYINGS] == []
