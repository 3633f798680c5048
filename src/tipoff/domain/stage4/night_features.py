"""Stage 4's 25 features and row facts for many (night, player) rows in one vectorised pass.

The formulas are documented in `tipoff.domain.stage4.builder`'s docstring. Windows are index
ranges over each player's, team's and defence's rows sorted by day (`timeline`), so every
night's windows come from one sort, not a group-by per night.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipoff.domain.features import (
    COMPLETENESS_WINDOW,
    COMPUTED,
    DEFAULT,
    DEFAULTS,
    FEATURE_NAMES,
    INJURY_RISK,
    PARTIAL,
)
from tipoff.domain.stage4.slates import League, Nights
from tipoff.domain.stage4.timeline import Timeline

FREE_THROW_WEIGHT = 0.44  # the usual possession weight of a free-throw attempt
MAX_DAYS_REST = 7
TEAM_WINDOW = 10  # the team's last games (pace, offensive rating)
OPPONENT_WINDOW = 15  # the opponent's last games (defensive rating, pace)
ZONE_WINDOW = 15  # the opponent's last games for the shot-zone mismatch
THREE_WEIGHT = 1.5  # a three-point rate difference counts 1.5× a two-point one
AVAILABLE = "available"

Tagged = tuple[np.ndarray, np.ndarray]  # values, source tags
_ZONE_PARTS = ("two_made", "two_att", "three_made", "three_att", "paint", "zoned_att", "unzoned")


@dataclass(frozen=True)
class Timelines:
    """The league's rows as timelines: players' logs, teams' stats, teams' game days, what
    each defence allowed per game, and the league's logs per day."""

    logs: Timeline
    stats: Timeline
    team_days: Timeline
    allowed: Timeline
    league_logs: Timeline

    @classmethod
    def of(cls, lg: League) -> Timelines:
        logs, stats = lg.logs, lg.stats
        load = logs["fga"] + FREE_THROW_WEIGHT * logs["fta"]
        team_load = load.groupby([logs["game_id"], logs["team"]]).transform("sum")
        columns = {
            "points": logs["points"], "points_sq": logs["points"] ** 2,
            "minutes": logs["minutes"], "usage": load / team_load.where(team_load > 0),
            "fga": logs["fga"], "fg3a": logs["fg3a"], "ftm": logs["ftm"],
            "paint": logs["paint_fga"], "mid": logs["mid_fga"],
            "zone_missing": (logs["paint_fga"].isna() | logs["mid_fga"].isna()).astype(float),
        }
        parts = _zone_parts(logs)
        allowed = parts.groupby(["opponent_code", "day", "game_id"], sort=True).sum()
        daily = parts.drop(columns=["opponent_code", "game_id"]).groupby("day", sort=True).sum()
        return cls(
            logs=Timeline(logs["player"].to_numpy(), logs["day"].to_numpy(),
                          {k: v.to_numpy(float) for k, v in columns.items()}),
            stats=Timeline(stats["team_code"].to_numpy(), stats["day"].to_numpy(),
                           {k: stats[k].to_numpy(float) for k in ("pace", "off_rating",
                                                                   "def_rating", "won")}),
            team_days=Timeline(lg.team_days["team_code"].to_numpy(),
                               lg.team_days["day"].to_numpy()),
            allowed=Timeline(allowed.index.get_level_values(0).to_numpy(),
                             allowed.index.get_level_values(1).to_numpy(),
                             {k: allowed[k].to_numpy(float) for k in _ZONE_PARTS}),
            league_logs=Timeline(np.zeros(len(daily), np.int64), daily.index.to_numpy(),
                                 {k: daily[k].to_numpy(float) for k in _ZONE_PARTS}),
        )


