"""``BigQueryWarehouse``: analytics inputs read from BigQuery, stage 4/5 outputs published to it.

The SQL store stays the system of record; the warehouse is a copy for analysts. Tables are
created with DDL (partitioned by ``game_date``, clustered by their lookup columns) and written
with MERGE on their natural keys, so every publish is idempotent. Google exceptions are
translated here: server-side and connection failures are ``TransientError``, the rest
``PermanentError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, Self

import pandas as pd

from tipoff.adapters.warehouse.tables import (
    FEATURES, INPUTS, JSON, OUTPUTS, PREDICTIONS, RUNS, TableLayout, merge_sql,
)
from tipoff.domain.features import FEATURE_NAMES
from tipoff.errors import ConfigurationError, NotFoundError, PermanentError, TransientError
from tipoff.ports import RunRecord

# Rows per MERGE: keeps each statement well under BigQuery's 1 MB query-text limit.
CHUNK = 500


class BigQueryWarehouse:
    """The ``Warehouse`` port on BigQuery (or a local emulator at ``endpoint``)."""

    def __init__(self, project: str, dataset: str, *, endpoint: str | None = None,
                 location: str | None = None) -> None:
        self.project, self.dataset = project, dataset
        self._endpoint, self._location = endpoint, location
        self._client: Any = None

    def __repr__(self) -> str:
        return f"BigQueryWarehouse({self.project!r}, {self.dataset!r}, endpoint={self._endpoint!r})"

    def open(self) -> Self:
        """Create the client (no request is sent until the first call)."""
        try:
            from google.cloud import bigquery
        except ImportError as exc:
            raise ConfigurationError("the BigQuery warehouse needs google-cloud-bigquery: "
                                     "pip install 'tipoff[gcp]'") from exc
        options: dict[str, Any] = {"project": self.project, "location": self._location}
        if self._endpoint:
            from google.auth.credentials import AnonymousCredentials

            options.update(credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": self._endpoint})
        with _translated("connect to BigQuery"):
            self._client = bigquery.Client(**options)
        return self

    def close(self) -> None:
        """Release the client's HTTP session."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def ensure_tables(self) -> list[str]:
        """Create the dataset and every table if absent; return the table names."""
        with _translated("create the warehouse tables"):
            self._client.create_dataset(f"{self.project}.{self.dataset}", exists_ok=True)
        layouts = [*INPUTS.values(), *OUTPUTS]
        for layout in layouts:
            self._run(layout.ddl(self._qualified(layout.name)), f"create {layout.name}")
        return [layout.name for layout in layouts]

    def read_analytics(self, start: date, end: date) -> dict[str, pd.DataFrame]:
        """Every analytics input table's rows with ``start <= game_date <= end``."""
        return {name: self._read(layout, start, end) for name, layout in INPUTS.items()}

    def write_analytics(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
        """Upsert analytics input rows by their keys (seeding a warehouse, tests, demos)."""
        unknown = set(frames) - set(INPUTS)
        if unknown:
            raise NotFoundError(f"unknown analytics tables {sorted(unknown)}")
        return {name: self._merge(INPUTS[name], frame.to_dict("records"))
                for name, frame in frames.items()}

    def publish_features(self, game_date: date, rows: Sequence[Mapping[str, Any]]) -> int:
        """Upsert a date's feature rows (key: game_date, player_lookup, feature_version)."""
        named = [{**row, "game_date": game_date,
                  "feature_names": list(FEATURE_NAMES) if row.get("features") else None}
                 for row in rows]
        return self._merge(FEATURES, named)

    def publish_predictions(self, game_date: date, rows: Sequence[Mapping[str, Any]]) -> int:
        """Upsert a date's prediction rows (key: prediction_id)."""
        return self._merge(PREDICTIONS, [{**row, "game_date": game_date} for row in rows])

    def publish_runs(self, runs: Sequence[RunRecord]) -> int:
        """Upsert run history rows (key: run_id); runs without a game date are skipped."""
        return self._merge(RUNS, [run.as_row() for run in runs if run.game_date is not None])

    def count_rows(self, table: str) -> int:
        """Rows in one warehouse table (for checks and tests)."""
        result = self._run(f"SELECT COUNT(*) AS n FROM {self._qualified(table)}", f"count {table}")
        return int(next(iter(result))["n"])

    def run_statuses(self) -> dict[str, str]:
        """Published run ids and their status (for checks and tests)."""
        result = self._run(f"SELECT run_id, status FROM {self._qualified('run_history')}",
                           "read run_history")
        return {row["run_id"]: row["status"] for row in result}

    def read_features(self, game_date: date) -> list[dict[str, Any]]:
        """A date's published feature rows, ordered by player_lookup, JSON columns decoded."""
        frame = self._read(FEATURES, game_date, game_date, order="player_lookup")
        return frame.to_dict("records")

    def _read(self, layout: TableLayout, start: date, end: date, order: str | None = None
              ) -> pd.DataFrame:
        sql = (f"SELECT {', '.join(layout.names)} FROM {self._qualified(layout.name)} "
               f"WHERE game_date BETWEEN DATE '{start}' AND DATE '{end}'"
               + (f" ORDER BY {order}" if order else ""))
        rows = [_decoded(layout, dict(row)) for row in self._run(sql, f"read {layout.name}")]
        return pd.DataFrame(rows, columns=list(layout.names))

    def _merge(self, layout: TableLayout, rows: Sequence[Mapping[str, Any]]) -> int:
        for first in range(0, len(rows), CHUNK):
            chunk = rows[first:first + CHUNK]
            try:
                sql = merge_sql(self._qualified(layout.name), layout, chunk)
            except (TypeError, ValueError) as exc:  # a value BigQuery could never take
                raise PermanentError(f"cannot publish a {layout.name} row: {exc}") from exc
            self._run(sql, f"publish {layout.name}")
        return len(rows)

    def _run(self, sql: str, what: str) -> Any:
        if self._client is None:
            raise PermanentError("the BigQuery warehouse is not open")
        with _translated(what):
            return self._client.query(sql).result()

    def _qualified(self, table: str) -> str:
        return f"`{self.project}.{self.dataset}.{table}`"


def _decoded(layout: TableLayout, row: dict[str, Any]) -> dict[str, Any]:
    for name, kind in layout.columns:
        if kind == JSON and row.get(name) is not None:
            row[name] = json.loads(row[name])
    return row


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Google and transport exceptions → ``TransientError``/``PermanentError``, chained."""
    from google.api_core import exceptions as google
    from google.auth import exceptions as auth

    try:
        yield
    except (google.ServerError, google.TooManyRequests, google.RetryError,
            auth.TransportError, ConnectionError, TimeoutError) as exc:
        raise TransientError(f"BigQuery: could not {what}: {exc}") from exc
    except (google.GoogleAPIError, auth.GoogleAuthError) as exc:
        raise PermanentError(f"BigQuery: could not {what}: {_first_line(exc)}") from exc
    except OSError as exc:
        raise TransientError(f"BigQuery: could not {what}: {exc}") from exc


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
