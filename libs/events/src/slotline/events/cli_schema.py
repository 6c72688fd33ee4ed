"""``slotline-events schema``: write (or check) the contract's JSON Schemas and AsyncAPI.

Registered by the CLI as ``app.command("schema")(schema_command)``. Writing refuses
backward-incompatible changes to committed schemas too, so the only way to change a
message incompatibly is a new ``SCHEMA_VERSION`` beside the old one.

Besides ``libs/events/schemas`` (the library's copy, which the compatibility guard holds
new code against) it writes the copy published for analysts: ``docs/asyncapi.json`` and
``docs/schemas/<topic>/<Type>.v<N>.json``. ``make schema`` regenerates both; a test fails
when either is stale.
"""

from pathlib import Path

import typer

from slotline.events.compat import check_against_committed
from slotline.events.schema import rendered_schemas, write_schemas

DEFAULT_OUT = Path("libs") / "events" / "schemas"
DEFAULT_DOCS = Path("docs")
PUBLISHED_SCHEMAS = "schemas"  # under the docs folder; the AsyncAPI document sits beside it


def published_copy(current: dict[str, str]) -> dict[str, str]:
    """The docs copy of the generated files, by path relative to the docs folder."""
    return {
        relative if relative == "asyncapi.json" else f"{PUBLISHED_SCHEMAS}/{relative}": text
        for relative, text in current.items()
    }


def write_published_copy(docs: Path, current: dict[str, str]) -> list[Path]:
    """Write the docs copy and remove schemas no longer generated (nothing else in docs)."""
    files = published_copy(current)
    for relative, text in sorted(files.items()):
        path = docs / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    for stale in (docs / PUBLISHED_SCHEMAS).rglob("*.json"):
        if stale.relative_to(docs).as_posix() not in files:
            stale.unlink()
    return [docs / relative for relative in sorted(files)]


def stale_published_copy(docs: Path, current: dict[str, str]) -> list[str]:
    """Files of the docs copy that are missing, different or no longer generated."""
    files = published_copy(current)
    differing = [
        relative
        for relative, text in sorted(files.items())
        if not (docs / relative).is_file() or (docs / relative).read_text() != text
    ]
    extra = sorted(
        f"{p.relative_to(docs).as_posix()} (no longer generated)"
        for p in (docs / PUBLISHED_SCHEMAS).rglob("*.json")
        if p.relative_to(docs).as_posix() not in files
    )
    return [f"{docs / line}" for line in differing + extra]


def repository_root(start: Path | None = None) -> Path:
    """The folder holding ``uv.lock``: above ``start`` (default: the current directory),
    else above this installed (editable) package."""
    here = (start or Path.cwd()).resolve()
    for origin in (here, Path(__file__).resolve().parent):
        for folder in (origin, *origin.parents):
            if (folder / "uv.lock").is_file():
                return folder
    raise typer.BadParameter(f"no uv.lock above {here}: run inside the repository")


def _out_of_date(target: Path, current: dict[str, str]) -> list[str]:
    """Generated files missing or different under ``target``, and files no longer generated."""
    differing = [
        relative
        for relative, text in sorted(current.items())
        if not (target / relative).is_file() or (target / relative).read_text() != text
    ]
    extra = sorted(
        f"{p.relative_to(target).as_posix()} (no longer generated)"
        for p in target.rglob("*.json")
        if p.relative_to(target).as_posix() not in current
    )
    return differing + extra


def _fail(title: str, lines: list[str]) -> None:
    typer.echo(title, err=True)
    for line in lines:
        typer.echo(f"  {line}", err=True)
    raise typer.Exit(1)


def schema_command(
    out: Path | None = typer.Option(
        None, help="Where the schemas live. Default: libs/events/schemas in the repository."
    ),
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 on breaking changes or stale files."
    ),
    docs_out: Path | None = typer.Option(
        None,
        "--docs-out",
        help="Where the published copy goes. Default: docs/ in the repository, unless --out "
        "is given (then no published copy unless asked for).",
    ),
) -> None:
    """Generate a JSON Schema per message type and the AsyncAPI document."""
    target = out if out is not None else repository_root() / DEFAULT_OUT
    docs = docs_out if docs_out is not None or out is not None else repository_root() / DEFAULT_DOCS
    current = rendered_schemas()
    breaking = check_against_committed(target, current) if target.is_dir() else []
    if breaking:
        _fail("backward-incompatible changes (add a new SCHEMA_VERSION instead):", breaking)
    if check:
        stale = _out_of_date(target, current)
        if docs is not None:
            stale += stale_published_copy(docs, current)
        if stale:
            _fail("schemas are out of date; run `slotline-events schema`:", stale)
        typer.echo(f"{len(current)} schema files up to date in {target}")
        return
    written = write_schemas(target)
    typer.echo(f"wrote {len(written)} schema files to {target}")
    if docs is not None:
        published = write_published_copy(docs, current)
        typer.echo(f"wrote {len(published)} published copies to {docs}")
