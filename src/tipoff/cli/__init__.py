"""The ``tipoff`` command line: one small function per subcommand, grouped by module."""

from __future__ import annotations

import typer

from tipoff.cli import bench, config, data, gcp, night, simulate, warehouse
from tipoff.cli.common import configure_logs, err
from tipoff.errors import TipoffError


app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="tipoff: NBA feature store → player points predictions, every night.")

app.add_typer(data.league_app, name="league")
app.add_typer(data.import_app, name="import")
app.add_typer(data.features_app, name="features")
app.add_typer(bench.bench_app, name="bench")
app.add_typer(config.config_app, name="config")
app.add_typer(night.dlq_app, name="dlq")
app.add_typer(gcp.gcp_app, name="gcp")
app.add_typer(warehouse.warehouse_app, name="warehouse")
app.add_typer(data.commands)
app.add_typer(night.commands)
app.command("simulate")(simulate.simulate)


def main() -> None:
    """Entry point: a TipoffError becomes a one-line message and exit code 1, not a traceback."""
    configure_logs()
    try:
        app()
    except TipoffError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise SystemExit(1) from None
