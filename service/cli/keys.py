"""`wallguard keys generate|rotate`: encryption keys for what is stored encrypted."""

from __future__ import annotations

import asyncio

import typer

app = typer.Typer(help="Encryption keys for tokens and events at rest.", no_args_is_help=True)


@app.command("generate")
def generate() -> None:
    """Print a new random key for WALLGUARD_ENCRYPTION_KEYS."""
    from service.crypto import generate_key

    typer.echo(generate_key())


@app.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored token and event with the first key of WALLGUARD_ENCRYPTION_KEYS."""
    from service.crypto import Cipher
    from service.db import Database
    from service.keys.steps import rotate_encryption
    from service.settings import get_settings

    async def _rotate() -> int:
        settings = get_settings()
        db = Database(settings)
        try:
            return await rotate_encryption(db, Cipher(settings.encryption_keys))
        finally:
            await db.dispose()

    typer.echo(f"re-encrypted {asyncio.run(_rotate())} values with the primary key")
