"""``GET /v1/public/{tenant}/request-key``: the public key a channel adapter seals a
request's contact and notes to before it writes ``booking.requests.v1`` — adapters hold
no platform key, and with it no reader of the topic sees who asked. Public: it is a
public key, and an adapter may fetch it before it has any other credential."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from slotline.booking.http.bookings import TenantPath
from slotline.events import request_sealing

router = APIRouter(tags=["channels"])


class RequestKey(BaseModel):
    """How to seal a request's personal fields for booking."""

    tenant_id: str = Field(description="The tenant the key is for.")
    public_key: str = Field(description="X25519 public key, raw 32 bytes, base64url.")
    suite: str = Field(description="The HPKE suite (RFC 9180) to seal with.")
    info: str = Field(description="The HPKE info for each field ({field}: contact or notes).")
    fields: list[str] = Field(description="The fields that may be sealed.")
    form: str = Field(description="What to send in a sealed field's place.")


@router.get("/v1/public/{tenant_id}/request-key", response_model=RequestKey)
async def request_key(tenant_id: TenantPath) -> RequestKey:
    """The tenant's public request key and how to use it."""
    return RequestKey(
        tenant_id=tenant_id,
        public_key=request_sealing.request_public_key(tenant_id),
        suite=request_sealing.SUITE_NAME,
        info=f"{tenant_id}|BookingRequested|{{field}}",
        fields=list(request_sealing.SEALED_FIELDS),
        form="hpke:v1:<base64url(enc || ciphertext)>, the field's JSON value sealed",
    )
