"""Personal fields of stored events, sealed per subject by the event store's mapper
(declared on the event class with :func:`~slotline.events.privacy.personal.personal`),
so domains keep plain values and stay free of I/O.

``@personal("request.contact", "request.notes", subject="intake.customer_id",
tenant="request.tenant_id")`` on an event class names dotted paths into the event's
state. When the event is stored, every text inside those fields (a contact's name,
phone, e-mail; a note) is sealed with AES-GCM under the subject's data key, the tenant
and subject bound in as associated data, so a sealed text moved to another subject does
not open; the shape (keys, None, numbers, booleans) stays, so a replay after erasure
still builds the aggregate. When it is read, each sealed text opens — or, once the
subject's key is destroyed, reads as :data:`ERASED`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from slotline.events.privacy.personal import ERASED, PersonalPaths
from slotline.events.privacy.vault import KeyVault
from slotline.events.sealing import SealedValueUnreadable, SecretBox

SEALED_PREFIX = "personal:v1:"
WHOSE = "_personal"
"""The stored state's note of whose personal data it holds (tenant and subject)."""


def _get(state: dict[str, Any], path: str) -> Any:
    value: Any = state
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _walk(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _walk(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, change) for item in value]
    return value


def _replace(state: dict[str, Any], path: str, change: Callable[[str], str]) -> dict[str, Any]:
    """A copy of ``state`` with every text under ``path`` changed (copied along the path
    only: the event's own dicts are never touched)."""
    head, _, rest = path.partition(".")
    if head not in state:
        return state
    inner = state[head]
    if rest:
        if not isinstance(inner, dict):
            return state
        return {**state, head: _replace(inner, rest, change)}
    return {**state, head: _walk(inner, change)}


def _box(key: bytes) -> SecretBox:
    return SecretBox(base64.b64encode(key).decode(), "personal data")


def _bound(tenant_id: str, subject_id: str) -> bytes:
    return f"{tenant_id}|{subject_id}".encode()


def seal(state: dict[str, Any], paths: PersonalPaths, vault: KeyVault) -> dict[str, Any]:
    """The state to store: personal texts sealed under the subject's (new or known) key
    (a new one for a subject met again after erasure), and whose they are."""
    tenant = str(_get(state, paths.tenant))
    found = paths.subject(state) if callable(paths.subject) else _get(state, paths.subject)
    subject = str(found)
    key = vault.data_key(tenant, subject, create=True)
    assert key is not None  # create=True: known or made
    box, bound = _box(key), _bound(tenant, subject)

    def sealed(text: str) -> str:
        return SEALED_PREFIX + base64.b64encode(box.seal(bound, text)).decode()

    for path in paths.fields:
        state = _replace(state, path, sealed)
    return {**state, WHOSE: {"tenant": tenant, "subject": subject}}


def open_sealed(state: dict[str, Any], paths: PersonalPaths, vault: KeyVault) -> dict[str, Any]:
    """The stored state with its personal texts opened, or :data:`ERASED` where the
    subject's key is gone. A text stored before sealing (no prefix) is read as it is."""
    whose = state.pop(WHOSE, None)
    if whose is None:  # stored before sealing: nothing to open
        return state
    tenant, subject = whose["tenant"], whose["subject"]
    key: bytes | None = None
    looked_up = False
    bound = _bound(tenant, subject)

    def opened(text: str) -> str:
        nonlocal key, looked_up
        if not text.startswith(SEALED_PREFIX):
            return text
        if not looked_up:
            key, looked_up = vault.data_key(tenant, subject, create=False), True
        if key is None:
            return ERASED
        try:
            return _box(key).open(bound, base64.b64decode(text[len(SEALED_PREFIX) :]))
        except SealedValueUnreadable:
            if vault.erased_once(tenant, subject):
                return ERASED  # sealed under the key destroyed at erasure, not this one
            raise

    for path in paths.fields:
        state = _replace(state, path, opened)
    return state
