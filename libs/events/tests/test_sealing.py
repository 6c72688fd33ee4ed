"""Secrets sealed at rest: they open only with their key and where they belong."""

from __future__ import annotations

import base64

import pytest

from slotline.events.sealing import SealedValueUnreadable, SecretBox, development_key

pytestmark = pytest.mark.unit

KEY = base64.b64encode(bytes(range(32))).decode()


def test_a_sealed_text_opens_only_where_it_belongs_and_with_its_key() -> None:
    box = SecretBox(KEY, "webhook secrets")
    sealed = box.seal_text("tenant-a/whs_1", "whsec_abc")
    assert "whsec_abc" not in sealed
    assert sealed.startswith("sealed:v1:")
    assert box.open_text("tenant-a/whs_1", sealed) == "whsec_abc"
    with pytest.raises(SealedValueUnreadable):
        box.open_text("tenant-b/whs_1", sealed)  # copied onto another record
    with pytest.raises(SealedValueUnreadable):
        SecretBox(development_key("webhook-secrets")).open_text("tenant-a/whs_1", sealed)


def test_a_value_stored_before_sealing_reads_as_it_was() -> None:
    assert SecretBox(KEY).open_text("tenant-a/whs_1", "whsec_legacy") == "whsec_legacy"


def test_the_key_is_never_shown() -> None:
    assert KEY not in repr(SecretBox(KEY))
