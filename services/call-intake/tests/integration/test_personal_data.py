"""Issue 17 items 7 and 8 in call-intake: a caller's number, voicemail transcript and
messages are sealed under the caller's key in the event store; when booking erases the
customer (``CustomerErased`` with the number's pseudonym), the key is destroyed with the
message's position, so every replay reads placeholders and the read models forget the
number — and the same number calling again is a new, readable caller."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from secrets import randbelow

import anyio
import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from slotline.call_intake.application import CallIntakeApplication
from slotline.call_intake.caller_ids import caller_id
from slotline.call_intake.domain.call import Call
from slotline.call_intake.live.projection import IntakeProjection
from slotline.call_intake.testing import Intake
from slotline.events.contract.booking import CustomerErased
from slotline.events.privacy.erasure_lock import lock_name
from slotline.events.privacy.personal import ERASED
from slotline.events.store import postgres_env
from slotline.events.testing.reading import eventually
from slotline.events.testing.service import bearer
from slotline.events.testing.stored import stored_notifications, stored_states, stored_tables
from slotline.events.wire_sealing import pseudonym

pytestmark = pytest.mark.integration


def sid() -> str:
    return f"CA{uuid.uuid4().hex}"


async def erase_caller(intake: Intake, tenant: str, caller: str) -> None:
    """Booking erased the customer with this number: its message, as booking sends it."""
    erased = CustomerErased(
        tenant_id=tenant,
        aggregate_id=str(uuid.uuid4()),
        customer_id=str(uuid.uuid4()),
        phone_pseudonym=pseudonym(tenant, caller),
        erased_at=datetime.now(UTC),
    )
    await intake.broker.publish(
        erased.to_json(), topic=erased.TOPIC, key=erased.aggregate_id.encode()
    )


def _raw_events(intake: Intake) -> bytes:
    return stored_states(intake.settings.database_url, intake.app)


def _replayed_call(intake: Intake, call_id: uuid.UUID) -> Call:
    """The call as a fresh process reads it from the store."""
    settings = intake.settings
    fresh = CallIntakeApplication(env=postgres_env(settings.database_url, settings.schema_name))
    try:
        call: Call = fresh.repository.get(call_id)
    finally:
        fresh.close()
    assert isinstance(call, Call)
    return call


def _logged_number(intake: Intake, tenant: str, call_id: uuid.UUID) -> str | None:
    """The call log's number for the call, opened (None: no row)."""
    log = sql.Identifier(intake.app.schema, "call_log")
    with psycopg.connect(intake.settings.database_url) as conn:
        query = sql.SQL("SELECT from_phone FROM {} WHERE call_id = %s").format(log)
        row = conn.execute(query, (call_id,)).fetchone()
    return None if row is None else intake.app.read_seal.open(tenant, str(row[0]))


def _key_destroyed(intake: Intake, tenant: str, caller: str) -> bool:
    keys = sql.Identifier(intake.app.schema, "personal_data_keys")
    with psycopg.connect(intake.settings.database_url) as conn:
        query = sql.SQL(
            "SELECT wrapped IS NULL FROM {} WHERE tenant_id = %s AND subject_id = %s"
        ).format(keys)
        row = conn.execute(query, (tenant, str(caller_id(tenant, caller)))).fetchone()
    return bool(row and row[0])


