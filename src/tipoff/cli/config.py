"""Configuration: what this process would run with."""

from __future__ import annotations

import os

import typer

from tipoff.cli.common import StoreOption, err, out, settings


config_app = typer.Typer(no_args_is_help=True, help="Configuration.")

# Read by the command line itself, not by Settings: shown with their effective values.
PROCESS_VARIABLES = {"TIPOFF_LOG_LEVEL": "INFO", "TIPOFF_LOG_FORMAT": "console",
                     "TIPOFF_DEBUG": "0"}


@config_app.command("show")
def config_show(store: StoreOption = None) -> None:
    """Print the effective configuration, secrets masked (creates and opens nothing)."""
    from tipoff.bootstrap import model_cache_dir, sqlite_file

    config = settings(store)
    for key, value in config.masked().items():
        out.print(f"{key}={value}", highlight=False, markup=False)
    for key, default in PROCESS_VARIABLES.items():
        out.print(f"{key}={os.environ.get(key) or default}", highlight=False, markup=False)
    out.print(f"# tipoff demo's model cache: {model_cache_dir()}", highlight=False, markup=False)
    path = sqlite_file(config.store_url)
    if path is not None and not path.is_file():
        err.print(f"note: no tipoff store at {config.store_url} yet (`tipoff league generate`, "
                  "`tipoff import …`, `tipoff serve` or `tipoff demo --workdir` create one)",
                  highlight=False, markup=False, soft_wrap=True)
