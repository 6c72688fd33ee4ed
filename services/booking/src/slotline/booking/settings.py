"""Settings of the booking service (``SLOTLINE_*`` environment variables)."""

from pydantic import Field, PositiveFloat, PositiveInt, SecretStr

from slotline.events.limit_text import RateLimitText
from slotline.events.production import PRODUCTION
from slotline.events.settings import ServiceSettings

DEV_MANAGE_SECRET = "slotline-dev-manage-links-change-me-in-production"  # noqa: S105


class BookingSettings(ServiceSettings):
    service_name: str = Field(default="booking", description="Name in logs, traces, metrics.")
    hold_ttl_seconds: int = Field(
        default=600, ge=30, le=86400, description="How long availability holds a slot unpaid."
    )
    answer_within_seconds: PositiveFloat = Field(
        default=60.0, description="A saga with no answer from availability by then expires."
    )
    pay_within_seconds: PositiveFloat = Field(
        default=480.0, description="A saga whose payment is not authorised by then expires."
    )
    requests_in_clear: bool | None = Field(
        default=None,
        description="Accept a request's contact and notes in clear on booking.requests.v1 "
        "(unset: yes, except in production, where they must come sealed to the tenant's "
        "request key and a clear one is refused, reason not_sealed).",
    )
    answer_wait_seconds: float = Field(
        default=3.0, ge=0, le=30, description="How long POST /bookings waits for the outcome."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8102",
        description="Base URL customers reach this service at (manage links).",
    )
    manage_link_secret: SecretStr = Field(
        default=SecretStr(DEV_MANAGE_SECRET), description="Key that signs manage links."
    )
    public_rate_limit: RateLimitText = Field(
        default="30/minute",
        description="Booking requests per client address on the public endpoint, every "
        "replica together (limits syntax).",
    )
    manage_rate_limit: RateLimitText = Field(
        default="600/minute",
        description="Requests per client address on manage links, every replica together "
        "(limits syntax; the web service's pages pass through it from its own address).",
    )
    default_phone_region: str | None = Field(
        default=None,
        description="Region for numbers written without +country when the location's time "
        "zone names no country (it usually does: Europe/Athens → GR), e.g. GR.",
    )
    waitlist_offer_seconds: int = Field(
        default=900,
        ge=1,
        le=86400,
        description="How long a freed slot is held for the waitlisted customer it is offered "
        "to; unclaimed by then, it passes to the next in line.",
    )
    timeout_interval_seconds: PositiveFloat = Field(
        default=1.0, description="How often overdue sagas are looked for."
    )
    retention_months: dict[str, PositiveInt] = Field(
        default_factory=dict,
        description="Customers inactive (no booking ending) for this many months are erased, "
        'per tenant id, "*" for every other tenant; JSON, e.g. {"clinic": 24, "*": 36}. '
        "Empty: kept until an owner erases them.",
    )
    retention_interval_seconds: PositiveFloat = Field(
        default=3600.0,
        description="How often customers past their tenant's retention are looked for.",
    )
    board_batch_size: PositiveInt = Field(
        default=500, description="Events the booking view applies per transaction."
    )
    board_pace_seconds: float = Field(
        default=0.1,
        ge=0,
        le=5,
        description="Rest after each batch of the front desk's board (the booking view)"
        " while events keep coming: under load one transaction carries what many wake-ups"
        " would, and the board takes the process's CPU from the saga less often. An event"
        " after a quiet spell is still on the board at once. 0: no rest.",
    )

    @property
    def clear_requests_accepted(self) -> bool:
        """Whether a request's contact and notes may come in clear on the topic."""
        if self.requests_in_clear is not None:
            return self.requests_in_clear
        return self.environment.lower() not in PRODUCTION
