"""What booking knows of availability's catalogue: services and locations, kept from
``availability.events.v1`` so a request is checked and described without a call."""

from __future__ import annotations

from typing import Any, Protocol, cast

from eventsourcing.postgres import PostgresProcessRecorder
from psycopg import sql

from slotline.booking.domain.booking import ServiceTerms
from slotline.events.contract.availability_catalog import LocationRegistered, ServiceDefined
from slotline.events.envelope import Message
from slotline.events.unit_of_work import UnitOfWork, current_work, read_cursor

_DDL = """
CREATE TABLE IF NOT EXISTS {schema}.catalog_location (
    tenant_id text NOT NULL,
    location_id text NOT NULL,
    name text NOT NULL,
    time_zone text NOT NULL,
    address text,
    PRIMARY KEY (tenant_id, location_id)
);
CREATE TABLE IF NOT EXISTS {schema}.catalog_service (
    tenant_id text NOT NULL,
    service_id text NOT NULL,
    location_id text NOT NULL,
    name text NOT NULL,
    duration_minutes int NOT NULL,
    price_tier text NOT NULL,
    PRIMARY KEY (tenant_id, service_id)
);
"""


class ServiceCatalog(Protocol):
    """The port: what booking's use cases and adapters ask of the catalogue."""

    def record(self, message: Message, work: UnitOfWork) -> None:
        """Keep a catalogue event, in the unit of work that consumes it."""

    def service(self, tenant_id: str, service_id: str) -> ServiceTerms | None:
        """A service's terms, with its location's (None: unknown)."""

    def listing(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's locations, each with the services offered there."""


class MemoryCatalog:
    """The catalogue in memory: use cases tested without PostgreSQL (and what a unit of
    work on the in-memory store uses)."""

    def __init__(self) -> None:
        self._locations: dict[tuple[str, str], LocationRegistered] = {}
        self._services: dict[tuple[str, str], ServiceDefined] = {}

    def record(self, message: Message, work: UnitOfWork) -> None:
        match message:
            case LocationRegistered():
                self._locations[(message.tenant_id, message.location_id)] = message
            case ServiceDefined():
                self._services[(message.tenant_id, message.service_id)] = message

    def service(self, tenant_id: str, service_id: str) -> ServiceTerms | None:
        service = self._services.get((tenant_id, service_id))
        if service is None:
            return None
        location = self._locations.get((tenant_id, service.location_id))
        if location is None:
            return None
        return ServiceTerms(
            service_id=service.service_id,
            service_name=service.name,
            duration_minutes=service.duration_minutes,
            price_tier=service.price_tier,
            location_id=service.location_id,
            location_name=location.name,
            time_zone=location.time_zone,
            address=location.address,
        )

    def listing(self, tenant_id: str) -> list[dict[str, Any]]:
        return [
            {
                "location_id": location.location_id,
                "name": location.name,
                "time_zone": location.time_zone,
                "address": location.address,
                "services": [
                    {
                        "service_id": s.service_id,
                        "location_id": s.location_id,
                        "name": s.name,
                        "duration_minutes": s.duration_minutes,
                        "price_tier": s.price_tier,
                    }
                    for (tenant, _), s in sorted(self._services.items())
                    if tenant == tenant_id and s.location_id == location.location_id
                ],
            }
            for (tenant, _), location in sorted(self._locations.items())
            if tenant == tenant_id
        ]


class Catalog:
    """Services and locations per tenant, in booking's own schema."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = cast(PostgresProcessRecorder, recorder)
        self.schema = sql.Identifier(self.recorder.datastore.schema or "public")

    def create_tables(self) -> None:
        with self.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(sql.SQL(_DDL).format(schema=self.schema))

    def record(self, message: Message, work: UnitOfWork) -> None:
        """Keep a catalogue event (inside the inbox's transaction; writing with the work's
        cursor makes later messages of the batch read the new terms)."""
        cursor = work.cursor
        match message:
            case LocationRegistered():
                cursor.execute(
                    sql.SQL(
                        "INSERT INTO {}.catalog_location VALUES (%s, %s, %s, %s, %s)"
                        " ON CONFLICT (tenant_id, location_id) DO UPDATE SET name = EXCLUDED.name,"
                        " time_zone = EXCLUDED.time_zone, address = EXCLUDED.address"
                    ).format(self.schema),
                    (
                        message.tenant_id,
                        message.location_id,
                        message.name,
                        message.time_zone,
                        message.address,
                    ),
                )
            case ServiceDefined():
                cursor.execute(
                    sql.SQL(
                        "INSERT INTO {}.catalog_service VALUES (%s, %s, %s, %s, %s, %s)"
                        " ON CONFLICT (tenant_id, service_id) DO UPDATE SET"
                        " location_id = EXCLUDED.location_id, name = EXCLUDED.name,"
                        " duration_minutes = EXCLUDED.duration_minutes,"
                        " price_tier = EXCLUDED.price_tier"
                    ).format(self.schema),
                    (
                        message.tenant_id,
                        message.service_id,
                        message.location_id,
                        message.name,
                        message.duration_minutes,
                        message.price_tier,
                    ),
                )

    def service(self, tenant_id: str, service_id: str) -> ServiceTerms | None:
        """A service's terms; read once per unit of work (a batch of requests for the
        same service asks once)."""
        work = current_work()
        if work is not None and work.app.recorder is self.recorder:
            key = ("catalog_service", tenant_id, service_id)
            return work.memo(key, lambda: self._service(tenant_id, service_id))
        return self._service(tenant_id, service_id)

    def _service(self, tenant_id: str, service_id: str) -> ServiceTerms | None:
        with read_cursor(self.recorder) as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT s.service_id, s.name AS service_name, s.duration_minutes,"
                    " s.price_tier, s.location_id, l.name AS location_name, l.time_zone,"
                    " l.address FROM {schema}.catalog_service s JOIN {schema}.catalog_location l"
                    " ON l.tenant_id = s.tenant_id AND l.location_id = s.location_id"
                    " WHERE s.tenant_id = %s AND s.service_id = %s"
                ).format(schema=self.schema),
                (tenant_id, service_id),
            )
            row = cursor.fetchone()
        return ServiceTerms(**row) if row else None

    def listing(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's locations, each with the services offered there (by name)."""
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                sql.SQL(
                    "SELECT location_id, name, time_zone, address FROM {}.catalog_location"
                    " WHERE tenant_id = %s ORDER BY name"
                ).format(self.schema),
                (tenant_id,),
            )
            locations = [dict(row) for row in cursor.fetchall()]
            cursor.execute(
                sql.SQL(
                    "SELECT service_id, location_id, name, duration_minutes, price_tier"
                    " FROM {}.catalog_service WHERE tenant_id = %s ORDER BY name"
                ).format(self.schema),
                (tenant_id,),
            )
            services = [dict(row) for row in cursor.fetchall()]
        for location in locations:
            location["services"] = [
                s for s in services if s["location_id"] == location["location_id"]
            ]
        return locations
