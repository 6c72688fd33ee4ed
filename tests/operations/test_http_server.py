"""How each service's HTTP server runs: idle client connections outlive a load balancer's
idle timeout, so a client reusing one does not meet a reset (uvicorn's default is 5 s;
Locust's customers met 'connection reset by peer' on GET /v1/slots with it)."""

from __future__ import annotations

import pytest

from slotline.booking.settings import BookingSettings
from slotline.booking.wiring import service_spec
from slotline.events.runtime import server_config
from slotline.web.settings import WebSettings

pytestmark = pytest.mark.unit


def booking() -> BookingSettings:
    """Booking's settings with a manage-link secret of its own, not the development one."""
    return BookingSettings(manage_link_secret="own-manage-link-secret-0123456789")


def test_an_idle_connection_is_kept_75_seconds_unless_configured() -> None:
    assert server_config(service_spec(booking())).timeout_keep_alive == 75
    assert WebSettings().http_keep_alive_seconds == 75


def test_the_setting_reaches_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTLINE_HTTP_KEEP_ALIVE_SECONDS", "120")
    assert server_config(service_spec(booking())).timeout_keep_alive == 120
