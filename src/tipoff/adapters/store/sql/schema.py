"""Table definitions shared by every SQL store (SQLite and PostgreSQL).

Timestamps are stored as timezone-aware UTC (``UtcDateTime`` restores the zone on SQLite,
which has no native timestamp type).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from tipoff.domain.dates import UTC, require_aware

SCHEMA_VERSION = 1


class UtcDateTime(TypeDecorator):
    """A timestamp that refuses naive values and always comes back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        aware = require_aware(value)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

schema_meta = Table(
    "schema_meta",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("migrated_at", UtcDateTime, nullable=False),
)

# --- analytics inputs (SPEC.md §3) -------------------------------------------------------

games = Table(
    "games",
    metadata,
    Column("game_id", String(32), primary_key=True),
    Column("game_date", Date, nullable=False, index=True),
    Column("tipoff_utc", UtcDateTime, nullable=False),
    Column("season", String(7), nullable=False, index=True),
    Column("season_phase", String(16), nullable=False),
    Column("home_team", String(8), nullable=False),
    Column("away_team", String(8), nullable=False),
)

player_game_logs = Table(
    "player_game_logs",
    metadata,
    Column("game_id", String(32), primary_key=True),
    Column("player_lookup", String(64), primary_key=True),
    Column("game_date", Date, nullable=False, index=True),
    Column("player_name", String(128), nullable=False),
    Column("team", String(8), nullable=False),
    Column("opponent", String(8), nullable=False),
    Column("is_home", Boolean, nullable=False),
    Column("started", Boolean, nullable=False),
    Column("minutes", Float, nullable=False),
    Column("points", Integer, nullable=False),
    Column("fga", Integer, nullable=False),
    Column("fgm", Integer, nullable=False),
    Column("fg3a", Integer, nullable=False),
    Column("fg3m", Integer, nullable=False),
    Column("fta", Integer, nullable=False),
    Column("ftm", Integer, nullable=False),
    Column("paint_fga", Integer, nullable=True),  # NULL when the source has no zone split
    Column("mid_fga", Integer, nullable=True),
    Column("rebounds", Integer, nullable=False),
    Column("assists", Integer, nullable=False),
)

team_game_stats = Table(
    "team_game_stats",
    metadata,
    Column("game_id", String(32), primary_key=True),
    Column("team", String(8), primary_key=True),
    Column("game_date", Date, nullable=False, index=True),
    Column("pace", Float, nullable=False),
    Column("off_rating", Float, nullable=False),
    Column("def_rating", Float, nullable=False),
    Column("won", Boolean, nullable=False),
)

injury_reports = Table(
    "injury_reports",
    metadata,
    Column("game_date", Date, primary_key=True),
    Column("player_lookup", String(64), primary_key=True),
    Column("reported_at", UtcDateTime, primary_key=True),
    Column("status", String(16), nullable=False),
)

prop_lines = Table(
    "prop_lines",
    metadata,
    Column("game_date", Date, primary_key=True),
    Column("player_lookup", String(64), primary_key=True),
    Column("market", String(16), primary_key=True),
    Column("bookmaker", String(32), primary_key=True),
    Column("captured_at", UtcDateTime, primary_key=True),
    Column("line", Float, nullable=False),
    Column("over_price", Integer, nullable=False),
    Column("under_price", Integer, nullable=False),
)

# The synthetic league's true per-game expected points (the irreducible-noise yardstick).
synthetic_expected_points = Table(
    "synthetic_expected_points",
    metadata,
    Column("game_id", String(32), primary_key=True),
    Column("player_lookup", String(64), primary_key=True),
    Column("game_date", Date, nullable=False, index=True),
    Column("expected_points", Float, nullable=False),
)

ANALYTICS_TABLES = {
    t.name: t
    for t in (
        games,
        player_game_logs,
        team_game_stats,
        injury_reports,
        prop_lines,
        synthetic_expected_points,
    )
}

# --- stage 4 output and operations ----------------------------------------------------------

