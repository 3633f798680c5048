"""BigQuery table layouts and literal SQL rendering for the warehouse.

Rows are written as SQL literals (``MERGE … USING UNNEST([STRUCT(…), …])``) rather than query
parameters or streaming inserts: the local emulator supports neither, and a MERGE on the natural
key is what makes a repeated publish idempotent on real BigQuery too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

# Column types: BigQuery types, plus JSON (a STRING holding json.dumps of the value).
JSON = "JSON_STRING"


@dataclass(frozen=True)
class TableLayout:
    """One warehouse table: columns with types, the natural key, the clustering columns."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    cluster: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def ddl(self, qualified: str) -> str:
        """``CREATE TABLE IF NOT EXISTS`` partitioned by game_date, clustered by ``cluster``."""
        columns = ", ".join(f"{name} {_sql_type(kind)}" for name, kind in self.columns)
        return (f"CREATE TABLE IF NOT EXISTS {qualified} ({columns}) "
                f"PARTITION BY game_date CLUSTER BY {', '.join(self.cluster)}")


def _layout(name: str, columns: str, key: str, cluster: str) -> TableLayout:
    pairs = tuple(tuple(part.split(":")) for part in columns.split())
    return TableLayout(name, pairs, tuple(key.split()), tuple(cluster.split()))  # type: ignore[arg-type]


INPUTS: dict[str, TableLayout] = {layout.name: layout for layout in (
    _layout("games", "game_id:STRING game_date:DATE tipoff_utc:TIMESTAMP season:STRING "
            "season_phase:STRING home_team:STRING away_team:STRING", "game_id", "game_id"),
    _layout("player_game_logs", "game_id:STRING game_date:DATE player_lookup:STRING "
            "player_name:STRING team:STRING opponent:STRING is_home:BOOL started:BOOL "
            "minutes:FLOAT64 points:INT64 fga:INT64 fgm:INT64 fg3a:INT64 fg3m:INT64 fta:INT64 "
            "ftm:INT64 paint_fga:INT64 mid_fga:INT64 rebounds:INT64 assists:INT64",
            "game_id player_lookup", "player_lookup team"),
    _layout("team_game_stats", "game_id:STRING team:STRING game_date:DATE pace:FLOAT64 "
            "off_rating:FLOAT64 def_rating:FLOAT64 won:BOOL", "game_id team", "team"),
    _layout("injury_reports", "game_date:DATE player_lookup:STRING status:STRING "
            "reported_at:TIMESTAMP", "game_date player_lookup reported_at", "player_lookup"),
    _layout("prop_lines", "game_date:DATE player_lookup:STRING market:STRING bookmaker:STRING "
            "line:FLOAT64 over_price:INT64 under_price:INT64 captured_at:TIMESTAMP",
            "game_date player_lookup market bookmaker captured_at", "player_lookup bookmaker"),
)}

FEATURES = _layout(
    "features", "player_lookup:STRING game_date:DATE feature_version:STRING game_id:STRING "
    "player_name:STRING team:STRING opponent:STRING is_home:BOOL days_rest:INT64 "
    "features:ARRAY<FLOAT64> feature_names:ARRAY<STRING> feature_sources:JSON_STRING "
    "quality_score:FLOAT64 is_production_ready:BOOL data_quality_issues:JSON_STRING "
    "early_season_flag:BOOL injury_status:STRING data_source_summary:JSON_STRING "
    "expected_games:INT64 actual_games:INT64 completeness_pct:FLOAT64 "
    "feature_generated_at:TIMESTAMP created_at:TIMESTAMP content_hash:STRING",
    "game_date player_lookup feature_version", "feature_version player_lookup")
