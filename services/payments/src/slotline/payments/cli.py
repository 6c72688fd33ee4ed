"""``slotline-payments``: run the service (no command), or reconcile ledgers with the gateway."""

from __future__ import annotations

import json

import typer

from slotline.events.logs import configure_logging
from slotline.events.runtime import serve
from slotline.events.store import ensure_schema, postgres_env
from slotline.payments.application import PaymentsApplication
from slotline.payments.gateway.factory import build_gateway
from slotline.payments.settings import PaymentsSettings
from slotline.payments.wiring import reconciler, service_spec

app = typer.Typer(help="The Slotline payments service.", add_completion=False)


@app.callback(invoke_without_command=True)
def run(ctx: typer.Context) -> None:
    """Without a command: serve HTTP and Kafka until SIGTERM."""
    if ctx.invoked_subcommand is None:
        serve(service_spec())


@app.command()
def reconcile(
    dry_run: bool = typer.Option(False, "--dry-run", help="Report drift; repair nothing."),
    tenant: str | None = typer.Option(None, help="Only this tenant's ledgers."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Compare recent ledgers with the gateway; report and repair the drift."""
    settings = PaymentsSettings()
    configure_logging(f"{settings.service_name}-reconcile", "WARNING", settings.log_json)
    ensure_schema(settings.database_url, settings.schema_name)
    env = postgres_env(settings.database_url, settings.schema_name, settings.database_pool_size)
    application = PaymentsApplication(env=env, gateway=build_gateway(settings))
    try:
        report = reconciler(application, settings).run(repair=not dry_run, tenant_id=tenant)
    finally:
        application.close()
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        for line in report.lines():
            typer.echo(line)
    if report.errors:
        raise typer.Exit(code=1)