feature_store = Table(
    "feature_store",
    metadata,
    Column("player_lookup", String(64), primary_key=True),
    Column("game_date", Date, primary_key=True),
    Column("feature_version", String(16), primary_key=True),
    Column("game_id", String(32), nullable=False),
    Column("player_name", String(128), nullable=False),
    Column("team", String(8), nullable=False),
    Column("opponent", String(8), nullable=False),
    Column("is_home", Boolean, nullable=False),
    Column("days_rest", Integer, nullable=True),
    Column("features", JSON, nullable=True),  # 25 floats in canonical order; NULL early season
    Column("feature_sources", JSON, nullable=True),
    Column("quality_score", Float, nullable=False),
    Column("is_production_ready", Boolean, nullable=False),
    Column("data_quality_issues", JSON, nullable=False),
    Column("early_season_flag", Boolean, nullable=False),
    Column("injury_status", String(16), nullable=False),
    Column("data_source_summary", JSON, nullable=False),
    Column("expected_games", Integer, nullable=False),
    Column("actual_games", Integer, nullable=False),
    Column("completeness_pct", Float, nullable=False),
    Column("feature_generated_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
)
# A night's rows are read and replaced by date (the primary key leads with the player).
Index("ix_feature_store_game_date", feature_store.c.game_date, feature_store.c.feature_version)


run_history = Table(
    "run_history",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("processor", String(64), nullable=False, index=True),
    Column("game_date", Date, nullable=True, index=True),
    Column("source", String(32), nullable=True),
    Column("decision", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("duration_ms", Float, nullable=True),
    Column("counts", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=True),
    Column("details", JSON, nullable=False),
)

# --- stage 5 ---------------------------------------------------------------------------------

prediction_batches = Table(
    "prediction_batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("game_date", Date, nullable=False, unique=True),  # one batch per game date
    Column("state", String(24), nullable=False),
    Column("source", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Column("phase4_run_id", String(64), nullable=True),
    Column("phase4_completed_at", UtcDateTime, nullable=True),
    Column("correlation_id", String(64), nullable=True),
    Column("players_on_slate", Integer, nullable=False),
    Column("players_ready", Integer, nullable=False),
    Column("details", JSON, nullable=False),
)

batch_requests = Table(
    "batch_requests",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("player_lookup", String(64), primary_key=True),
    Column("game_date", Date, nullable=False, index=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("outcome", String(16), nullable=True),  # NULL until the worker reports
    Column("reason", Text, nullable=True),
    Column("systems_succeeded", Integer, nullable=True),
    Column("systems_failed", Integer, nullable=True),
    Column("rows_written", Integer, nullable=True),
    Column("worker_id", String(64), nullable=True),
    Column("reported_at", UtcDateTime, nullable=True),
)

predictions = Table(
    "predictions",
    metadata,
    Column("prediction_id", String(64), primary_key=True),
    Column("system_id", String(32), nullable=False),
    Column("player_lookup", String(64), nullable=False),
    Column("game_id", String(32), nullable=False),
    Column("game_date", Date, nullable=False, index=True),
    Column("predicted_points", Float, nullable=False),
    Column("confidence_score", Float, nullable=False),
    Column("recommendation", String(8), nullable=False),
    Column("line", Float, nullable=True),
    Column("line_source", String(16), nullable=False),
    Column("bookmaker", String(32), nullable=True),
    Column("line_margin", Float, nullable=True),
    Column("components", JSON, nullable=False),
    Column("feature_quality", Float, nullable=False),
    Column("batch_id", String(64), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("superseded_by", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

circuit_breakers = Table(
    "circuit_breakers",
    metadata,
    Column("system_id", String(32), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    Column("consecutive_successes", Integer, nullable=False),
    Column("opened_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

alert_log_table = Table(
    "alert_log",
    metadata,
    Column("game_date", Date, primary_key=True),
    Column("alert_type", String(32), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("severity", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("first_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(32), primary_key=True),
    Column("local_day", Date, primary_key=True),  # the America/Los_Angeles day of the firing
    Column("fired_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),  # running → succeeded | failed
    Column("instance_id", String(128), nullable=False),
    Column("result", JSON, nullable=False),
)

scheduler_lease = Table(
    "scheduler_lease",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
)

phase4_waits = Table(
    "phase4_waits",
    metadata,
    Column("game_date", Date, primary_key=True),
    Column("source", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # waiting | resolved | expired
    Column("created_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("outcome", String(64), nullable=True),
)

switches = Table(
    "switches",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
