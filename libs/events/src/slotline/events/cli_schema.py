"""``slotline-events schema``: write (or check) the contract's JSON Schemas and AsyncAPI."""

from pathlib import Path

import typer

from slotline.events.compat import check_against_committed
from slotline.events.schema import rendered_schemas, write_schemas


def repository_root(start: Path | None = None) -> Path:
    """The folder holding ``uv.lock``, walking up from ``start`` (default: here)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "uv.lock").exists():
            return folder
    raise typer.BadParameter(f"no uv.lock above {here}: run inside the repository")


def schema_command(
    out: Path | None = typer.Option(None, help="Default: libs/events/schemas."),
    check: bool = typer.Option(False, help="Write nothing; fail on drift or breaking changes."),
) -> None:
    """Generate a JSON Schema per message type and the AsyncAPI document."""
    target = out or repository_root() / "libs" / "events" / "schemas"
    current = rendered_schemas()
    breaking = check_against_committed(target, current) if target.exists() else []
    if breaking:
        typer.echo("backward-incompatible changes (bump SCHEMA_VERSION instead):", err=True)
        for problem in breaking:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(1)
    if check:
        stale = [
            rel
            for rel, text in current.items()
            if not (target / rel).exists() or (target / rel).read_text() != text
        ]
        if stale:
            typer.echo("schemas are out of date; run `slotline-events schema`:", err=True)
            for rel in stale:
                typer.echo(f"  {rel}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{len(current)} schema files up to date")
        return
    written = write_schemas(target)
    typer.echo(f"wrote {len(written)} schema files to {target}")
