"""Contact details are normalised so one person is one customer."""

from __future__ import annotations

import pytest

from slotline.booking.domain.contact import ContactDetails, InvalidContact, normalise_phone
from slotline.booking.domain.reference import ALPHABET, new_reference, normalise_reference

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("written", "region"),
    [("+30 694 123 4567", None), ("0030 6941234567", None), ("694 123 4567", "GR")],
)
def test_a_number_written_any_common_way_is_one_e164(written: str, region: str | None) -> None:
    assert normalise_phone(written, region) == "+306941234567"


@pytest.mark.parametrize("written", ["12", "+30 12", "call me"])
def test_a_number_that_is_not_one_is_refused(written: str) -> None:
    with pytest.raises(InvalidContact) as error:
        normalise_phone(written)
    assert error.value.field == "phone"


def test_the_customer_key_prefers_the_phone() -> None:
    both = ContactDetails.normalised("M", "+30 694 123 4567", "Maria@Example.COM")
    only_mail = ContactDetails.normalised("M", None, " Maria@Example.COM ")
    assert both.customer_key == "phone:+306941234567"
    assert only_mail.customer_key == "email:maria@example.com"


def test_references_are_short_unambiguous_and_typed_back_in_any_case() -> None:
    reference = new_reference(lambda letters: letters[7])
    assert reference == "SLT-" + ALPHABET[7] * 6
    assert not set(reference[4:]) & set("01OIL")
    assert normalise_reference(" slt " + reference[4:].lower()) == reference
