"""``slotline token``: mint a development access token for calling the HTTP APIs.

Registered by the CLI as ``app.command("token")(token_command)``. The token goes
alone to stdout so ``TOKEN=$(slotline token --roles manager)`` works.
"""

from datetime import timedelta
from typing import Annotated

import typer

from slotline.events.auth import AuthSettings, TokenIssuer, parse_roles


def token_command(
    tenant: Annotated[str, typer.Option(help="Tenant id the token is scoped to.")] = "demo",
    roles: Annotated[
        str, typer.Option(help="Comma-separated roles, e.g. 'manager,analyst'.")
    ] = "owner",
    subject: Annotated[str, typer.Option(help="The 'sub' claim.")] = "local-dev",
    ttl_hours: Annotated[int, typer.Option(min=1, help="Lifetime in hours.")] = 12,
    secret: Annotated[
        str | None,
        typer.Option(
            help="HS256 secret; defaults to SLOTLINE_AUTH_SECRET (prefer the env var: "
            "flags end up in shell history).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print an HS256 access token signed with the deployment's shared secret."""
    settings = AuthSettings()
    try:
        granted = parse_roles(name.strip() for name in roles.split(",") if name.strip())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--roles") from exc
    if settings.effective_algorithm == "RS256":
        typer.echo(
            "warning: services here verify RS256 tokens from your identity provider "
            "and will reject this HS256 token",
            err=True,
        )
    key = secret if secret is not None else settings.secret.get_secret_value()
    try:
        issuer = TokenIssuer(key, issuer=settings.issuer, audience=settings.audience)
        token = issuer.mint(subject, tenant, granted, timedelta(hours=ttl_hours))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(token)
