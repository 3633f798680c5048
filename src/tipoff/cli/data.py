"""Data, features and models: league, imports, stage 4, training, backtest."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from tipoff.cli.common import (
    DateOption,
    JsonOption,
    StoreOption,
    clock,
    err,
    num,
    open_store,
    out,
    parse_date,
    print_counts,
    print_problems,
    progress_bar,
    settings,
)


commands = typer.Typer()  # top-level commands of this module
league_app = typer.Typer(no_args_is_help=True, help="The built-in synthetic league.")
import_app = typer.Typer(no_args_is_help=True, help="Load real data into the store.")
features_app = typer.Typer(no_args_is_help=True, help="Stage 4: the feature store.")


@league_app.command("generate")
def league_generate(
    season: Annotated[str, typer.Option(help="Season YYYY-YY.")] = "2025-26",
    seed: Annotated[int, typer.Option(help="Random seed (same seed → same league).")] = 7,
    until: Annotated[Optional[str], typer.Option(help="Only results before this date.")] = None,
    store: StoreOption = None,
) -> None:
    """Generate a deterministic synthetic season into the store."""
    from tipoff.pipeline.load_data import generate_league_into

    with err.status(f"generating season {season} (seed {seed})…"):
        written = generate_league_into(open_store(store), season, seed,
                                       parse_date(until, "--until") if until else None)
    print_counts(f"synthetic league {season}, seed {seed}", written)


@import_app.command("boxscores")
def import_boxscores(
    files: Annotated[list[Path], typer.Argument(help="player_box_*.csv files.")],
    tipoffs: Annotated[Optional[Path], typer.Option(help="game_tipoff_times_et.csv")] = None,
    store: StoreOption = None,
) -> None:
    """Import real box scores; bad rows are reported with their line numbers and skipped."""
    from tipoff.pipeline.load_data import import_boxscores_into

    with err.status("importing box scores…"):
        report = import_boxscores_into(open_store(store), files, tipoffs)
    print_problems(report.problems)
    print_counts(f"imported {report.rows_read} rows", report.written)


@import_app.command("lines")
def import_lines(
    file: Annotated[Path, typer.Argument(help="Points lines CSV.")],
    fmt: Annotated[str, typer.Option("--format", help=(
        "auto (by the header), lines (one row per bookmaker line) or props (one row per "
        "player-night with consensus, DraftKings and FanDuel columns)."))] = "auto",
    store: StoreOption = None,
) -> None:
    """Import sportsbook points lines; props-feed names are matched to known players."""
    from tipoff.pipeline.load_data import import_lines_into

    report = import_lines_into(open_store(store), file, fmt)
    print_problems(report.problems)
    if report.matching is not None:
        _print_matching(report.matching)
    print_counts(f"imported {report.rows_read} rows", report.written)


def _print_matching(matching: dict) -> None:
    steps = ", ".join(f"{method} {count}" for method, count in sorted(matching["by_method"].items()))
    out.print(f"players matched: {matching['matched']} of {matching['rows']} rows "
              f"({matching['matched_pct']:.2f}%): {steps}")
    for name, count in sorted(matching["unmatched"].items(), key=lambda item: -item[1]):
        out.print(f"  unmatched: {name} × {count}")


@features_app.command("build")
def features_build(game_date: DateOption, as_json: JsonOption = False,
                   store: StoreOption = None) -> None:
    """Build stage 4 for a date, record the run and publish phase4_complete.

    With the in-process bus (memory://) nothing in this process listens: the running service
    starts the batch at its 06:00 backup, or at once with `tipoff trigger --url …`.
    """
    from tipoff.bootstrap import alert_dispatcher, open_bus
    from tipoff.pipeline.build_features import build_features

    the_clock, config = clock(), settings(store)
    with closing(open_store(store)) as the_store, \
            closing(open_bus(config.bus_url, the_clock)) as bus:
        summary = build_features(the_store, bus, the_clock, parse_date(game_date),
                                 alerts=alert_dispatcher(config, the_store, the_clock))
    if as_json:
        out.print_json(json.dumps(summary.to_dict()))
    elif summary.players == 0:
        out.print(summary.message)
    else:
        out.print(f"stage 4 for {summary.game_date}: {summary.players} players, "
                  f"{summary.ready} production ready, average quality "
                  f"{summary.average_quality}, {summary.duration_ms:.0f} ms, "
                  f"event {'published' if summary.published else 'NOT published'}")


@commands.command("train")
def train_command(
    through: Annotated[str, typer.Option(help="Last game date the model may learn from.")],
    model_dir: Annotated[Optional[Path], typer.Option(
        help="Where to save the model (default: $TIPOFF_MODEL_DIR, else ./models).")] = None,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 7,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train the XGBoost model and the ensemble weights on stage 4 rows of past nights."""
    from tipoff.bootstrap import model_store
    from tipoff.pipeline.train import train

    folder = model_dir or settings(store).model_dir
    with progress_bar("training") as step:
        report = train(open_store(store), model_store(folder), parse_date(through, "--through"), clock(),
                       seed=seed, progress=step)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return
    metrics = report.artifact.metrics
    out.print(f"model {report.artifact.model_version} saved to {report.path}")
    out.print(f"{report.rows:,} rows from {report.nights} nights; validation MAE "
              f"{metrics['validation_mae']:.2f} vs moving-average baseline "
              f"{metrics['moving_average_validation_mae']:.2f} (naive blend "
              f"{metrics['baseline_validation_mae']:.2f})")
    weights = report.artifact.ensemble_weights or {}
    out.print("ensemble weights: " + (", ".join(f"{system} {weight:.2f}" for system, weight
                                               in weights.items()) or "—"), highlight=False)


def _model_option(model: Path | None, store: str | None) -> dict:
    """``--model FILE`` as the backtest's model store and name; without it the model that
    ``tipoff train`` saved is reused when trained through the same date (else one is trained
    for the backtest and not kept, so the live model is never replaced)."""
    from tipoff.bootstrap import model_file, model_store

    if model is None:
        return {"models": model_store(settings(store).model_dir), "keep_trained": False}
    models, name = model_file(model)
    return {"models": models, "model_name": name}


@commands.command("backtest")
def backtest_command(
    start_from: Annotated[str, typer.Option("--from", help="First night to replay.")],
    to: Annotated[str, typer.Option("--to", help="Last night to replay (inclusive).")],
    train_through: Annotated[Optional[str], typer.Option(
        help="Train the model on nights through this date (default: the day before --from).")
    ] = None,
    report: Annotated[Optional[Path], typer.Option(help="Also write the report to this JSON file.")
                      ] = None,
    model: Annotated[Optional[Path], typer.Option(
        help="Model file to (re)use; trained (and saved there) when absent or trained through "
             "another date. Default: the model `tipoff train` saved, when trained through the "
             "same date.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Training seed.")] = 7,
    predictions: Annotated[Optional[Path], typer.Option(
        help="Also write every scored prediction (one row per player-night and system) to this "
             "CSV file.")] = None,
    store: StoreOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay past nights (stage 4, then every system) and score them against what happened."""
    from tipoff.pipeline.backtest import run_backtest
    from tipoff.pipeline.bettor import write_predictions_csv

    export = None if predictions is None else (
        lambda nights: write_predictions_csv(predictions, nights))
    with progress_bar("backtest") as step:
        result = run_backtest(open_store(store), parse_date(start_from, "--from"), parse_date(to, "--to"), clock(),
                              train_through=parse_date(train_through, "--train-through") if train_through else None,
                              **_model_option(model, store), seed=seed, progress=step,
                              export=export)
    if report is not None:
        report.write_text(json.dumps(result, indent=2, default=str))
    if as_json:
        out.print_json(json.dumps(result, default=str))
        return
    _print_backtest(result)


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1f}"


MISSED_SHOWN = 20


def _print_missed(missed: list[dict]) -> None:
    """The lined player-nights left unpredicted, each with stage 4's reason (the first
    ``MISSED_SHOWN``; the JSON report has them all)."""
    for miss in missed[:MISSED_SHOWN]:
        out.print(f"  not predicted: {miss['game_date']} {miss['player_lookup']}: {miss['reason']}")
    if len(missed) > MISSED_SHOWN:
        out.print(f"  … and {len(missed) - MISSED_SHOWN} more (--report FILE.json lists them all)")


def _print_backtest(result: dict) -> None:
    table = Table(title=f"backtest {result['from']} … {result['to']} "
                        f"(model trained through {result['train_through']})")
    table.add_column("system", no_wrap=True)
    for heading in ("rows", "MAE", "RMSE", "≤3 %", "≤5 %", "line rows", "MAE there",
                    "line MAE", "picks", "hit %", "ROI %"):
        table.add_column(heading, justify="right")
    for system, row in result["systems"].items():
        roi = (row.get("roi") or {}).get("all") or {}
        table.add_row(system, str(row["rows"]), num(row["mae"]), num(row["rmse"]),
                      _pct(row["within_3_pct"]), _pct(row["within_5_pct"]),
                      str(row["line_rows"]), num(row["mae_on_line_rows"]), num(row["line_mae"]),
                      num(roi.get("picks")), _pct(roi.get("hit_rate_pct")),
                      _pct(roi.get("roi_pct")))
    out.print(table)
    versus, line = result["ensemble_vs_blend"], result["ensemble_vs_line"]
    out.print(f"ensemble MAE {num(versus['ensemble_mae'])} vs naive blend "
              f"{num(versus['blend_mae'])}: ×{num(versus['ratio'])}; on {line['rows']} lined "
              f"rows {num(line['ensemble_mae'])} vs the line {num(line['line_mae'])}: "
              f"×{num(line['ratio'])}")
    covered = result["lined_coverage"]
    out.print(f"lined coverage ({covered['lined']}): {covered['predicted']} of "
              f"{covered['lined_played']} lined player-nights that played "
              f"({_pct(covered['coverage_pct'])}%)")
    _print_missed(covered["missed"])
    admitted = result["newly_admitted"]["admitted"]
    out.print(f"newly admitted (the old rule excluded them): {admitted['rows']} rows, "
              f"ensemble MAE {num(admitted['ensemble_mae'])} vs blend "
              f"{num(admitted['blend_mae'])}")
    for name in ("calibration", "calibration_vs_estimate"):
        buckets = result["systems"]["ensemble_v1"][name]
        if buckets:
            out.print(f"ensemble {name.replace('_', ' ')}: " + "; ".join(
                f"{b['confidence']}: {b['rows']} rows, conf {b['mean_confidence']}, "
                f"won {b['won_pct']}%" for b in buckets))
