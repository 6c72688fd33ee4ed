"""``slotline database roles``: each service its own login role and schema."""

import os

import typer

from slotline.events.database_roles import ServiceRole, provision
from slotline.events.settings import ServiceSettings

database_app = typer.Typer(help="The services' PostgreSQL roles.", no_args_is_help=True)


@database_app.command("roles")
def roles(
    schemas: list[str] = typer.Argument(..., help="The services' schemas, e.g. booking."),
) -> None:
    """As the administrator of ``SLOTLINE_DATABASE_URL``: role ``slotline_<schema>`` for
    each schema, with the password in ``SLOTLINE_ROLE_PASSWORD_<SCHEMA>``, owning its
    schema and nothing else."""
    missing = [s for s in schemas if not os.environ.get(_password_variable(s))]
    if missing:
        names = ", ".join(_password_variable(s) for s in missing)
        raise typer.BadParameter(f"no password given: set {names}")
    wanted = [ServiceRole(s, os.environ[_password_variable(s)]) for s in schemas]
    provision(ServiceSettings().database_url, wanted)
    for role in wanted:
        typer.echo(f"role ready: {role.role} owns schema {role.schema}")


def _password_variable(schema: str) -> str:
    return f"SLOTLINE_ROLE_PASSWORD_{schema.upper()}"