PREDICTIONS = _layout(
    "predictions", "prediction_id:STRING system_id:STRING player_lookup:STRING game_id:STRING "
    "game_date:DATE predicted_points:FLOAT64 confidence_score:FLOAT64 recommendation:STRING "
    "line:FLOAT64 line_source:STRING bookmaker:STRING line_margin:FLOAT64 "
    "components:JSON_STRING feature_quality:FLOAT64 batch_id:STRING model_version:STRING "
    "is_active:BOOL superseded_by:STRING created_at:TIMESTAMP",
    "prediction_id", "system_id player_lookup")
RUNS = _layout(
    "run_history", "run_id:STRING processor:STRING game_date:DATE source:STRING "
    "decision:STRING reason:STRING status:STRING started_at:TIMESTAMP finished_at:TIMESTAMP "
    "duration_ms:FLOAT64 counts:JSON_STRING correlation_id:STRING details:JSON_STRING",
    "run_id", "processor status")
OUTPUTS = (FEATURES, PREDICTIONS, RUNS)


def _sql_type(kind: str) -> str:
    return "STRING" if kind == JSON else kind


def merge_sql(qualified: str, layout: TableLayout, rows: Sequence[Mapping[str, Any]]) -> str:
    """One MERGE upserting ``rows`` by the layout's key (a repeated MERGE adds no row)."""
    structs = [_struct(layout, row, named=i == 0) for i, row in enumerate(rows)]
    source = f"SELECT * FROM UNNEST([{', '.join(structs)}])"
    on = " AND ".join(f"T.{k} = S.{k}" for k in layout.key)
    values = [n for n in layout.names if n not in layout.key]
    update = ", ".join(f"{n} = S.{n}" for n in values)
    names = ", ".join(layout.names)
    return (f"MERGE {qualified} T USING ({source}) S ON {on} "
            f"WHEN MATCHED THEN UPDATE SET {update} "
            f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES "
            f"({', '.join('S.' + n for n in layout.names)})")


def _struct(layout: TableLayout, row: Mapping[str, Any], *, named: bool) -> str:
    # The first STRUCT names the fields; BigQuery takes the others' by position.
    return "STRUCT(" + ", ".join(literal(row.get(name), kind) + (f" AS {name}" if named else "")
                                 for name, kind in layout.columns) + ")"


def literal(value: Any, kind: str) -> str:
    """``value`` as a BigQuery literal of type ``kind``; missing/NaN values become typed NULLs."""
    if _missing(value):
        return f"CAST(NULL AS {_sql_type(kind)})"
    if kind.startswith("ARRAY<"):
        inner = kind[6:-1]
        return f"CAST([{', '.join(literal(v, inner) for v in value)}] AS {kind})"
    render = _RENDER.get(kind)
    if render is None:
        raise ValueError(f"no literal for type {kind}")
    return render(value)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA and NaT compare unequal to themselves
    except (TypeError, ValueError):
        return False


def quote(text: str) -> str:
    """A BigQuery string literal (backslash escapes)."""
    escaped = (text.replace("\\", "\\\\").replace("'", "\\'")
               .replace("\n", "\\n").replace("\r", "\\r"))
    return f"'{escaped}'"


def _float(value: Any) -> str:
    number = float(value)
    if math.isinf(number):
        return f"CAST('{'+' if number > 0 else '-'}inf' AS FLOAT64)"
    return repr(number)


def _timestamp(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if value.tzinfo is None:
        raise ValueError(f"naive timestamp {value!r}: timestamps must be aware UTC")
    return f"TIMESTAMP '{value.astimezone(timezone.utc).isoformat(sep=' ')}'"


def _date(value: Any) -> str:
    if isinstance(value, datetime) or hasattr(value, "to_pydatetime"):
        value = value.date()
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"DATE '{value.isoformat()}'"


_RENDER = {
    "STRING": lambda v: quote(str(v)),
    JSON: lambda v: quote(json.dumps(v, sort_keys=True, default=str)),
    "INT64": lambda v: str(int(v)),
    "FLOAT64": _float,
    "BOOL": lambda v: "TRUE" if bool(v) else "FALSE",
    "DATE": _date,
    "TIMESTAMP": _timestamp,
}
