"""Publishing contract events to the broker the way their producers' relays do."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from slotline.events.envelope import Message


async def publish(bootstrap: str, *messages: Message | tuple[str, bytes]) -> None:
    """Send each message to its topic keyed by its aggregate (raw ``(topic, bytes)`` as is)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for message in messages:
            if isinstance(message, tuple):
                topic, value = message
                await producer.send_and_wait(topic, value, key=b"poison")
            else:
                await producer.send_and_wait(
                    message.TOPIC, message.to_json(), key=message.aggregate_id.encode()
                )
    finally:
        await producer.stop()
