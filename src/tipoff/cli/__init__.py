"""The ``tipoff`` command line: one small function per subcommand, grouped by module."""

from __future__ import annotations

import typer

from tipoff.cli import bench, config, data, demo, gcp, night, readonly, simulate, warehouse
from tipoff.cli.common import configure_logs, fail
from tipoff.errors import TipoffError


app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="tipoff: NBA feature store → player points predictions, every night.")

app.add_typer(data.league_app, name="league")
app.add_typer(data.import_app, name="import")
app.add_typer(data.features_app, name="features")
app.add_typer(bench.bench_app, name="bench")
app.add_typer(config.config_app, name="config")
app.add_typer(readonly.dlq_app, name="dlq")
app.add_typer(gcp.gcp_app, name="gcp")
app.add_typer(warehouse.warehouse_app, name="warehouse")
app.add_typer(data.commands)
app.add_typer(demo.commands)
app.add_typer(night.commands)
app.add_typer(readonly.commands)
app.command("simulate")(simulate.simulate)


def main() -> None:
    """Entry point. Exit codes: 0 success, 1 failure, 2 usage error (click's convention), each
    failure one ``error:`` line; ``TIPOFF_DEBUG=1`` adds the traceback."""
    configure_logs()
    try:
        code = app(standalone_mode=False)
    except TipoffError as exc:
        raise SystemExit(fail(str(exc), 1, exc)) from None
    except KeyboardInterrupt as exc:
        raise SystemExit(fail("interrupted", 130, exc)) from None
    except Exception as exc:  # click's usage errors, and anything unexpected
        raise SystemExit(_unexpected(exc)) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def _unexpected(exc: Exception) -> int:
    usage = getattr(exc, "exit_code", None) is not None and hasattr(exc, "format_message")
    if usage:  # click.UsageError (2) or ClickException (1)
        context = getattr(exc, "ctx", None)
        hint = f" (see `{context.command_path} --help`)" if context is not None else ""
        return fail(exc.format_message() + hint, exc.exit_code, exc)
    if type(exc).__name__ == "Abort":  # click's Ctrl-C / EOF at a prompt
        return fail("interrupted", 130, exc)
    return fail(f"unexpected {type(exc).__name__}: {exc} (TIPOFF_DEBUG=1 shows the traceback)",
                1, exc)
