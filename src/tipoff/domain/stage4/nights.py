"""Stage 4 for one or many nights in one vectorised pass (the formulas: `builder`'s docstring).

Given the analytics tables and a list of dates, ``build_nights`` returns every date's
`feature_store` rows as live stage 4 writes them: each night sees the ``history_days`` of logs,
team stats and schedule before it and the injury reports made before its first tip-off. Live
stage 4 builds its one night with it (`builder.build_feature_rows`); training and the backtest
replay hundreds of nights at once, so a night is index ranges over each player's and team's
games (`night_features`), not a pandas group-by.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from tipoff.domain.dates import require_aware
from tipoff.domain.features import (
    COMPUTED,
    DEFAULT,
    FEATURE_VERSION,
    PARTIAL,
    quality_score,
)
from tipoff.domain.stage4 import night_features as nf
from tipoff.domain.stage4.readiness import EARLY_SEASON_ISSUE, readiness_issues
from tipoff.domain.stage4.slates import League, league, nights, rosters

DEFAULT_HISTORY_DAYS = 400  # the live path's input window (`build_features.HISTORY_WINDOW`)
UNHASHED_FIELDS = frozenset({"feature_generated_at", "created_at", "content_hash"})


def build_nights(games: pd.DataFrame, logs: pd.DataFrame, team_stats: pd.DataFrame,
                 injuries: pd.DataFrame, dates: Sequence[date], generated_at: datetime, *,
                 history_days: int = DEFAULT_HISTORY_DAYS,
                 hashed: bool = True) -> dict[date, list[dict]]:
    """Every date's stage 4 rows (ordered by player_lookup; [] without a game that night),
    without their ``content_hash`` when not ``hashed`` (training reads the values only).

    The tables may hold anything (later games, later reports): each night sees only the
    ``history_days`` before it and what was known before its first tip-off.
    """
    stamp = require_aware(generated_at)
    found: dict[date, list[dict]] = {day: [] for day in dates}
    lg = league(games, logs, team_stats, injuries)
    slate = nights(lg, list(found), history_days)
    roster = rosters(lg, slate)
    if roster.empty:
        return found
    facts, values, sources = _facts(lg, slate, roster)
    for night, start, stop in _night_spans(roster):
        day = slate.table["date"].iloc[night]
        early = bool(slate.table["early"].iloc[night])
        found[day] = _rows(facts, values, sources, range(start, stop), day, early, stamp,
                           hashed)
    return found


def _facts(lg: League, slate, roster: pd.DataFrame
           ) -> tuple[dict[str, list], np.ndarray, np.ndarray]:
    """Everything per row but the features as plain lists, and the feature matrix."""
    lines = nf.Timelines.of(lg)
    rows = nf.Rows.of(roster, slate, lines)
    status = nf.injury_statuses(roster, slate)
    values, sources = nf.feature_matrix(rows, roster, lines, status)
    complete = nf.completeness(rows, lines)
    rest = nf.player_rest(rows, lines)
    since = nf.days_since_last_game(rows, lines)
    names = lg.logs["player_name"].to_numpy(dtype=object)[roster["latest"].to_numpy()]
    facts = {
        "player_lookup": lg.players[rows.player].tolist(),
        "game_id": roster["game_id"].astype(str).tolist(),
        "player_name": [str(name) for name in names],
        "team": lg.teams[rows.team].tolist(),
        "opponent": lg.teams[rows.opponent].tolist(),
        "is_home": roster["is_home"].astype(bool).tolist(),
        "days_rest": [None if np.isnan(r) else int(r) for r in rest],
        "injury_status": [str(s) for s in status],
        "expected": complete["expected"].astype(int).tolist(),
        "actual": complete["actual"].astype(int).tolist(),
        "pct": complete["pct"].astype(float).tolist(),
        "season_games": rows.games.astype(int).tolist(),
        "opponent_data": nf.opponent_has_data(rows, lines).tolist(),
        "days_since_last": [None if np.isnan(d) else float(d) for d in since],
    }
    return facts, values, sources


def _night_spans(roster: pd.DataFrame):
    night = roster["night"].to_numpy()
    cuts = np.flatnonzero(np.diff(night)) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [len(night)]])
    return zip(night[starts].tolist(), starts.tolist(), stops.tolist())


def _rows(facts: dict[str, list], values: np.ndarray, sources: np.ndarray, span: range,
          day: date, early: bool, stamp: datetime, hashed: bool) -> list[dict]:
    if early:
        return [_finish(facts, i, day, early, stamp, _placeholder(), hashed) for i in span]
    features = values[span.start:span.stop].tolist()
    tags = sources[span.start:span.stop].tolist()
    return [_finish(facts, i, day, early, stamp, _computed(facts, i, features[k], tags[k]),
                    hashed) for k, i in enumerate(span)]


def _placeholder() -> dict[str, Any]:
    return {"features": None, "feature_sources": None, "quality_score": 0.0,
            **_verdict([EARLY_SEASON_ISSUE], {COMPUTED: 0, PARTIAL: 0, DEFAULT: 0})}


def _computed(facts: dict[str, list], i: int, features: list[float],
              tags: list[str]) -> dict[str, Any]:
    quality = quality_score(tags)
    issues = readiness_issues(
        expected=facts["expected"][i], actual=facts["actual"][i],
        season_games=facts["season_games"][i], quality=quality,
        injury_status=facts["injury_status"][i], opponent_data=facts["opponent_data"][i],
        days_since_last=facts["days_since_last"][i])
    summary = {tag: tags.count(tag) for tag in (COMPUTED, PARTIAL, DEFAULT)}
    return {"features": features, "feature_sources": tags, "quality_score": quality,
            **_verdict(issues, summary)}


def _verdict(issues: list[str], summary: dict[str, int]) -> dict[str, Any]:
    return {"is_production_ready": not issues, "data_quality_issues": issues,
            "data_source_summary": summary}


def _finish(facts: dict[str, list], i: int, day: date, early: bool, stamp: datetime,
            fields: dict, hashed: bool = True) -> dict:
    row = {
        "player_lookup": facts["player_lookup"][i],
        "game_date": day,
        "feature_version": FEATURE_VERSION,
        "game_id": facts["game_id"][i],
        "player_name": facts["player_name"][i],
        "team": facts["team"][i],
        "opponent": facts["opponent"][i],
        "is_home": facts["is_home"][i],
        "days_rest": facts["days_rest"][i],
        **fields,
        "early_season_flag": early,
        "injury_status": facts["injury_status"][i],
        "expected_games": facts["expected"][i],
        "actual_games": facts["actual"][i],
        "completeness_pct": facts["pct"][i],
        "feature_generated_at": stamp,
        "created_at": stamp,
    }
    if hashed:
        row["content_hash"] = content_hash(row)
    return row



def content_hash(row: dict[str, Any]) -> str:
    """sha256 of the row's canonical JSON, leaving out the generation and creation times."""
    body = {key: value for key, value in row.items() if key not in UNHASHED_FIELDS}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_value(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__} {value!r}")
