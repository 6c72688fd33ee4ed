"""Where a call goes, and why: a pure function of the plan, the number dialled and the time.

A route is a list of ring steps tried in order (the team, then the answering service),
then voicemail. Each step says why it was chosen, so the published ``CallRouted``
events explain every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from slotline.call_intake.domain.plan import CallPlan, Member, RingStrategy, Team

OVERFLOW_TIMEOUT_SECONDS = 30
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class RingStep:
    """One ``<Dial>``: whom to ring, for how long, and why."""

    target: str  # team:<id> or number:<e164>
    strategy: str  # simultaneous, round_robin, longest_idle or overflow
    reason: str
    numbers: tuple[str, ...]
    staff_ids: tuple[str, ...] = ()
    timeout_seconds: int = OVERFLOW_TIMEOUT_SECONDS

    def to_data(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "strategy": self.strategy,
            "reason": self.reason,
            "numbers": list(self.numbers),
            "staff_ids": list(self.staff_ids),
            "timeout_seconds": self.timeout_seconds,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RingStep:
        return cls(
            target=data["target"],
            strategy=data["strategy"],
            reason=data["reason"],
            numbers=tuple(data["numbers"]),
            staff_ids=tuple(data["staff_ids"]),
            timeout_seconds=int(data["timeout_seconds"]),
        )


@dataclass(frozen=True)
class Rotation:
    """A team's turn-taking memory: who was offered a call last, and when each was."""

    last_offered: str | None = None
    offered_at: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    steps: tuple[RingStep, ...]
    voicemail: bool
    opening: str  # open, after_hours or holiday
    team_id: str | None

    @property
    def after_hours(self) -> bool:
        return self.opening != "open"


def route_call(plan: CallPlan, dialled: str, now: datetime, rotation: Rotation) -> Route:
    """The steps a call to ``dialled`` takes at ``now``."""
    opening = plan.opening(now)
    line = plan.line(dialled)
    steps: list[RingStep] = []
    if opening == "open":
        team = plan.team(line.team_id)
        members, reason = _eligible(team, line.skill)
        chosen = choose_members(team.strategy, members, rotation)
        steps.append(
            RingStep(
                target=f"team:{team.team_id}",
                strategy=team.strategy.value,
                reason=reason,
                numbers=tuple(m.phone for m in chosen),
                staff_ids=tuple(m.staff_id for m in chosen),
                timeout_seconds=team.ring_timeout_seconds,
            )
        )
    if plan.overflow_number:
        steps.append(
            RingStep(
                target=f"number:{plan.overflow_number}",
                strategy="overflow",
                reason="team_unanswered" if opening == "open" else opening,
                numbers=(plan.overflow_number,),
            )
        )
    return Route(tuple(steps), plan.voicemail, opening, line.team_id)


def _eligible(team: Team, skill: str | None) -> tuple[list[Member], str]:
    if skill is None:
        return list(team.members), "in_hours"
    skilled = [m for m in team.members if skill in m.skills]
    if skilled:
        return skilled, f"in_hours, skill {skill}"
    return list(team.members), f"in_hours, nobody with skill {skill}"


def choose_members(
    strategy: RingStrategy, members: list[Member], rotation: Rotation
) -> list[Member]:
    """Everyone (simultaneous), the next in turn (round robin) or the longest idle."""
    if strategy is RingStrategy.SIMULTANEOUS or len(members) == 1:
        return members
    if strategy is RingStrategy.ROUND_ROBIN:
        ids = [m.staff_id for m in members]
        if rotation.last_offered in ids:
            return [members[(ids.index(rotation.last_offered) + 1) % len(members)]]
        return [members[0]]
    return [min(members, key=lambda m: rotation.offered_at.get(m.staff_id, _NEVER))]
