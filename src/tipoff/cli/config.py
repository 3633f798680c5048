"""Configuration: what this process would run with."""

from __future__ import annotations

import typer

from tipoff.cli.common import StoreOption, out, settings


config_app = typer.Typer(no_args_is_help=True, help="Configuration.")


@config_app.command("show")
def config_show(store: StoreOption = None) -> None:
    """Print the effective configuration, secrets masked."""
    for key, value in settings(store).masked().items():
        out.print(f"{key}={value}")
