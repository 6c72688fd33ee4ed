"""``slotline run``: the whole system locally (what ``make run`` calls)."""

from pathlib import Path

import typer

from slotline.events.local.stack import LocalStack, run_until_interrupted


def run_command(
    data_dir: Path = typer.Option(Path(".data"), help="Where PostgreSQL keeps its data."),
    base_port: int = typer.Option(8101, help="First service port; 0 picks free ports."),
    ready_timeout: float = typer.Option(60.0, help="Seconds to wait for every /readyz."),
) -> None:
    """Run PostgreSQL, the broker, the six services and web until Ctrl-C."""
    run_until_interrupted(LocalStack(data_dir.resolve(), base_port, ready_timeout))