async def test_a_callers_number_and_transcript_are_sealed_and_erased_with_the_customer(
    intake: Intake,
) -> None:
    phone = await intake.new_tenant()
    tenant = phone.tenant_id
    digits = f"69{randbelow(10**8):08d}"
    caller = f"+30{digits}"
    transcript = f"please call me back about my knee {uuid.uuid4().hex[:6]}"
    call_sid = sid()
    await phone.missed_call(call_sid, caller)
    recording = f"RE{uuid.uuid4().hex}"
    left = await phone.post(
        "/voicemail",
        {
            "CallSid": call_sid,
            "RecordingSid": recording,
            "RecordingDuration": "12",
            "RecordingUrl": f"https://api.example/recordings/{recording}",
        },
    )
    assert left.status_code == 200, left.text
    said = await phone.post(
        "/transcription",
        {"CallSid": call_sid, "RecordingSid": recording, "TranscriptionText": transcript},
    )
    assert said.status_code == 204, said.text

    raw = await anyio.to_thread.run_sync(_raw_events, intake)
    assert digits.encode() not in raw, "the caller's number is readable in the store"
    assert transcript.encode() not in raw, "the transcript is readable in the store"
    call_id = Call.create_id(tenant, call_sid)
    kept = await anyio.to_thread.run_sync(_replayed_call, intake, call_id)
    assert (kept.from_phone, kept.transcription) == (caller, transcript)
    assert caller_id(tenant, caller) != caller_id(tenant + "x", caller)

    async def timeline_details() -> list[dict[str, object]]:
        answer = await intake.service.client.get(
            f"/v1/callers/{caller}/timeline", headers=bearer("front_desk", tenant)
        )
        assert answer.status_code == 200, answer.text
        return [line["detail"] for line in answer.json()]

    async def transcribed() -> bool:
        return any(d.get("text") == transcript for d in await timeline_details())

    await eventually(transcribed, timeout=20)  # the front desk reads it ...
    queue = await intake.service.client.get("/v1/callbacks", headers=bearer("front_desk", tenant))
    assert caller in {task["customer_phone"] for task in queue.json()}
    tables = await anyio.to_thread.run_sync(
        stored_tables, intake.settings.database_url, intake.app.schema
    )
    assert {"call_log", "callback_queue", "timeline", "party"} <= set(tables)
    for table, rows in tables.items():  # ... and a copy of the tables shows neither
        assert digits.encode() not in rows, f"the caller's number is readable in {table}"
        assert transcript.encode() not in rows, f"the transcript is readable in {table}"

    await erase_caller(intake, tenant, caller)

    async def gone() -> bool:
        call = await anyio.to_thread.run_sync(_replayed_call, intake, call_id)
        return call.from_phone == ERASED

    await eventually(gone, timeout=20)
    replayed = await anyio.to_thread.run_sync(_replayed_call, intake, call_id)
    assert replayed.transcription == ERASED
    assert replayed.miss_reason is not None, "what is not personal stays"
    with psycopg.connect(intake.settings.database_url) as conn:
        logged = conn.execute(
            f'SELECT from_phone FROM "{intake.app.schema}".call_log WHERE call_id = %s',
            (call_id,),
        ).fetchone()
    assert logged is not None
    assert logged[0] == ERASED

    again = sid()  # the same number calls back: a caller the service can read again
    await phone.missed_call(again, caller)
    back = await anyio.to_thread.run_sync(_replayed_call, intake, Call.create_id(tenant, again))
    assert back.from_phone == caller


async def _missed_call(intake: Intake) -> tuple[str, str, uuid.UUID]:
    """A missed call from a new number to a new tenant: (tenant, number, call id)."""
    phone = await intake.new_tenant()
    caller = f"+3069{randbelow(10**8):08d}"
    call_sid = sid()
    await phone.missed_call(call_sid, caller)
    return phone.tenant_id, caller, Call.create_id(phone.tenant_id, call_sid)


