"""Move data between the store (system of record) and the optional analytics warehouse."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from tipoff.domain.features import FEATURE_VERSION
from tipoff.errors import InputError
from tipoff.ports import AnalyticsStore, FeatureStore, PredictionStore, RunHistory, Warehouse


class PublishedStore(FeatureStore, PredictionStore, RunHistory, Protocol):
    """What a publish reads: a date's features, active predictions and run history."""


def import_from_warehouse(warehouse: Warehouse, store: AnalyticsStore,
                          start: date, end: date) -> dict[str, int]:
    """Replace the store's analytics inputs dated ``start..end`` (inclusive) with the
    warehouse's, in one store transaction; return rows written per table."""
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    frames = warehouse.read_analytics(start, end)
    return store.replace_analytics(frames, dates=(start, end))


def publish_to_warehouse(store: PublishedStore, warehouse: Warehouse,
                         game_date: date) -> dict[str, int]:
    """Upsert a date's feature rows, active predictions and run history into the warehouse
    (idempotent: publishing twice leaves the same rows); return rows sent per table."""
    return {
        "features": warehouse.publish_features(
            game_date, store.read_features(game_date, FEATURE_VERSION)),
        "predictions": warehouse.publish_predictions(
            game_date, store.read_predictions(game_date, active_only=True)),
        "run_history": warehouse.publish_runs(store.runs(game_date=game_date)),
    }
