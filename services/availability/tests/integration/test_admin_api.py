"""The catalog admin API over real HTTP, on a running service with PostgreSQL and Kafka.

Given/When/Then per use case: a manager sets a location up and staff read it back;
tokens, roles and tenants are enforced; bad input gets a 422 naming field and rule;
a retired item refuses change (409).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from slotline.events.auth import DEV_SECRET, TokenIssuer
from slotline.events.testing.service import RunningService

pytestmark = pytest.mark.integration

TENANT = "acme"
WEEKDAYS_9_TO_17 = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
MASSAGE = {
    "name": "60-min massage",
    "duration_minutes": 60,
    "buffer_after_minutes": 15,
    "requirements": [
        {"kind": "staff", "tags": ["massage"]},
        {"kind": "room", "tags": ["treatment"], "count": 1},
    ],
    "minimum_notice_minutes": 120,
    "booking_horizon_days": 60,
    "slot_interval_minutes": 30,
    "max_per_day_per_resource": 6,
    "price_tier": "premium",
}


@pytest.fixture
def api(service: RunningService) -> httpx.AsyncClient:
    """A client of the whole service, as wiring.py builds it, on a real port."""
    return service.client


def as_(role: str, tenant: str = TENANT) -> dict[str, str]:
    minted = TokenIssuer(DEV_SECRET).mint(f"{role}-1", tenant, [role], timedelta(minutes=5))
    return {"Authorization": f"Bearer {minted}"}


MANAGER, STAFF = as_("manager"), as_("staff")


def created(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def open_location(api: httpx.AsyncClient, headers: dict[str, str] = MANAGER) -> str:
    body = {"name": "Kifisia clinic", "time_zone": "Europe/Athens"}
    return created(await api.post("/v1/locations", json=body, headers=headers))


async def add_therapist(api: httpx.AsyncClient, location_id: str) -> str:
    body = {"kind": "staff", "name": "Eleni", "tags": ["massage"], "weekly": WEEKDAYS_9_TO_17}
    url = f"/v1/locations/{location_id}/resources"
    return created(await api.post(url, json=body, headers=MANAGER))


def rules(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(e["field"], e["rule"]) for e in response.json()["errors"]]


class TestSettingUpALocation:
    async def test_a_manager_sets_up_a_clinic_and_staff_read_it_back(
        self, api: httpx.AsyncClient
    ) -> None:
        # Given a location with a therapist, a room and a massage service
        location_id = await open_location(api)
        therapist_id = await add_therapist(api, location_id)
        room = {
            "kind": "room",
            "name": "Room 1",
            "tags": ["treatment"],
            "weekly": [{"weekday": 5, "start": "10:00", "end": "24:00"}],
            "overrides": [{"day": "2026-12-25"}],
            "time_off": [
                {"start": "2026-12-01T10:00:00+02:00", "end": "2026-12-01T12:00:00+02:00"}
            ],
        }
        room_id = created(
            await api.post(f"/v1/locations/{location_id}/resources", json=room, headers=MANAGER)
        )
        service_id = created(
            await api.post(f"/v1/locations/{location_id}/services", json=MASSAGE, headers=MANAGER)
        )

        # When the manager changes the therapist's hours, adds and replaces an override,
        # books time off, renames the location and re-tags the therapist
        schedule = {
            "weekly": [
                {"weekday": 0, "start": "08:00", "end": "12:00"},
                {"weekday": 0, "start": "13:00", "end": "18:00"},
            ],
        }
        therapist = f"/v1/resources/{therapist_id}"
        answers = [
            await api.put(f"{therapist}/schedule", json=schedule, headers=MANAGER),
            await api.post(f"{therapist}/overrides", json={"day": "2026-12-24"}, headers=MANAGER),
            await api.post(
                f"{therapist}/overrides",
                json={"day": "2026-12-24", "ranges": [{"start": "10:00", "end": "14:00"}]},
                headers=MANAGER,
            ),
            await api.post(f"{therapist}/overrides", json={"day": "2026-12-31"}, headers=MANAGER),
            await api.delete(f"{therapist}/overrides/2026-12-31", headers=MANAGER),
            await api.post(
                f"{therapist}/time-off",
                json={"start": "2027-01-04T09:00:00+02:00", "end": "2027-01-08T17:00:00+02:00"},
                headers=MANAGER,
            ),
            await api.put(
                f"/v1/locations/{location_id}",
                json={"name": "Kifisia spa", "time_zone": "Europe/Athens"},
                headers=MANAGER,
            ),
            await api.put(
                therapist,
                json={"name": "Eleni P.", "tags": ["massage", "reflexology"]},
                headers=MANAGER,
            ),
        ]
        assert [a.status_code for a in answers] == [204] * len(answers), [a.text for a in answers]

        # Then staff read everything back as it now is
        location = (await api.get(f"/v1/locations/{location_id}", headers=STAFF)).json()
        assert location == {
            "id": location_id,
            "name": "Kifisia spa",
            "time_zone": "Europe/Athens",
            "retired": False,
        }
        assert (await api.get(f"{therapist}/schedule", headers=STAFF)).json() == {
            "weekly": [
                {"weekday": 0, "start": "08:00", "end": "12:00"},
                {"weekday": 0, "start": "13:00", "end": "18:00"},
            ],
            "overrides": [{"day": "2026-12-24", "ranges": [{"start": "10:00", "end": "14:00"}]}],
            "time_off": [{"start": "2027-01-04T07:00:00Z", "end": "2027-01-08T15:00:00Z"}],
        }
        room_schedule = (await api.get(f"/v1/resources/{room_id}/schedule", headers=STAFF)).json()
        assert room_schedule["weekly"] == [{"weekday": 5, "start": "10:00", "end": "24:00"}]
        assert room_schedule["overrides"] == [{"day": "2026-12-25", "ranges": []}]
        assert room_schedule["time_off"] == [
            {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T10:00:00Z"}
        ]
        assert (await api.get(therapist, headers=STAFF)).json() == {
            "id": therapist_id,
            "location_id": location_id,
            "kind": "staff",
            "name": "Eleni P.",
            "tags": ["massage", "reflexology"],
            "retired": False,
        }
        service = (await api.get(f"/v1/services/{service_id}", headers=STAFF)).json()
        assert service == {
            **MASSAGE,
            "id": service_id,
            "location_id": location_id,
            "retired": False,
            "buffer_before_minutes": 0,
            "requirements": [
                {"kind": "staff", "tags": ["massage"], "count": 1},
                {"kind": "room", "tags": ["treatment"], "count": 1},
            ],
            "capacity": 1,
            "max_per_day_per_location": None,
        }
        services = (await api.get(f"/v1/locations/{location_id}/services", headers=STAFF)).json()
        assert [s["id"] for s in services] == [service_id]

    async def test_resources_are_listed_by_kind_and_tag_without_the_retired(
        self, api: httpx.AsyncClient
    ) -> None:
        # Given a therapist, a retired therapist and a room
        location_id = await open_location(api)
        therapist_id = await add_therapist(api, location_id)
        retired_id = await add_therapist(api, location_id)
        assert (await api.delete(f"/v1/resources/{retired_id}", headers=MANAGER)).status_code == 204
        room = {"kind": "room", "name": "Room 1", "tags": ["treatment"]}
        url = f"/v1/locations/{location_id}/resources"
        room_id = created(await api.post(url, json=room, headers=MANAGER))

        async def listed(**query: Any) -> list[str]:
            answer = await api.get(url, params=query, headers=STAFF)
            assert answer.status_code == 200, answer.text
            return [r["id"] for r in answer.json()]

        # Then the filters pick exactly the matching active resources
        assert await listed() == [therapist_id, room_id]
        assert await listed(kind="staff") == [therapist_id]
        assert await listed(tag="treatment") == [room_id]
        assert await listed(tag=["massage", "treatment"]) == []
        assert await listed(kind="staff", include_retired=True) == [therapist_id, retired_id]

    async def test_a_service_keeps_its_given_id_and_a_second_definition_with_it_conflicts(
        self, api: httpx.AsyncClient
    ) -> None:
        location_id = await open_location(api)
        url = f"/v1/locations/{location_id}/services"
        given = "0b6c3f0e-7f57-4f4e-9d7e-2b1c2f2a9a10"
        body = {**MASSAGE, "service_id": given}
        assert created(await api.post(url, json=body, headers=MANAGER)) == given

        again = await api.post(url, json=body, headers=MANAGER)

        assert again.status_code == 409, again.text
        assert given in again.json()["detail"]

    async def test_concurrent_writes_to_one_location_all_land(self, api: httpx.AsyncClient) -> None:
        """Issue 15.8: six resources and six services posted at once to one location —
        each answer is 201 and each item reads back (before: 500s, and 409s for services
        that then read 404)."""
        location_id = await open_location(api)
        resources = [
            {"kind": "staff", "name": f"Therapist {n}", "tags": ["massage"]} for n in range(6)
        ]
        services = [{**MASSAGE, "name": f"Massage {n}"} for n in range(6)]
        answers = await asyncio.gather(
            *(
                api.post(f"/v1/locations/{location_id}/resources", json=body, headers=MANAGER)
                for body in resources
            ),
            *(
                api.post(f"/v1/locations/{location_id}/services", json=body, headers=MANAGER)
                for body in services
            ),
        )
        ids = [created(answer) for answer in answers]
        assert len(set(ids)) == 12
        for resource_id in ids[:6]:
            read = await api.get(f"/v1/resources/{resource_id}", headers=STAFF)
            assert read.status_code == 200, read.text
        for service_id in ids[6:]:
            read = await api.get(f"/v1/services/{service_id}", headers=STAFF)
            assert read.status_code == 200, read.text

    async def test_updating_a_service_replaces_its_terms(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)
        url = f"/v1/locations/{location_id}/services"
        service_id = created(await api.post(url, json=MASSAGE, headers=MANAGER))

        terms = {**MASSAGE, "name": "Group yoga", "capacity": 12, "duration_minutes": 90}
        answer = await api.put(f"/v1/services/{service_id}", json=terms, headers=MANAGER)

        assert answer.status_code == 204, answer.text
        service = (await api.get(f"/v1/services/{service_id}", headers=STAFF)).json()
        assert (service["name"], service["capacity"], service["duration_minutes"]) == (
            "Group yoga",
            12,
            90,
        )


class TestAccess:
    async def test_a_request_without_a_token_is_unauthorized(self, api: httpx.AsyncClient) -> None:
        body = {"name": "Kifisia clinic", "time_zone": "Europe/Athens"}

        answer = await api.post("/v1/locations", json=body)

        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")

    async def test_staff_cannot_use_manager_routes(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)

        refused = [
            await api.post("/v1/locations", json={"name": "x", "time_zone": "UTC"}, headers=STAFF),
            await api.put(
                f"/v1/locations/{location_id}",
                json={"name": "x", "time_zone": "UTC"},
                headers=STAFF,
            ),
        ]

        assert [r.status_code for r in refused] == [403, 403]
        assert (await api.get(f"/v1/locations/{location_id}", headers=STAFF)).status_code == 200

    async def test_another_tenants_location_is_not_found(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)
        other_manager, other_staff = as_("manager", "globex"), as_("staff", "globex")
        room = {"kind": "room", "name": "Room 1"}

        answers = [
            await api.get(f"/v1/locations/{location_id}", headers=other_staff),
            await api.get(f"/v1/locations/{location_id}/resources", headers=other_staff),
            await api.put(
                f"/v1/locations/{location_id}",
                json={"name": "Taken over", "time_zone": "UTC"},
                headers=other_manager,
            ),
            await api.post(
                f"/v1/locations/{location_id}/resources", json=room, headers=other_manager
            ),
        ]

        assert [a.status_code for a in answers] == [404] * 4, [a.text for a in answers]
        assert answers[0].json()["error"] == "UnknownItem"
        location = (await api.get(f"/v1/locations/{location_id}", headers=STAFF)).json()
        assert location["name"] == "Kifisia clinic"


class TestInvalidRequests:
    async def test_an_unknown_time_zone_is_named(self, api: httpx.AsyncClient) -> None:
        body = {"name": "Base One", "time_zone": "Mars/Base"}

        answer = await api.post("/v1/locations", json=body, headers=MANAGER)

        assert rules(answer) == [("time_zone", "unknown_time_zone")]
        assert answer.json()["errors"][0]["message"] == "unknown IANA time zone 'Mars/Base'"

    async def test_weekly_hours_ending_before_they_start_are_named(
        self, api: httpx.AsyncClient
    ) -> None:
        location_id = await open_location(api)
        body = {
            "kind": "staff",
            "name": "Eleni",
            "weekly": [*WEEKDAYS_9_TO_17, {"weekday": 6, "start": "17:00", "end": "09:00"}],
        }

        answer = await api.post(
            f"/v1/locations/{location_id}/resources", json=body, headers=MANAGER
        )

        assert rules(answer) == [("weekly[5].end", "end_before_start")]

    async def test_overlapping_hours_on_one_weekday_are_named(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)
        resource_id = await add_therapist(api, location_id)
        body = {
            "weekly": [
                {"weekday": 2, "start": "09:00", "end": "13:00"},
                {"weekday": 2, "start": "12:00", "end": "18:00"},
            ]
        }

        answer = await api.put(f"/v1/resources/{resource_id}/schedule", json=body, headers=MANAGER)

        assert rules(answer) == [("weekly", "overlapping_ranges")]
        assert "weekday 2" in answer.json()["errors"][0]["message"]

    async def test_an_unknown_field_is_named(self, api: httpx.AsyncClient) -> None:
        body = {"name": "Kifisia", "time_zone": "Europe/Athens", "adress": "Kifisias 1"}

        answer = await api.post("/v1/locations", json=body, headers=MANAGER)

        assert rules(answer) == [("adress", "extra_forbidden")]

    async def test_a_requirement_of_no_resources_is_named(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)
        body = {**MASSAGE, "requirements": [{"kind": "staff", "count": 0}]}

        answer = await api.post(f"/v1/locations/{location_id}/services", json=body, headers=MANAGER)

        assert rules(answer) == [("requirements[0].count", "greater_than_equal")]

    async def test_time_off_without_an_offset_is_named(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)
        resource_id = await add_therapist(api, location_id)
        body = {"start": "2027-01-04T09:00:00", "end": "2027-01-04T08:00:00+02:00"}

        answer = await api.post(f"/v1/resources/{resource_id}/time-off", json=body, headers=MANAGER)

        assert rules(answer) == [("start", "timezone_aware")]


class TestRetiredItems:
    async def test_a_retired_resource_refuses_changes(self, api: httpx.AsyncClient) -> None:
        # Given a retired therapist
        location_id = await open_location(api)
        resource_id = await add_therapist(api, location_id)
        resource = f"/v1/resources/{resource_id}"
        assert (await api.delete(resource, headers=MANAGER)).status_code == 204

        # When the manager still tries to change it
        answers = [
            await api.put(resource, json={"name": "Eleni"}, headers=MANAGER),
            await api.put(f"{resource}/schedule", json={"weekly": []}, headers=MANAGER),
            await api.post(f"{resource}/overrides", json={"day": "2026-12-24"}, headers=MANAGER),
        ]

        # Then each change is a conflict, and the resource reads as retired
        assert [a.status_code for a in answers] == [409] * 3, [a.text for a in answers]
        assert answers[0].json()["error"] == "CatalogItemRetired"
        assert (await api.get(resource, headers=STAFF)).json()["retired"] is True
        assert (await api.delete(resource, headers=MANAGER)).status_code == 204  # idempotent

    async def test_a_retired_service_refuses_changes(self, api: httpx.AsyncClient) -> None:
        location_id = await open_location(api)
        url = f"/v1/locations/{location_id}/services"
        service_id = created(await api.post(url, json=MASSAGE, headers=MANAGER))
        assert (await api.delete(f"/v1/services/{service_id}", headers=MANAGER)).status_code == 204

        answer = await api.put(f"/v1/services/{service_id}", json=MASSAGE, headers=MANAGER)

        assert answer.status_code == 409, answer.text
        assert (await api.get(url, headers=STAFF)).json() == []


class TestEditingASchedule:
    async def test_removing_an_override_that_is_not_there_is_not_found(
        self, api: httpx.AsyncClient
    ) -> None:
        location_id = await open_location(api)
        resource_id = await add_therapist(api, location_id)

        answer = await api.delete(
            f"/v1/resources/{resource_id}/overrides/2026-12-31", headers=MANAGER
        )

        assert answer.status_code == 404, answer.text
