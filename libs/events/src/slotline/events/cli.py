"""The ``slotline`` / ``slotline-events`` command line."""

import typer

from slotline.events.cli_config import config_reference_command
from slotline.events.cli_database import database_app
from slotline.events.cli_replay import replay_command
from slotline.events.cli_run import run_command
from slotline.events.cli_schema import schema_command
from slotline.events.cli_tail import tail_command
from slotline.events.cli_token import token_command
from slotline.events.cli_topics import topics_app

app = typer.Typer(
    no_args_is_help=True, help="Slotline: run it, mint tokens, manage topics and schemas."
)
app.command("run")(run_command)
app.command("token")(token_command)
app.command("schema")(schema_command)
app.add_typer(topics_app, name="topics")
app.add_typer(database_app, name="database")
app.command("replay")(replay_command)
app.command("tail")(tail_command)
app.command("config-reference")(config_reference_command)

if __name__ == "__main__":
    app()
