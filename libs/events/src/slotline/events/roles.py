"""Who may do what: the roles a Slotline token grants, and the caller it names.

Business roles form a ladder, each including the ones below it::

    owner ⊇ manager ⊇ front_desk ⊇ staff

``analyst`` (reports, event replays) and ``channel`` (the machine identity of a
booking channel such as the web widget or the WhatsApp bot) stand apart: no role
implies them and they imply nothing. A channel credential therefore never reaches
staff routes, and an owner's session is not silently usable as a channel adapter.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """A name in a token's ``roles`` claim; what each includes is in the module docstring."""

    OWNER = "owner"
    MANAGER = "manager"
    FRONT_DESK = "front_desk"
    STAFF = "staff"
    ANALYST = "analyst"
    CHANNEL = "channel"


_ROLE_NAMES: Final = frozenset(role.value for role in Role)
_LADDER: Final = (Role.OWNER, Role.MANAGER, Role.FRONT_DESK, Role.STAFF)
_IMPLIED: Final[dict[Role, frozenset[Role]]] = {
    **{role: frozenset(_LADDER[i:]) for i, role in enumerate(_LADDER)},
    Role.ANALYST: frozenset({Role.ANALYST}),
    Role.CHANNEL: frozenset({Role.CHANNEL}),
}


def expand_roles(roles: Iterable[Role]) -> frozenset[Role]:
    """The granted roles plus every role they include (see the module docstring)."""
    return frozenset(implied for role in roles for implied in _IMPLIED[role])


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Role names to roles; unknown names raise ``ValueError`` naming all of them."""
    names = list(names)
    unknown = [name for name in names if name not in _ROLE_NAMES]
    if unknown:
        raise ValueError(
            f"unknown role(s) {', '.join(map(repr, unknown))}; known roles: {', '.join(Role)}"
        )
    return frozenset(Role(name) for name in names)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the verified content of a token."""

    subject: str
    tenant_id: str
    roles: frozenset[Role]

    @property
    def effective_roles(self) -> frozenset[Role]:
        return expand_roles(self.roles)

    def has_any(self, *roles: Role) -> bool:
        """True if the granted roles include, directly or by the ladder, one of ``roles``."""
        return not self.effective_roles.isdisjoint(roles)
