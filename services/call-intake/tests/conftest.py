"""Fixtures of the call-intake tests: the whole service on real PostgreSQL and Kafka,
with the clock, client and helpers of :mod:`slotline.call_intake.testing`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

import pytest

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.testing import OPEN_HOURS, Clock, Intake, settings_for
from slotline.call_intake.wiring import service_spec
from slotline.events.testing.service import running


@pytest.fixture(scope="module")
async def intake(module_database_url: str, module_kafka_bootstrap: str) -> AsyncIterator[Intake]:
    """The whole call-intake service (as wiring.py builds it) once per module, its clock
    stopped at a weekday morning. Each test uses its own tenant."""
    clock = Clock(OPEN_HOURS)
    async with running(
        service_spec(settings_for(module_database_url, module_kafka_bootstrap))
    ) as service:
        app = cast(CallIntakeApplication, service.runtime.application)
        app.clock = clock
        yield Intake(service, clock)
