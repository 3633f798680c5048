"""Conversions between pandas frames and plain rows that SQLAlchemy can bind."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Date, Table

from tipoff.adapters.store.sql.schema import UtcDateTime


def _plain(value: Any) -> Any:
    """numpy/pandas scalars → Python; NaN/NaT/NA → None."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _as_date(value: Any) -> date | None:
    value = _plain(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value


def frame_to_rows(frame: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """Rows of ``frame`` restricted to ``table``'s columns, with plain Python values."""
    names = [c.name for c in table.columns if c.name in frame.columns]
    date_columns = {c.name for c in table.columns if isinstance(c.type, Date)}
    rows = []
    for values in frame[names].itertuples(index=False, name=None):
        row = {}
        for name, value in zip(names, values):
            row[name] = _as_date(value) if name in date_columns else _plain(value)
        rows.append(row)
    return rows


def rows_to_frame(rows: list[Any], columns: tuple[str, ...], table: Table) -> pd.DataFrame:
    """A frame with ``columns`` from result rows; timestamps become tz-aware UTC."""
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
    for column in table.columns:
        if isinstance(column.type, UtcDateTime) and column.name in frame.columns:
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True)
    return frame
