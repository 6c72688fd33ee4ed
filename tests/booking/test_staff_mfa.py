"""Issue 17 item 16: staff sign in with a second factor — a TOTP app enrolled with
recovery codes; an owner can require it for the tenant or reset a member's; wrong codes
are limited and every attempt is on the audit trail. Over HTTP, on PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import psycopg
import pyotp
import pytest

from slotline.events.testing.service import bearer

from .conftest import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MFA = "/v1/staff/me/mfa"


def _someone() -> tuple[str, str]:
    return f"t-{uuid4().hex[:10]}", f"desk-{uuid4().hex[:6]}"


async def _enrolled(stack: Stack, tenant: str, staff: str) -> tuple[pyotp.TOTP, list[str]]:
    me = bearer("front_desk", tenant, staff)
    client = stack.booking.client
    started = await client.post(f"{MFA}/enrolment", headers=me)
    assert started.status_code == 201, started.text
    enrolment = started.json()
    totp = pyotp.TOTP(enrolment["secret"])
    assert enrolment["uri"] == totp.provisioning_uri(name=staff, issuer_name="Slotline")
    assert len(set(enrolment["recovery_codes"])) == 10
    wrong = f"{(int(totp.now()) + 1) % 10**6:06d}"
    refused = await client.post(f"{MFA}/enrolment/confirmation", json={"code": wrong}, headers=me)
    assert refused.status_code == 403, refused.text
    assert (await client.get(MFA, headers=me)).json()["enrolled"] is False
    confirmed = await client.post(
        f"{MFA}/enrolment/confirmation", json={"code": totp.now()}, headers=me
    )
    assert confirmed.status_code == 204, confirmed.text
    return totp, enrolment["recovery_codes"]


async def _trail(stack: Stack, tenant: str, staff: str) -> list[str]:
    answer = await stack.booking.client.get(
        f"/v1/audit?item_kind=staff_mfa&item_id={staff}", headers=bearer("owner", tenant)
    )
    assert answer.status_code == 200, answer.text
    return [entry["action"] for entry in reversed(answer.json())]


async def test_an_enrolled_code_works_once_and_each_recovery_code_once(stack: Stack) -> None:
    tenant, staff = _someone()
    me = bearer("front_desk", tenant, staff)
    client = stack.booking.client
    assert (
        await client.post(f"{MFA}/challenge", json={"code": "123456"}, headers=me)
    ).status_code == 409
    totp, codes = await _enrolled(stack, tenant, staff)

    status = (await client.get(MFA, headers=me)).json()
    assert status == {"enrolled": True, "required": False, "recovery_codes_left": 10}
    again = await client.post(f"{MFA}/enrolment", headers=me)
    assert again.status_code == 409  # an owner resets a confirmed one

    # the code that confirmed the enrolment was used: replaying it signs no one in
    replayed = await client.post(f"{MFA}/challenge", json={"code": totp.now()}, headers=me)
    assert replayed.status_code == 403, replayed.text
    recovered = await client.post(f"{MFA}/challenge", json={"code": codes[3]}, headers=me)
    assert recovered.status_code == 204, recovered.text
    spent = await client.post(f"{MFA}/challenge", json={"code": codes[3]}, headers=me)
    assert spent.status_code == 403
    assert (await client.get(MFA, headers=me)).json()["recovery_codes_left"] == 9

    # another staff member's code is no use to this one
    other_tenant, other = _someone()
    _, their_codes = await _enrolled(stack, other_tenant, other)
    borrowed = await client.post(f"{MFA}/challenge", json={"code": their_codes[0]}, headers=me)
    assert borrowed.status_code == 403

    assert await _trail(stack, tenant, staff) == [
        "mfa challenge: not_enrolled",
        "mfa enrolment started",
        "mfa enrolment: wrong",
        "mfa enrolment: verified",
        "mfa challenge: wrong",
        "mfa challenge: verified",
        "mfa challenge: wrong",
        "mfa challenge: wrong",
    ]


async def test_five_wrong_codes_lock_the_member_until_an_owner_resets_them(stack: Stack) -> None:
    tenant, staff = _someone()
    me = bearer("front_desk", tenant, staff)
    client = stack.booking.client
    _, codes = await _enrolled(stack, tenant, staff)
    answers = [
        (await client.post(f"{MFA}/challenge", json={"code": f"00000{n}"}, headers=me))
        for n in range(5)
    ]
    assert [a.status_code for a in answers] == [403, 403, 403, 403, 429]
    # locked: even a right recovery code is not looked at until the window ends
    locked = await client.post(f"{MFA}/challenge", json={"code": codes[0]}, headers=me)
    assert locked.status_code == 429
    assert 800 < int(locked.headers["Retry-After"]) <= 901
    assert "too many" in locked.json()["detail"]

    desk = bearer("front_desk", tenant, "someone-else")
    assert (await client.delete(f"/v1/staff/members/{staff}/mfa", headers=desk)).status_code == 403
    owner = bearer("owner", tenant, "the-owner")
    assert (await client.delete(f"/v1/staff/members/{staff}/mfa", headers=owner)).status_code == 204
    assert (await client.delete(f"/v1/staff/members/{staff}/mfa", headers=owner)).status_code == 404
    assert (await client.get(MFA, headers=me)).json()["enrolled"] is False
    await _enrolled(stack, tenant, staff)  # enrols again, with new codes

    trail = await _trail(stack, tenant, staff)
    assert trail.count("mfa challenge: wrong") == 4
    assert trail.count("mfa challenge: locked") == 2
    assert "mfa reset" in trail


async def test_an_owner_requires_a_second_factor_for_the_tenant(stack: Stack) -> None:
    tenant, staff = _someone()
    client = stack.booking.client
    me = bearer("front_desk", tenant, staff)
    required = {"required": True}
    refused = await client.put("/v1/staff/mfa-policy", json=required, headers=me)
    assert refused.status_code == 403
    owner = bearer("owner", tenant)
    assert (
        await client.put("/v1/staff/mfa-policy", json=required, headers=owner)
    ).json() == required
    assert (await client.get("/v1/staff/mfa-policy", headers=me)).json() == required
    assert (await client.get(MFA, headers=me)).json()["required"] is True
    other_tenant, other = _someone()
    theirs = bearer("front_desk", other_tenant, other)
    assert (await client.get(MFA, headers=theirs)).json()["required"] is False
    assert (await _trail(stack, tenant, "policy")) == ["mfa required: True"]


async def test_no_secret_or_recovery_code_is_stored_in_clear(stack: Stack) -> None:
    tenant, staff = _someone()
    started = await stack.booking.client.post(
        f"{MFA}/enrolment", headers=bearer("front_desk", tenant, staff)
    )
    enrolment: dict[str, Any] = started.json()
    schema = stack.bookings.schema
    with psycopg.connect(stack.booking_settings.database_url) as connection:
        row = connection.execute(
            f'SELECT wrapped_secret, recovery::text FROM "{schema}".staff_mfa'
            " WHERE tenant_id = %s AND staff_id = %s",
            (tenant, staff),
        ).fetchone()
    assert row is not None
    stored = bytes(row[0]) + row[1].encode()
    secret = enrolment["secret"].encode()
    assert secret not in stored
    assert len(secret) == 32  # 160 bits, base32
    for code in enrolment["recovery_codes"]:
        assert code.encode() not in stored
        assert code.replace("-", "").encode() not in stored
