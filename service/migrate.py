"""Schema migrations, run programmatically (the CLI, `wallguard dev`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations

# The migrations package travels with the code (also in a non-editable install, e.g. the image);
# alembic.ini at the repository root only serves the `alembic` command line.
SCRIPT_LOCATION = Path(migrations.__file__).resolve().parent


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
