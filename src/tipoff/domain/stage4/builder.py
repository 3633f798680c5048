"""Stage 4: one feature row per player on D's slate, pure and vectorised (SPEC.md §4).

Only facts known before D's first tip-off are used: logs and team stats dated D or later, and
injury reports made at or after the first tip-off, are dropped here (not trusted to the
caller). Windows are the player's games of D's season before D, newest first; team windows
are the team's games of D's season before D. n is the window's number of games.

#  feature                  formula                                             source
0  points_avg_last_5        mean points L5                                      c n≥5, p 1–4
1  points_avg_last_10       mean points L10                                     c n≥10, p 1–9
2  points_avg_season        mean points, season                                 c n≥10, p 1–9
3  points_std_last_10       sample std (ddof 1) of points L10                   c n≥10, p 2–9
4  games_in_last_7_days     player's logs in [D−7, D−1]                         c
5  fatigue_score            100 − 15·(played D−1) − 5·max(0, games_7d − 3)      c n≥3, p 1–2
                            − 1.5·max(0, mean minutes L3 − 30), clamp [0, 100]
6  shot_zone_mismatch_score 100·[p2·(opp2P% − lg2P%) + 1.5·p3·(opp3P% − lg3P%)] c L10 zoned and
                            + 10·pct_paint·(oppPaint − lgPaint) when both have  opp's 15 games
                            zone data; clamp [−10, 10]. p3 = pct_three,         zoned; d no L10
                            p2 = 1 − p3; opp = allowed by the opponent in its   or no opp games;
                            last 15 games, lg = all logs over the same dates;   p otherwise
                            paint shares only over logs with zone data
7  pace_score               ((team_pace + opponent_pace)/2 − league pace)/1.5,  c both n≥10; d
                            clamp [−3, 3]; league = mean of D's season stats    either none; p
8  usage_spike_score        usage = (fga + 0.44·fta) / team's Σ in that game;   c n≥10, p 3–9
                            10·(mean L3 − season mean)/season mean, clamp ±3
9  rest_advantage           player days_rest − opponent days_rest, clamp ±2;    c both known
                            days_rest = (D − last game).days − 1, capped at 7
10 injury_risk              INJURY_RISK of the latest report for D made before  c
                            the first tip-off; no report → available (0)
11 recent_trend             10·(mean newest 2 − mean oldest 3 of L5)            c n≥5
                            / max(season mean, 5), clamp [−2, 2]
12 minutes_change           r = (mean minutes L10 − season mean)/season mean;   c n≥10, p 3–9
                            |r| ≥ 0.2 → ±2, ≥ 0.1 → ±1, else 0
13 opponent_def_rating      mean opponent def_rating, its last 15               c n=15, p 1–14
14 opponent_pace            mean opponent pace, its last 15                     c n=15, p 1–14
15 home_away                1 home, 0 away                                      c
16 back_to_back             the team played on D−1 (schedule or team stats)     c
17 playoff_game             D's game has season_phase "playoffs"                c
18 pct_paint                Σpaint_fga/Σfga L10; d if a L10 log lacks zones     c n≥10, p 1–9
19 pct_mid_range            Σmid_fga/Σfga L10; d if a L10 log lacks zones       c n≥10, p 1–9
20 pct_three                Σfg3a/Σfga L10                                      c n≥10, p 1–9
21 pct_free_throw           Σftm/Σpoints L10, clamp [0, 0.5]                    c n≥10, p 1–9
22 team_pace                mean team pace, its last 10                         c n=10, p 1–9
23 team_off_rating          mean team off_rating, its last 10                   c n=10, p 1–9
24 team_win_pct             wins/games this season; 0.5 with < 5 games          c n≥5, p 1–4

c = computed, p = partial, otherwise default: the value is ``features.DEFAULTS[name]`` (also
whenever a ratio has a zero denominator). Values are rounded to 4 decimals.

Roster: a player's latest log before D (this season; within the 365 days before D during the
first 7 days of the season, when rows are placeholders) decides their team. Completeness:
expected = min(10, team games this season before D, from the schedule and team stats); actual =
the player's logs for any team since the team's expected-th most recent game. Readiness and its
issue texts: `readiness`. The content hash covers every field but the two timestamps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from tipoff.domain.dates import require_aware
from tipoff.domain.features import (
    COMPUTED,
    DEFAULT,
    FEATURE_NAMES,
    FEATURE_VERSION,
    PARTIAL,
    quality_score,
)
from tipoff.domain.stage4.context import Context, prepare
from tipoff.domain.stage4.player import days_rest, player_features, season_games
from tipoff.domain.stage4.readiness import (
    EARLY_SEASON_ISSUE,
    completeness,
    days_since_last_game,
    prior_season_games,
    readiness_issues,
)
from tipoff.domain.stage4.team import injury_status, opponent_has_data, team_features
from tipoff.domain.stage4.zones import shot_zone_mismatch

UNHASHED_FIELDS = frozenset({"feature_generated_at", "created_at", "content_hash"})


@dataclass(frozen=True)
class Stage4Inputs:
    """The analytics tables stage 4 reads for one game date (columns as in `analytics`).

    The frames may hold more than is allowed (later games, later reports): the builder itself
    keeps only what was known before D's first tip-off.
    """

    game_date: date
    games: pd.DataFrame
    logs: pd.DataFrame
    team_stats: pd.DataFrame
    injuries: pd.DataFrame


def build_feature_rows(inputs: Stage4Inputs, generated_at: datetime) -> list[dict]:
    """One `feature_store` row per player of a team playing on D, ordered by player_lookup.

    Returns [] when no game is scheduled on D. Rows in the first 7 days of the season are
    placeholders (no features, not ready).
    """
    stamp = require_aware(generated_at)
    ctx = prepare(inputs.game_date, inputs.games, inputs.logs, inputs.team_stats, inputs.injuries)
    if ctx is None:
        return []
    players = _meta(ctx).reset_index().to_dict("records")
    if ctx.early_season:
        return [_placeholder(ctx, facts, stamp) for facts in players]
    values, sources = feature_matrix(ctx)
    return [
        _row(ctx, facts, values[i], sources[i], stamp) for i, facts in enumerate(players)
    ]


def feature_matrix(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """All 25 features for the roster: values rounded to 4 decimals, and their source tags."""
    features = player_features(ctx)
    features |= team_features(ctx, days_rest(ctx))
    features["shot_zone_mismatch_score"] = shot_zone_mismatch(
        ctx, features["pct_three"], features["pct_paint"]
    )
    values = np.column_stack([features[name].value.to_numpy(float) for name in FEATURE_NAMES])
    sources = np.column_stack([features[name].source.to_numpy(object) for name in FEATURE_NAMES])
    # Adding 0.0 turns -0.0 into 0.0, so equal values always serialise (and hash) alike.
    return np.round(values, 4) + 0.0, sources


def content_hash(row: dict[str, Any]) -> str:
    """sha256 of the row's canonical JSON, leaving out the generation and creation times."""
    body = {key: value for key, value in row.items() if key not in UNHASHED_FIELDS}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_json_value)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_value(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__} {value!r}")


