"""The public endpoint's rate limit: per client, with a Retry-After."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from slotline.booking.http.throttle import Throttle

pytestmark = pytest.mark.unit


def test_a_client_over_its_limit_is_told_when_to_come_back() -> None:
    throttle = Throttle("2/minute")
    throttle.check("10.0.0.1", "tenant")
    throttle.check("10.0.0.1", "tenant")
    throttle.check("10.0.0.2", "tenant")  # another client has its own allowance
    with pytest.raises(HTTPException) as refused:
        throttle.check("10.0.0.1", "tenant")
    assert refused.value.status_code == 429
    assert refused.value.headers is not None
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
