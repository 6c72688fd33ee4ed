"""``slotline topics create``: create every public topic and its dead-letter topic."""

import asyncio

import typer

from slotline.events.kafka import ensure_topics
from slotline.events.settings import ServiceSettings

topics_app = typer.Typer(help="Kafka topics of the public contract.", no_args_is_help=True)


@topics_app.command("create")
def create_topics(
    partitions: int = typer.Option(3, help="Partitions per topic."),
) -> None:
    """Create missing topics on ``SLOTLINE_KAFKA_BOOTSTRAP``."""
    settings = ServiceSettings()
    created = asyncio.run(
        ensure_topics(
            settings.kafka_bootstrap, partitions=partitions, security=settings.kafka_security
        )
    )
    typer.echo(f"created {len(created)} topics" + (f": {', '.join(created)}" if created else ""))