def _meta(ctx: Context) -> pd.DataFrame:
    """Everything about a roster player except the features themselves."""
    return ctx.roster.assign(
        days_rest=days_rest(ctx),
        injury_status=injury_status(ctx),
        opponent_data=opponent_has_data(ctx),
        season_games=season_games(ctx),
        days_since_last=days_since_last_game(ctx),
        prior_games=prior_season_games(ctx),
    ).join(completeness(ctx))


def _placeholder(ctx: Context, facts: dict, stamp: datetime) -> dict:
    summary = {COMPUTED: 0, PARTIAL: 0, DEFAULT: 0}
    fields = {"features": None, "feature_sources": None, "quality_score": 0.0}
    return _finish(ctx, facts, stamp, fields | _verdict([EARLY_SEASON_ISSUE], summary))


def _row(
    ctx: Context,
    facts: dict,
    values: np.ndarray,
    sources: np.ndarray,
    stamp: datetime,
) -> dict:
    tags = [str(tag) for tag in sources]
    quality = quality_score(tags)
    issues = readiness_issues(
        expected=int(facts["expected"]),
        actual=int(facts["actual"]),
        season_games=int(facts["season_games"]),
        quality=quality,
        injury_status=facts["injury_status"],
        opponent_data=bool(facts["opponent_data"]),
        days_since_last=(None if pd.isna(facts["days_since_last"])
                         else float(facts["days_since_last"])),
        prior_games=int(facts["prior_games"]),
    )
    summary = {tag: tags.count(tag) for tag in (COMPUTED, PARTIAL, DEFAULT)}
    fields = {"features": [float(v) for v in values], "feature_sources": tags}
    fields["quality_score"] = quality
    return _finish(ctx, facts, stamp, fields | _verdict(issues, summary))


def _verdict(issues: list[str], summary: dict[str, int]) -> dict:
    return {
        "is_production_ready": not issues,
        "data_quality_issues": issues,
        "data_source_summary": summary,
    }


def _finish(ctx: Context, facts: dict, stamp: datetime, fields: dict) -> dict:
    rest = facts["days_rest"]
    row = {
        "player_lookup": str(facts["player_lookup"]),
        "game_date": ctx.day.date(),
        "feature_version": FEATURE_VERSION,
        "game_id": str(facts["game_id"]),
        "player_name": str(facts["player_name"]),
        "team": str(facts["team"]),
        "opponent": str(facts["opponent"]),
        "is_home": bool(facts["is_home"]),
        "days_rest": None if pd.isna(rest) else int(rest),
        **fields,
        "early_season_flag": ctx.early_season,
        "injury_status": str(facts["injury_status"]),
        "expected_games": int(facts["expected"]),
        "actual_games": int(facts["actual"]),
        "completeness_pct": float(facts["pct"]),
        "feature_generated_at": stamp,
        "created_at": stamp,
    }
    row["content_hash"] = content_hash(row)
    return row
