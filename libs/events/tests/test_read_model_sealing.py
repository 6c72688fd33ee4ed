"""Read-model columns sealed per tenant (``slotline.events.privacy.read_models``): what
is sealed opens for its tenant only, the placeholder and rows from before sealing read
as they are, and the search pieces of a text hold those of every part of it."""

from __future__ import annotations

from slotline.events.privacy.keys import LocalKeyEncryptionKeys
from slotline.events.privacy.personal import ERASED
from slotline.events.privacy.read_models import SEALED_PREFIX, ReadModelSeal
from slotline.events.privacy.vault import MemoryKeyVault


def seal() -> ReadModelSeal:
    return ReadModelSeal(MemoryKeyVault(LocalKeyEncryptionKeys(b"k" * 32)))


def test_a_sealed_value_opens_for_its_tenant_only() -> None:
    rows = seal()
    stored = rows.seal("clinic", "Ariadne Kyriakou")
    assert stored is not None
    assert stored.startswith(SEALED_PREFIX)
    assert "Ariadne" not in stored
    assert stored != rows.seal("clinic", "Ariadne Kyriakou"), "a fresh nonce each time"
    assert rows.open("clinic", stored) == "Ariadne Kyriakou"
    assert rows.open("another", stored) == ERASED, "moved to another tenant: unreadable"


def test_the_placeholder_none_and_rows_from_before_sealing_read_as_they_are() -> None:
    rows = seal()
    assert rows.seal("clinic", ERASED) == ERASED
    assert rows.seal("clinic", None) is None
    assert rows.open("clinic", "+306912345678") == "+306912345678"
    facts = {"service": "Massage", "amount": {"amount_minor": 2000}}
    assert rows.open_json("clinic", rows.seal_json("clinic", facts)) == facts
    assert rows.open_json("clinic", facts) == facts


def test_hashes_are_per_tenant_and_kind_and_a_part_has_a_subset_of_the_pieces() -> None:
    rows = seal()
    assert rows.index("clinic", "phone", "+306912345678") == rows.index(
        "clinic", "phone", "+306912345678"
    )
    assert rows.index("clinic", "phone", "+306912345678") != rows.index(
        "other", "phone", "+306912345678"
    )
    assert rows.index("clinic", "phone", "x") != rows.index("clinic", "email", "x")
    whole = set(rows.grams("clinic", {"name": "Ariadne Kyriakou", "phone": "+30 691 234"}))
    assert set(rows.query_grams("clinic", "name", "KYRIA")) <= whole, "case folded"
    assert set(rows.query_grams("clinic", "phone", "6912")) <= whole, "by the digits"
    assert not set(rows.query_grams("clinic", "name", "6912")) <= whole, "kinds differ"
    assert rows.query_grams("clinic", "name", "A") == [], "one character: no piece"
