"""Staff members' second factor, for the console's sign-in (and any other front end that
signs staff in): enrol, confirm, answer a challenge; owners require it for the tenant
or reset a staff member's. Every attempt and change is on the audit trail, in the same
unit of work as its effect."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from slotline.booking.application.staff_mfa import (
    AlreadyEnrolled,
    Attempt,
    Enrolment,
    StaffMfa,
    Status,
    Verdict,
)
from slotline.booking.http.deps import Bookings, Owner, Staff
from slotline.events.audit import access_of, audit_trail
from slotline.events.auth import Principal
from slotline.events.contract.audit import AccessKind
from slotline.events.http_contract import refusals
from slotline.events.runtime import Writer
from slotline.events.unit_of_work import UnitOfWork

router = APIRouter(prefix="/v1/staff", tags=["staff sign-in"])

CODE = r"^(\d{6}|[0-9a-fA-F]{5}-?[0-9a-fA-F]{5})$"
"""Six digits from the app, or a recovery code (``1a2b3-c4d5e``)."""


class MfaStatus(BaseModel):
    enrolled: bool = Field(description="A confirmed second factor is set up.")
    required: bool = Field(description="The tenant's owner requires one for every staff member.")
    recovery_codes_left: int = Field(ge=0, description="Unused recovery codes.")


class MfaEnrolment(BaseModel):
    secret: str = Field(description="Base32 secret for typing into an authenticator app.")
    uri: str = Field(description="The otpauth:// URI (what a QR code carries).")
    recovery_codes: list[str] = Field(description="Single-use codes for a lost phone.")


class MfaCode(BaseModel):
    code: str = Field(
        pattern=CODE, description="Six digits from the app, or a recovery code (1a2b3-c4d5e)."
    )


class MfaPolicy(BaseModel):
    required: bool = Field(strict=True, description="Every staff member must use a second factor.")


def staff_mfa(request: Request, app: Bookings) -> StaffMfa:
    found: StaffMfa | None = getattr(request.app.state, "staff_mfa", None)
    if found is None:
        found = StaffMfa(app.schema, app.vault.kek)
        with app.process_recorder.datastore.transaction(commit=True) as cursor:  # type: ignore[attr-defined]
            found.ensure(cursor)
        request.app.state.staff_mfa = found
    return found


Mfa = Annotated[StaffMfa, Depends(staff_mfa)]


def _audit(request: Request, principal: Principal, staff_id: str, action: str) -> Any:
    """Puts ``action`` on the trail, in the unit of work it is given."""
    trail = audit_trail(request)
    entry = access_of(request, principal, AccessKind.CHANGE, "staff_mfa", staff_id, action)
    return lambda work: trail.record(work, entry)


def _status(status: Status) -> MfaStatus:
    return MfaStatus(
        enrolled=status.enrolled,
        required=status.required,
        recovery_codes_left=status.recovery_codes_left,
    )


@router.get("/me/mfa")
async def my_mfa(principal: Staff, mfa: Mfa, writer: Writer) -> MfaStatus:
    """Whether the caller has a second factor, and whether the tenant requires one."""
    return _status(
        await writer.run(
            lambda work: mfa.status(work.cursor, principal.tenant_id, principal.subject)
        )
    )


@router.post("/me/mfa/enrolment", status_code=201, responses=refusals(409))
async def enrol(request: Request, principal: Staff, mfa: Mfa, writer: Writer) -> MfaEnrolment:
    """A new secret and ten recovery codes, shown this once; the first code from the app
    confirms them (``…/enrolment/confirmation``). 409 when one is set up already (an
    owner resets it)."""
    audit = _audit(request, principal, principal.subject, "mfa enrolment started")

    def act(work: UnitOfWork) -> Enrolment:
        enrolment = mfa.begin(
            work.cursor, principal.tenant_id, principal.subject, principal.subject
        )
        audit(work)
        return enrolment

    try:
        enrolment = await writer.run(act)
    except AlreadyEnrolled as refused:
        raise HTTPException(409, str(refused)) from None
    return MfaEnrolment(
        secret=enrolment.secret, uri=enrolment.uri, recovery_codes=enrolment.recovery_codes
    )


@router.post("/me/mfa/enrolment/confirmation", status_code=204, responses=refusals(403, 409, 429))
async def confirm(
    request: Request, body: MfaCode, principal: Staff, mfa: Mfa, writer: Writer
) -> Response:
    """The first code from the app: the second factor counts from now on."""
    return await _answer(
        request,
        principal,
        writer,
        "mfa enrolment",
        lambda work: mfa.confirm(work.cursor, principal.tenant_id, principal.subject, body.code),
    )


@router.post("/me/mfa/challenge", status_code=204, responses=refusals(403, 409, 429))
async def challenge(
    request: Request, body: MfaCode, principal: Staff, mfa: Mfa, writer: Writer
) -> Response:
    """A sign-in's second step: 204 for a right code (or an unused recovery code), 403
    for a wrong or used one; after five wrong ones in 15 minutes, 429 until the window ends,
    whatever the code. 409 when no second factor is set up."""
    return await _answer(
        request,
        principal,
        writer,
        "mfa challenge",
        lambda work: mfa.challenge(work.cursor, principal.tenant_id, principal.subject, body.code),
    )


async def _answer(
    request: Request, principal: Principal, writer: Any, what: str, check: Any
) -> Response:
    def act(work: UnitOfWork) -> Attempt:
        attempt: Attempt = check(work)
        _audit(request, principal, principal.subject, f"{what}: {attempt.verdict.value}")(work)
        return attempt

    attempt = await writer.run(act)
    if attempt.verdict is Verdict.VERIFIED:
        return Response(status_code=204)
    if attempt.verdict is Verdict.NOT_ENROLLED:
        raise HTTPException(409, "no second factor waiting for this step; enrol first")
    if attempt.verdict is Verdict.LOCKED:
        until = attempt.locked_until or datetime.now(UTC)
        wait = max(1, int((until - datetime.now(UTC)).total_seconds()) + 1)
        raise HTTPException(
            429, "too many wrong codes; try again later", headers={"Retry-After": str(wait)}
        )
    raise HTTPException(403, "that code is not right, or it was used already")


@router.delete("/members/{staff_id}/mfa", status_code=204, responses=refusals(404))
async def reset(
    request: Request,
    staff_id: Annotated[str, Path(max_length=128)],
    principal: Owner,
    mfa: Mfa,
    writer: Writer,
) -> Response:
    """An owner resets a staff member's second factor (a lost phone): they enrol again
    at their next sign-in. 404 when they had none."""
    audit = _audit(request, principal, staff_id, "mfa reset")

    def act(work: UnitOfWork) -> bool:
        removed = mfa.reset(work.cursor, principal.tenant_id, staff_id)
        if removed:
            audit(work)
        return removed

    if not await writer.run(act):
        raise HTTPException(404, f"staff member {staff_id} has no second factor")
    return Response(status_code=204)


@router.get("/mfa-policy")
async def policy(principal: Staff, mfa: Mfa, writer: Writer) -> MfaPolicy:
    return MfaPolicy(
        required=await writer.run(lambda work: mfa.required(work.cursor, principal.tenant_id))
    )


@router.put("/mfa-policy")
async def set_policy(
    request: Request, body: MfaPolicy, principal: Owner, mfa: Mfa, writer: Writer
) -> MfaPolicy:
    """Owners only: require a second factor of every staff member (the console then asks
    each to enrol at sign-in) or make it optional again."""
    audit = _audit(request, principal, "policy", f"mfa required: {body.required}")

    def act(work: UnitOfWork) -> None:
        mfa.require(work.cursor, principal.tenant_id, body.required, principal.subject)
        audit(work)

    await writer.run(act)
    return body
