"""A waitlist offer's message to the customer, published for the notifier as a
``NotificationRequested`` when the offer's booking is stored (``Booking.Offered``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slotline.booking.domain.booking import Booking
from slotline.booking.links import ManageLinks
from slotline.events.contract.common import MessageChannel
from slotline.events.contract.notifications import NotificationRequested

OFFER_TEMPLATE = "waitlist_offer"


def offer_notice(booking: Booking, links: ManageLinks) -> NotificationRequested | None:
    """The offer's message to the customer, for the notifier (which honours opt-outs and
    sends it once per key): the slot, until when, and the link to claim it. None when
    the customer gave no transactional consent."""
    contact = booking.contact
    if not booking.consents.get("transactional", True):
        return None
    channels = [MessageChannel.SMS] if contact.phone else []
    if contact.email:
        channels.append(MessageChannel.EMAIL)
    assert booking.offer_until is not None
    terms = booking.terms
    zone = ZoneInfo(terms.time_zone)
    start = booking.slot_start.astimezone(zone)
    url = links.url(booking.tenant_id, booking.id, booking.slot_end, booking.link_version)
    return NotificationRequested(
        tenant_id=booking.tenant_id,
        aggregate_id=str(booking.id),
        correlation_id=booking.request_id,
        notification_id=f"waitlist-offer:{booking.id}",
        idempotency_key=f"waitlist-offer:{booking.id}",
        template=OFFER_TEMPLATE,
        language=contact.language or "en",
        channels=channels,
        to_phone=contact.phone,
        to_email=contact.email,
        variables={
            "customer_name": contact.name,
            "service_name": terms.service_name or terms.service_id,
            "date": start.strftime("%d %b %Y"),
            "start_time": start.strftime("%H:%M"),
            "time_zone": terms.time_zone,
            "until_time": booking.offer_until.astimezone(zone).strftime("%H:%M"),
            "claim_url": url,  # the card; POST {url}/claim takes the offer
        },
        urgent=True,  # it runs out in minutes: quiet hours would let it lapse unread
    )
