"""Each service its own PostgreSQL role: it owns its schema and reaches nothing else —
checked on the real server, with a real service running as its role."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors

from slotline.booking.settings import BookingSettings
from slotline.booking.wiring import service_spec
from slotline.events.database_roles import ServiceRole, provision, role_for
from slotline.events.local.infra import free_port
from slotline.events.testing.service import running

pytestmark = pytest.mark.integration


def as_role(admin_url: str, role: ServiceRole) -> str:
    """The database URL with the service's role in place of the administrator."""
    parts = urlsplit(admin_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    login = f"{quote(role.role, safe='')}:{quote(role.password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=login))


ROLES = [ServiceRole("availability", "availability-pw"), ServiceRole("booking", "booking-pw")]


class TestServiceRoles:
    def test_a_role_owns_its_schema_and_is_refused_everything_else(self, database_url: str) -> None:
        with psycopg.connect(database_url, autocommit=True) as admin:  # an earlier release's
            admin.execute("CREATE SCHEMA availability")
            admin.execute("CREATE TABLE availability.events (id int)")
        provision(database_url, ROLES)
        provision(database_url, ROLES)  # again: idempotent

        availability, booking = (as_role(database_url, r) for r in ROLES)
        with psycopg.connect(availability, autocommit=True) as conn:
            conn.execute("INSERT INTO availability.events VALUES (1)")  # handed over
        with psycopg.connect(booking, autocommit=True) as conn:
            conn.execute("CREATE TABLE booking.bookings (id int)")
            conn.execute("INSERT INTO booking.bookings VALUES (1)")
            for forbidden in (
                "SELECT * FROM availability.events",
                "CREATE TABLE availability.stolen (id int)",
                "CREATE TABLE public.anything (id int)",
                "CREATE SCHEMA elsewhere",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(forbidden)

    async def test_a_service_runs_as_its_role_and_its_tables_are_its_own(
        self, database_url: str, kafka_bootstrap: str
    ) -> None:
        role = ServiceRole("booking", "booking-pw")
        provision(database_url, [role])
        settings = BookingSettings(
            database_url=as_role(database_url, role),
            kafka_bootstrap=kafka_bootstrap,
            http_port=free_port(),
        )
        async with running(service_spec(settings)) as service:
            assert (await service.client.get("/readyz")).status_code == 200
        with psycopg.connect(database_url) as admin:
            owners = {
                owner
                for (owner,) in admin.execute(
                    "SELECT tableowner FROM pg_tables WHERE schemaname = 'booking'"
                )
            }
        assert owners == {role_for("booking")}
