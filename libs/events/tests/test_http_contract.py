"""Every service's HTTP edge: text PostgreSQL cannot store is a 422 (never a 500), a 405
names every allowed method, and the OpenAPI document says what the service answers."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from eventsourcing.persistence import IntegrityError
from fastapi import APIRouter, FastAPI, Form, Query
from pydantic import BaseModel, SecretStr
from starlette.exceptions import HTTPException as StarletteHTTPException

from slotline.events.clock import Instant
from slotline.events.contract.booking_requests import BookingCancellationRequested
from slotline.events.contract.registry import InvalidMessage, parse_message
from slotline.events.http import install_error_handlers
from slotline.events.http_contract import (
    STORABLE_TEXT,
    StorableTextGuard,
    method_not_allowed,
    refusals,
    truthful_openapi,
)
from slotline.events.text import first_unstorable, unstorable
from slotline.events.unit_of_work import ContentionTooHigh

pytestmark = pytest.mark.unit


class Note(BaseModel):
    text: str
    secret: SecretStr | None = None


def app() -> FastAPI:
    api = FastAPI()
    seen: list[str] = []

    @api.get("/things/{thing_id}")
    async def read(thing_id: str, tier: str = "standard") -> dict[str, str]:
        seen.append(tier)
        return {"thing_id": thing_id, "tier": tier}

    @api.put("/things/{thing_id}")
    async def write(thing_id: str, note: Note) -> dict[str, str]:
        return {"thing_id": thing_id, "text": note.text}

    @api.get("/tagged")
    async def tagged(tag: Annotated[list[str] | None, Query()] = None) -> list[str]:
        return tag or []

    @api.get("/metrics")
    async def metrics() -> str:
        return ""

    @api.post("/contended")
    async def contended() -> None:
        raise IntegrityError("duplicate key value violates unique constraint")  # retries spent

    hooks = APIRouter(prefix="/hooks", responses=refusals(403))

    @hooks.get("/{tenant_id}")
    async def verify(tenant_id: str, since: Instant | None = None) -> dict[str, str]:
        return {"tenant_id": tenant_id, "since": str(since)}

    @hooks.post("/{tenant_id}")
    async def receive(tenant_id: str, body: Annotated[str, Form()]) -> dict[str, str]:
        return {"tenant_id": tenant_id, "body": body}

    api.include_router(hooks)

    install_error_handlers(api, {LookupError: 404, ContentionTooHigh: 503})
    api.add_exception_handler(StarletteHTTPException, method_not_allowed)
    truthful_openapi(api, {LookupError: 404, ContentionTooHigh: 503})
    api.add_middleware(StorableTextGuard)
    return api


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app()), base_url="http://test")


class TestUnstorableText:
    def test_nul_and_lone_surrogates_are_named(self) -> None:
        assert unstorable("fine ✓ ελληνικά") is None
        assert unstorable("a\x00b") == "contains a NUL character"
        assert unstorable("a\ud800b") is not None
        assert first_unstorable({"contact": {"names": ["ok", "x\x00"]}}) == (
            "contact.names[1]",
            "contains a NUL character",
        )

    async def test_a_nul_in_a_query_parameter_is_a_422_not_a_500(self) -> None:
        async with client() as http:
            response = await http.get("/things/a?tier=%00abc")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "query.tier"
        assert "NUL" in response.json()["detail"]

    async def test_a_nul_or_lone_surrogate_in_a_json_body_is_a_422(self) -> None:
        async with client() as http:
            for text in ("\\u0000", "\\ud800"):
                response = await http.put(
                    "/things/a",
                    content=f'{{"text": "x{text}y"}}'.encode(),
                    headers={"content-type": "application/json"},
                )
                assert response.status_code == 422, text
                assert response.json()["errors"][0]["field"] == "text"

    async def test_ordinary_requests_pass_untouched(self) -> None:
        async with client() as http:
            response = await http.put("/things/a", json={"text": "ok \\u0041 ✓"})
            assert response.json() == {"thing_id": "a", "text": "ok \\u0041 ✓"}
            assert (await http.get("/things/b?tier=gold")).json()["tier"] == "gold"

    def test_a_kafka_record_with_a_nul_is_a_contract_violation_not_a_retry(self) -> None:
        raw = (
            b'{"event_type":"BookingCancellationRequested","schema_version":1,'
            b'"tenant_id":"t","aggregate_id":"b","request_id":"r\\u0000","booking_id":"b",'
            b'"channel":"web"}'
        )
        with pytest.raises(InvalidMessage, match="request_id: contains a NUL"):
            parse_message("booking.requests.v1", raw)

    def test_a_nul_in_a_field_the_reader_ignores_is_no_violation(self) -> None:
        raw = (
            b'{"event_type":"BookingCancellationRequested","schema_version":1,'
            b'"tenant_id":"t","aggregate_id":"b","request_id":"r","booking_id":"b",'
            b'"channel":"web","newer\\u0000field":"x\\u0000"}'
        )
        message = parse_message("booking.requests.v1", raw)
        assert isinstance(message, BookingCancellationRequested)


class TestMethodNotAllowed:
    async def test_the_allow_header_names_every_method_of_the_path(self) -> None:
        async with client() as http:
            response = await http.delete("/things/a")
        assert response.status_code == 405
        assert set(response.headers["allow"].split(", ")) == {"GET", "PUT"}

    async def test_routes_included_from_a_router_are_all_named(self) -> None:
        async with client() as http:
            response = await http.delete("/hooks/t1")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"


class TestWhatTheEdgeRefuses:
    async def test_a_nul_in_a_form_field_or_name_is_a_422(self) -> None:
        async with client() as http:
            for form in ("body=a%00b", "body=ok&x%00=1"):
                response = await http.post(
                    "/hooks/t1",
                    content=form,
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
                assert response.status_code == 422, form
                assert response.json()["errors"][0]["rule"] == "storable_text"
            assert (await http.post("/hooks/t1", data={"body": "fine"})).status_code == 200

    async def test_a_date_time_in_a_query_is_iso_8601_never_seconds_since_1970(self) -> None:
        async with client() as http:
            assert (await http.get("/hooks/t1?since=0.5")).status_code == 422
            response = await http.get("/hooks/t1?since=2026-12-01T09:00:00Z")
        assert response.json()["since"] == "2026-12-01 09:00:00+00:00"


class TestTheDocumentTellsTheTruth:
    def test_422_bodies_and_error_statuses_are_documented_as_answered(self) -> None:
        document = app().openapi()
        schemas = document["components"]["schemas"]
        assert "HTTPValidationError" not in schemas
        write = document["paths"]["/things/{thing_id}"]["put"]["responses"]
        assert write["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
            "InvalidRequest"
        )
        assert {"404", "503"} <= set(write)
        read = document["paths"]["/things/{thing_id}"]["get"]["responses"]
        assert "404" in read
        assert "503" not in read, "a read does not answer contention"
        metrics = document["paths"]["/metrics"]["get"]["responses"]["200"]
        assert list(metrics["content"]) == ["text/plain"]

    def test_a_declared_refusal_is_documented_with_the_problem_body(self) -> None:
        document = app().openapi()
        for method in ("get", "post"):
            refused = document["paths"]["/hooks/{tenant_id}"][method]["responses"]["403"]
            schema = refused["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/Problem")

    async def test_a_query_list_documents_that_one_value_is_a_list_of_one(self) -> None:
        """schemathesis sent ``?tag=x`` as "a string, not a list" and called its answer a
        schema-violating request accepted: on the wire the two are one request."""
        (tag,) = app().openapi()["paths"]["/tagged"]["get"]["parameters"]
        assert {"type": "string", "pattern": STORABLE_TEXT} in tag["schema"]["anyOf"]
        async with client() as http:
            assert (await http.get("/tagged", params={"tag": "x"})).json() == ["x"]

    def test_keys_and_undeclared_members_say_they_refuse_nul_as_the_edge_does(self) -> None:
        schemas = app().openapi()["components"]["schemas"]
        note = schemas["Note"]
        assert note["propertyNames"] == {"pattern": STORABLE_TEXT}
        assert note["additionalProperties"] == {"$ref": "#/components/schemas/StorableJson"}
        assert note["properties"]["text"]["pattern"] == STORABLE_TEXT
        secret = next(s for s in note["properties"]["secret"]["anyOf"] if s.get("type") == "string")
        assert secret["pattern"] == STORABLE_TEXT, "a password's format hides, it allows no NUL"


class TestContention:
    async def test_a_write_that_keeps_losing_races_is_a_503_to_send_again_never_a_500(
        self,
    ) -> None:
        async with client() as http:
            response = await http.post("/contended")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert "send the same request again" in response.json()["detail"]

    async def test_the_document_says_every_write_may_answer_503(self) -> None:
        document = app().openapi()
        assert "503" in document["paths"]["/contended"]["post"]["responses"]
        assert "503" in document["paths"]["/things/{thing_id}"]["put"]["responses"]
        assert "503" not in document["paths"]["/things/{thing_id}"]["get"]["responses"]