def _zone_parts(logs: pd.DataFrame) -> pd.DataFrame:
    zoned = logs["paint_fga"].notna()
    return pd.DataFrame({
        "opponent_code": logs["opponent_code"], "day": logs["day"], "game_id": logs["game_id"],
        "two_made": logs["fgm"] - logs["fg3m"], "two_att": logs["fga"] - logs["fg3a"],
        "three_made": logs["fg3m"], "three_att": logs["fg3a"],
        "paint": logs["paint_fga"].fillna(0.0), "zoned_att": logs["fga"].where(zoned, 0.0),
        "unzoned": (~zoned).astype(float),
    })


@dataclass
class Rows:
    """The (night, player) rows as arrays: who, when, and their window boundaries."""

    player: np.ndarray
    team: np.ndarray
    opponent: np.ndarray
    day: np.ndarray
    season_start: np.ndarray
    window_start: np.ndarray
    end: np.ndarray  # the player's logs before D end here
    season: np.ndarray  # … and those of D's season start here

    @classmethod
    def of(cls, roster: pd.DataFrame, nights: Nights, lines: Timelines) -> Rows:
        table = nights.table
        night = roster["night"].to_numpy()
        player = roster["player"].to_numpy()
        day = table["day"].to_numpy()[night]
        season_start = table["season_start"].to_numpy()[night]
        return cls(player, roster["team"].to_numpy(), roster["opponent"].to_numpy(), day,
                   season_start, table["window_start"].to_numpy()[night],
                   lines.logs.before(player, day), lines.logs.before(player, season_start))

    @property
    def games(self) -> np.ndarray:
        """Season games before D."""
        return self.end - self.season

    def last(self, k: int) -> np.ndarray:
        """Start of the player's newest-``k`` season window."""
        return np.maximum(self.season, self.end - k)


def _tag(name: str, raw: np.ndarray, count: np.ndarray, full: int, minimum: int = 1) -> Tagged:
    missing = np.isnan(raw) | (count < minimum)
    source = np.select([missing, count >= full], [DEFAULT, COMPUTED], PARTIAL)
    return np.where(missing, DEFAULTS[name], raw), source


def _always(raw: np.ndarray) -> Tagged:
    return np.asarray(raw, dtype=float), np.full(len(raw), COMPUTED)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom where bottom > 0, else NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


# --- player ----------------------------------------------------------------------------------


def player_features(rows: Rows, lines: Timelines) -> dict[str, Tagged]:
    """Features 0–5, 8, 11, 12 and 18–21."""
    logs, end, n = lines.logs, rows.end, rows.games
    l10, l5, l3 = rows.last(10), rows.last(5), rows.last(3)
    n10, n5, n3 = end - l10, end - l5, end - l3
    season_points = logs.mean("points", rows.season, end)
    week = end - logs.before(rows.player, rows.day - 7)
    features = {
        "points_avg_last_5": _tag("points_avg_last_5", logs.mean("points", l5, end), n5, 5),
        "points_avg_last_10": _tag("points_avg_last_10", logs.mean("points", l10, end), n10, 10),
        "points_avg_season": _tag("points_avg_season", season_points, n, 10),
        "points_std_last_10": _tag("points_std_last_10", _std(logs, l10, end), n10, 10, 2),
        "games_in_last_7_days": _always(week),
        "fatigue_score": _fatigue(rows, lines, week),
        "usage_spike_score": _usage_spike(rows, logs),
        "recent_trend": _recent_trend(rows, logs, season_points),
        "minutes_change": _minutes_change(rows, logs),
    }
    return features | _shot_mix(logs, l10, end)


