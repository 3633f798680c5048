"""The analytics warehouse (BigQuery): import stage 4 inputs, publish a night's outputs."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Annotated, Optional

import typer

from tipoff.cli.common import (
    DateOption, JsonOption, StoreOption, err, open_store, out, parse_date, print_counts, settings,
)
from tipoff.errors import ConfigurationError

warehouse_app = typer.Typer(no_args_is_help=True,
                            help="The analytics warehouse (BigQuery): import inputs, publish outputs.")

WarehouseOption = Annotated[Optional[str], typer.Option(
    "--warehouse", help="Warehouse URL (default: $TIPOFF_WAREHOUSE_URL): "
                        "bigquery://PROJECT/DATASET[?endpoint=URL].")]


def _open_warehouse(url: str | None):
    from tipoff.bootstrap import open_warehouse

    chosen = url or settings().warehouse_url
    if not chosen:
        raise ConfigurationError("no warehouse configured: set TIPOFF_WAREHOUSE_URL or pass "
                                 "--warehouse bigquery://PROJECT/DATASET")
    warehouse = open_warehouse(chosen)
    warehouse.ensure_tables()
    return warehouse


@warehouse_app.command("import")
def warehouse_import(
    start: Annotated[str, typer.Option("--from", help="First game date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last game date (inclusive), YYYY-MM-DD.")],
    warehouse: WarehouseOption = None,
    store: StoreOption = None,
) -> None:
    """Replace the store's analytics inputs of a date range with the warehouse's."""
    from tipoff.pipeline.warehouse_sync import import_from_warehouse

    first, last = parse_date(start, "--from"), parse_date(end, "--to")
    with closing(_open_warehouse(warehouse)) as source, closing(open_store(store)) as target:
        with err.status(f"importing {first}..{last} from the warehouse…"):
            written = import_from_warehouse(source, target, first, last)
    print_counts(f"imported {first}..{last} from the warehouse", written)


@warehouse_app.command("publish")
def warehouse_publish(
    game_date: DateOption,
    as_json: JsonOption = False,
    warehouse: WarehouseOption = None,
    store: StoreOption = None,
) -> None:
    """Upsert a date's feature rows, active predictions and run history into the warehouse."""
    from tipoff.pipeline.warehouse_sync import publish_to_warehouse

    day = parse_date(game_date)
    with closing(_open_warehouse(warehouse)) as target, closing(open_store(store)) as source:
        sent = publish_to_warehouse(source, target, day)
    if as_json:
        out.print_json(json.dumps({"game_date": day.isoformat(), **sent}))
    else:
        print_counts(f"published {day} to the warehouse", sent)
