"""The literal SQL the BigQuery warehouse sends: escaping, typed NULLs, MERGE on the key."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tipoff.adapters.warehouse.tables import FEATURES, RUNS, literal, merge_sql, quote


def test_quotes_and_backslashes_and_newlines_are_escaped_inside_string_literals():
    assert quote("it's a \\ path\nnext") == "'it\\'s a \\\\ path\\nnext'"


@pytest.mark.parametrize("missing", [None, float("nan")])
def test_missing_values_become_typed_nulls(missing):
    assert literal(missing, "FLOAT64") == "CAST(NULL AS FLOAT64)"
    assert literal(missing, "JSON_STRING") == "CAST(NULL AS STRING)"


def test_arrays_are_typed_even_when_empty():
    assert literal([1, 2.5], "ARRAY<FLOAT64>") == "CAST([1.0, 2.5] AS ARRAY<FLOAT64>)"
    assert literal([], "ARRAY<FLOAT64>") == "CAST([] AS ARRAY<FLOAT64>)"


def test_timestamps_are_utc_and_naive_ones_are_refused():
    aware = datetime(2026, 1, 15, 5, 30, tzinfo=timezone.utc)
    assert literal(aware, "TIMESTAMP") == "TIMESTAMP '2026-01-15 05:30:00+00:00'"
    with pytest.raises(ValueError):
        literal(datetime(2026, 1, 15, 5, 30), "TIMESTAMP")


def test_a_merge_matches_on_the_natural_key_and_updates_only_the_other_columns():
    sql = merge_sql("`p.d.run_history`", RUNS, [{"run_id": "r1", "game_date": date(2026, 1, 15)}])
    assert "ON T.run_id = S.run_id WHEN MATCHED" in sql
    assert "run_id = S.run_id," not in sql.split("UPDATE SET", 1)[1].split("WHEN NOT")[0]


def test_feature_tables_are_partitioned_by_game_date_and_clustered():
    ddl = FEATURES.ddl("`p.d.features`")
    assert "features ARRAY<FLOAT64>" in ddl and "feature_names ARRAY<STRING>" in ddl
    assert ddl.endswith("PARTITION BY game_date CLUSTER BY feature_version, player_lookup")