def _std(logs: Timeline, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    n = logs.count("points", lo, hi)
    total, squares = logs.total("points", lo, hi), logs.total("points_sq", lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (squares - total * total / n) / (n - 1)
    return np.where(n > 1, np.sqrt(np.maximum(var, 0.0)), np.nan)


def _fatigue(rows: Rows, lines: Timelines, week: np.ndarray) -> Tagged:
    logs = lines.logs
    l3 = rows.last(3)
    last = logs.last_day(rows.player, rows.end, rows.window_start)
    played = (last == rows.day - 1).astype(float)
    heavy_week = np.maximum(week - 3, 0)
    heavy_minutes = np.maximum(logs.mean("minutes", l3, rows.end) - 30, 0)
    raw = 100 - 15 * played - 5 * heavy_week - 1.5 * heavy_minutes
    return _tag("fatigue_score", np.clip(raw, 0, 100), rows.end - l3, 3)


def _usage_spike(rows: Rows, logs: Timeline) -> Tagged:
    base = logs.mean("usage", rows.season, rows.end)
    l3 = logs.mean("usage", rows.last(3), rows.end)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = 10 * (l3 - base) / np.where(base > 0, base, np.nan)
    change = np.where(np.isnan(change), 0.0, change)
    raw = np.where(rows.games > 0, np.clip(change, -3, 3), np.nan)
    return _tag("usage_spike_score", raw, rows.games, 10, 3)


def _recent_trend(rows: Rows, logs: Timeline, season_points: np.ndarray) -> Tagged:
    newest = logs.mean("points", rows.last(2), rows.end)
    oldest = logs.mean("points", rows.last(5), rows.last(2))
    scale = np.maximum(season_points, 5)
    raw = np.clip(10 * (newest - oldest) / scale, -2, 2)
    return _tag("recent_trend", raw, rows.end - rows.last(5), 5, 5)


def _minutes_change(rows: Rows, logs: Timeline) -> Tagged:
    base = logs.mean("minutes", rows.season, rows.end)
    l10 = logs.mean("minutes", rows.last(10), rows.end)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (l10 - base) / np.where(base > 0, base, np.nan)
    # Rounded so that an exact 10% / 20% change is not lost to float noise.
    ratio = np.round(np.where(np.isnan(ratio), 0.0, ratio), 9)
    size = np.select([np.abs(ratio) >= 0.2, np.abs(ratio) >= 0.1], [2.0, 1.0], 0.0)
    raw = np.where(rows.games > 0, np.sign(ratio) * size, np.nan)
    return _tag("minutes_change", raw, rows.games, 10, 3)


def _shot_mix(logs: Timeline, lo: np.ndarray, hi: np.ndarray) -> dict[str, Tagged]:
    n = hi - lo
    fga = logs.total("fga", lo, hi)
    shots = np.where((n > 0) & (fga > 0), fga, np.nan)
    zoned = np.where(logs.total("zone_missing", lo, hi) == 0, shots, np.nan)
    points = logs.total("points", lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        free_throw = np.clip(logs.total("ftm", lo, hi) / np.where(points > 0, points, np.nan),
                             0, 0.5)
        raws = {
            "pct_paint": logs.total("paint", lo, hi) / zoned,
            "pct_mid_range": logs.total("mid", lo, hi) / zoned,
            "pct_three": logs.total("fg3a", lo, hi) / shots,
            "pct_free_throw": free_throw,
        }
    return {name: _tag(name, raw, n, 10) for name, raw in raws.items()}


# --- team, opponent, game --------------------------------------------------------------------


def team_features(rows: Rows, roster: pd.DataFrame, lines: Timelines,
                  status: np.ndarray) -> dict[str, Tagged]:
    """Features 7, 9, 10, 13–17 and 22–24."""
    stats = lines.stats
    team_end = stats.before(rows.team, rows.day)
    team_start = stats.before(rows.team, rows.season_start)
    team_lo = np.maximum(team_start, team_end - TEAM_WINDOW)
    opp_end = stats.before(rows.opponent, rows.day)
    opp_start = stats.before(rows.opponent, rows.season_start)
    opp_lo = np.maximum(opp_start, opp_end - OPPONENT_WINDOW)
    team_n, opp_n = team_end - team_lo, opp_end - opp_lo
    team_pace, opp_pace = stats.mean("pace", team_lo, team_end), stats.mean("pace", opp_lo, opp_end)
    opp_def = stats.mean("def_rating", opp_lo, opp_end)
    return {
        "pace_score": _pace_score(rows, lines, team_pace, opp_pace, np.minimum(team_n, opp_n)),
        "rest_advantage": _rest_advantage(rows, lines),
        "injury_risk": _always(pd.Series(status).map(INJURY_RISK).to_numpy(float)),
        "opponent_def_rating": _tag("opponent_def_rating", opp_def, opp_n, 15),
        "opponent_pace": _tag("opponent_pace", opp_pace, opp_n, 15),
        "home_away": _always(roster["is_home"].to_numpy(float)),
        "back_to_back": _always(_team_last_day(rows, lines, rows.team) == rows.day - 1),
        "playoff_game": _always(roster["playoff"].to_numpy(float)),
        "team_pace": _tag("team_pace", team_pace, team_n, 10),
        "team_off_rating": _tag("team_off_rating", stats.mean("off_rating", team_lo, team_end),
                                team_n, 10),
        "team_win_pct": _win_pct(stats, team_start, team_end),
    }


def opponent_has_data(rows: Rows, lines: Timelines) -> np.ndarray:
    """The opponent has a team-stats row this season before D."""
    stats = lines.stats
    return stats.before(rows.opponent, rows.day) > stats.before(rows.opponent, rows.season_start)


def _pace_score(rows: Rows, lines: Timelines, team: np.ndarray, opp: np.ndarray,
                count: np.ndarray) -> Tagged:
    raw = np.clip(((team + opp) / 2 - league_pace(rows, lines.stats)) / 1.5, -3, 3)
    return _tag("pace_score", raw, count, 10)


def league_pace(rows: Rows, stats: Timeline) -> np.ndarray:
    """Mean pace of D's season stats before D, per row.

    Summed per night by pandas over the rows in the builder's order (team, newest first), so
    the mean is bit-identical: a pace score can sit exactly on a rounding boundary.
    """
    nights = pd.DataFrame({"day": rows.day, "start": rows.season_start})
    unique = nights.drop_duplicates()
    pace = stats.values("pace")
    means = {}
    for day, start in zip(unique["day"].tolist(), unique["start"].tolist()):
        chosen = np.flatnonzero((stats.days >= start) & (stats.days < day))
        order = np.lexsort((-chosen, stats.groups[chosen]))
        means[(day, start)] = pd.Series(pace[chosen[order]]).mean()
    return np.array([means[key] for key in zip(rows.day.tolist(), rows.season_start.tolist())],
                    dtype=float)


def _team_last_day(rows: Rows, lines: Timelines, teams: np.ndarray) -> np.ndarray:
    days = lines.team_days
    return days.last_day(teams, days.before(teams, rows.day), rows.window_start)


def player_rest(rows: Rows, lines: Timelines) -> np.ndarray:
    """Days between the player's last game and D minus one, capped at 7 (NaN: no game)."""
    last = lines.logs.last_day(rows.player, rows.end, rows.window_start)
    return np.minimum(rows.day - last - 1, MAX_DAYS_REST)


def _rest_advantage(rows: Rows, lines: Timelines) -> Tagged:
    opponent_rest = np.minimum(rows.day - _team_last_day(rows, lines, rows.opponent) - 1,
                               MAX_DAYS_REST)
    raw = np.clip(player_rest(rows, lines) - opponent_rest, -2, 2)
    return _tag("rest_advantage", raw, (~np.isnan(raw)).astype(int), 1)


def _win_pct(stats: Timeline, lo: np.ndarray, hi: np.ndarray) -> Tagged:
    n = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(n >= 5, stats.total("won", lo, hi) / n, 0.5)
    return _tag("team_win_pct", raw, n, 5)


def injury_statuses(roster: pd.DataFrame, nights: Nights) -> np.ndarray:
    """Each row's latest status reported before the first tip-off; available without one."""
    status = roster[["night", "player"]].merge(nights.injuries, on=["night", "player"],
                                                how="left")["status"]
    return status.fillna(AVAILABLE).to_numpy(dtype=object)


# --- zones -----------------------------------------------------------------------------------


def shot_zone_mismatch(rows: Rows, lines: Timelines, pct_three: Tagged,
                       pct_paint: Tagged) -> Tagged:
    """Feature 6: the L10 shot mix against what the opponent allowed in its last 15 games."""
    allowed, league_logs = lines.allowed, lines.league_logs
    end = allowed.before(rows.opponent, rows.day)
    lo = np.maximum(allowed.before(rows.opponent, rows.season_start), end - ZONE_WINDOW)
    games = end - lo
    start = allowed.days[np.minimum(lo, max(len(allowed.days) - 1, 0))] if len(allowed.days) \
        else np.zeros(len(lo), np.int64)
    zeros = np.zeros(len(lo), np.int64)
    league_lo, league_hi = league_logs.before(zeros, start), league_logs.before(zeros, rows.day)
    opp = _rates(allowed, lo, end)
    base = _rates(league_logs, league_lo, league_hi)
    has = games > 0
    delta = {k: np.where(has, opp[k] - base[k], np.nan) for k in opp}
    p3 = pct_three[0]
    score = 100 * ((1 - p3) * np.nan_to_num(delta["two"]) + THREE_WEIGHT * p3
                   * np.nan_to_num(delta["three"]))
    zone = (pct_paint[1] != DEFAULT) & ~np.isnan(delta["paint"])
    score = score + np.where(zone, 10 * pct_paint[0] * delta["paint"], 0.0)
    complete = has & (allowed.total("unzoned", lo, end) == 0)
    usable = (np.minimum(rows.games, 10) > 0) & has
    full = (pct_paint[1] == COMPUTED) & (games >= ZONE_WINDOW) & zone & complete
    grade = usable.astype(int) + (usable & full).astype(int)
    raw = np.where(usable, np.clip(score, -10, 10), np.nan)
    return _tag("shot_zone_mismatch_score", raw, grade, 2)


def _rates(line: Timeline, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
    def ratio(top: str, bottom: str) -> np.ndarray:
        return _ratio(line.total(top, lo, hi), line.total(bottom, lo, hi))

    return {"two": ratio("two_made", "two_att"), "three": ratio("three_made", "three_att"),
            "paint": ratio("paint", "zoned_att")}


# --- completeness and readiness facts --------------------------------------------------------


def completeness(rows: Rows, lines: Timelines) -> pd.DataFrame:
    """Expected games (the team's last ≤ 10 this season), the player's logs since, and the %."""
    days = lines.team_days
    end = days.before(rows.team, rows.day)
    expected = np.minimum(end - days.before(rows.team, rows.season_start), COMPLETENESS_WINDOW)
    since = days.days[np.clip(end - expected, 0, max(len(days.days) - 1, 0))] if len(days.days) \
        else np.zeros(len(end), np.int64)
    logged = rows.end - lines.logs.before(rows.player, since)
    actual = np.where(expected > 0, np.minimum(logged, expected), 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(expected > 0, np.round(100 * actual / np.maximum(expected, 1), 2), 100.0)
    return pd.DataFrame({"expected": expected, "actual": actual, "pct": pct})


def days_since_last_game(rows: Rows, lines: Timelines) -> np.ndarray:
    """Days from the player's last game to D (NaN without any)."""
    return rows.day - lines.logs.last_day(rows.player, rows.end, rows.window_start)


def feature_matrix(rows: Rows, roster: pd.DataFrame, lines: Timelines,
                   status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All 25 features: values rounded to 4 decimals (as the builder), and source tags."""
    features = player_features(rows, lines)
    features |= team_features(rows, roster, lines, status)
    features["shot_zone_mismatch_score"] = shot_zone_mismatch(
        rows, lines, features["pct_three"], features["pct_paint"])
    values = np.column_stack([features[name][0] for name in FEATURE_NAMES]).astype(float)
    sources = np.column_stack([features[name][1] for name in FEATURE_NAMES])
    return np.round(values, 4) + 0.0, sources