async def test_an_erasure_waits_for_a_read_model_batch_under_way(intake: Intake) -> None:
    """A batch that decoded a call before the erasure (the number still readable) and
    writes its row after the erasure looked must not leave the number in the call log:
    the erasure waits for the batch, then blanks what it wrote."""
    tenant, caller, call_id = await _missed_call(intake)
    schema = intake.app.schema
    url = intake.settings.database_url
    log = sql.SQL("{}.call_log").format(sql.Identifier(schema))

    def logged_number() -> str | None:
        return _logged_number(intake, tenant, call_id)

    def key_destroyed() -> bool:
        return _key_destroyed(intake, tenant, caller)

    def not_projected_yet() -> dict[str, object]:
        """As if the projection had not written the call's row when the erasure came."""
        with psycopg.connect(url, row_factory=dict_row) as conn:
            query = sql.SQL("DELETE FROM {} WHERE call_id = %s RETURNING *").format(log)
            row = conn.execute(query, (call_id,)).fetchone()
        assert row is not None
        return row

    await eventually(lambda: logged_number() == caller, timeout=20)
    row = await anyio.to_thread.run_sync(not_projected_yet)
    batch = await psycopg.AsyncConnection.connect(url)
    try:
        async with batch.transaction():  # a projection's batch: decoded, about to write
            await batch.execute(
                "SELECT pg_advisory_xact_lock_shared(hashtext(%s))", (lock_name(schema),)
            )
            await erase_caller(intake, tenant, caller)
            await anyio.sleep(2)  # the erasure has arrived and waits for the batch
            assert not await anyio.to_thread.run_sync(key_destroyed)
            columns = sql.SQL(", ").join(map(sql.Identifier, row))
            values = sql.SQL(", ").join(sql.Placeholder() * len(row))
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(log, columns, values)
            await batch.execute(insert, list(row.values()))
    finally:
        await batch.close()
    await eventually(lambda: logged_number() == ERASED, timeout=20)
    assert await anyio.to_thread.run_sync(key_destroyed)


def _unproject(intake: Intake, tenant: str, caller: str, call_id: uuid.UUID) -> None:
    """As if the projection had not written the call, its caller or their lines yet."""
    schema = intake.app.schema
    index = intake.app.read_seal.index(tenant, "phone", caller)
    with psycopg.connect(intake.settings.database_url) as conn:
        for table, column, key in (
            ("call_log", "call_id", call_id),
            ("party", "aggregate_id", caller_id(tenant, caller)),
            ("timeline", "phone_index", index),
        ):
            delete = sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                sql.Identifier(schema, table), sql.Identifier(column)
            )
            conn.execute(delete, (key,))


def _rows_about(intake: Intake, tenant: str, caller: str, call_id: uuid.UUID) -> dict[str, int]:
    """How many party and timeline rows the caller and the call have."""
    schema = intake.app.schema
    with psycopg.connect(intake.settings.database_url) as conn:
        party = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE aggregate_id = %s").format(
                sql.Identifier(schema, "party")
            ),
            (caller_id(tenant, caller),),
        ).fetchone()
        lines = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE tenant_id = %s AND ref = %s").format(
                sql.Identifier(schema, "timeline")
            ),
            (tenant, str(call_id)),
        ).fetchone()
    assert party is not None
    assert lines is not None
    return {"party": int(party[0]), "timeline": int(lines[0])}


async def test_a_batch_projected_after_the_erasure_writes_no_number_back_whatever_it_cached(
    intake: Intake,
) -> None:
    """Another replica keeps a caller's key cached for a while after an erasure: a batch
    it projects then (here: the call, not yet in the read models when the erasure came)
    must write the placeholder, not the number, and no line or party row for them."""
    tenant, caller, call_id = await _missed_call(intake)
    await eventually(lambda: _logged_number(intake, tenant, call_id) == caller, timeout=20)
    settings = intake.settings
    replica = CallIntakeApplication(env=postgres_env(settings.database_url, settings.schema_name))
    try:
        read: Call = await anyio.to_thread.run_sync(replica.repository.get, call_id)
        assert read.from_phone == caller, "the replica has the caller's key"
        await anyio.to_thread.run_sync(_unproject, intake, tenant, caller, call_id)
        await erase_caller(intake, tenant, caller)
        await eventually(lambda: _key_destroyed(intake, tenant, caller), timeout=20)
        assert await anyio.to_thread.run_sync(_logged_number, intake, tenant, call_id) is None

        batch = await anyio.to_thread.run_sync(
            stored_notifications,
            settings.database_url,
            intake.app,
            [call_id, caller_id(tenant, caller)],
        )
        view = IntakeProjection(
            replica, database_url=settings.database_url, name=f"view-replica-{uuid.uuid4().hex}"
        )
        await anyio.to_thread.run_sync(view.project, batch)
    finally:
        replica.close()

    assert await anyio.to_thread.run_sync(_logged_number, intake, tenant, call_id) == ERASED
    about = await anyio.to_thread.run_sync(_rows_about, intake, tenant, caller, call_id)
    assert about == {"party": 0, "timeline": 0}
