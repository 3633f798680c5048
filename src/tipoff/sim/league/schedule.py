"""The regular-season schedule of the synthetic league: who plays whom, on which night, when.

Matchups follow the NBA formula (82 games, 41 at home): two games against every team of the
other conference, four against each division rival, and against the ten other conference teams
four games each except three games against four of them. Nights are filled greedily from
opening night to mid-April, with weekday-shaped nightly targets, favouring teams that are behind
their share of games, avoiding back-to-backs where possible and never three games in three days.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from tipoff.domain.dates import eastern_instant
from tipoff.sim.league.teams import TEAM_COUNT

MAX_NIGHT = 15
# Relative size of a night by weekday, Monday first: TV nights Wednesday and Friday are busy,
# Thursday is kept light for national broadcasts.
WEEKDAY_WEIGHTS = np.array([0.85, 0.90, 1.45, 0.55, 1.25, 1.05, 0.90])
BACK_TO_BACK_PENALTY = 0.45
REMATCH_PENALTY = 0.6
REMATCH_DAYS = 10


def opening_night(start_year: int) -> date:
    """The Tuesday on or after 19 October."""
    first = date(start_year, 10, 19)
    return first + timedelta(days=(1 - first.weekday()) % 7)


def final_night(start_year: int) -> date:
    """The Sunday on or after 9 April of the following year."""
    first = date(start_year + 1, 4, 9)
    return first + timedelta(days=(6 - first.weekday()) % 7)


def dark_days(start_year: int) -> set[date]:
    """Nights without games: Thanksgiving, Christmas Eve, the All-Star break (Friday–Wednesday)."""
    november = date(start_year, 11, 1)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    february = date(start_year + 1, 2, 1)
    all_star_sunday = february + timedelta(days=(6 - february.weekday()) % 7 + 14)
    break_days = {all_star_sunday + timedelta(days=n) for n in range(-2, 4)}
    return {thanksgiving, date(start_year, 12, 24)} | break_days


def game_nights(start_year: int) -> list[date]:
    """Every date of the regular season that has games."""
    first, last, dark = opening_night(start_year), final_night(start_year), dark_days(start_year)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day not in dark]


def matchups(teams: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Home and away team indices of all 1,230 games (unordered in time)."""
    home: list[int] = []
    away: list[int] = []
    for first in range(TEAM_COUNT):
        for second in range(first + 1, TEAM_COUNT):
            hosted, visited = _series(teams.iloc[first], teams.iloc[second])
            home += [first] * hosted + [second] * visited
            away += [second] * hosted + [first] * visited
    return np.array(home), np.array(away)


def _series(one: pd.Series, other: pd.Series) -> tuple[int, int]:
    """Games ``one`` hosts and games ``other`` hosts in their season series."""
    if one["conference"] != other["conference"]:
        return 1, 1
    if one["division"] == other["division"]:
        return 2, 2
    # Three-game rivals form a 4-regular graph: the next division's slots s and s+1 and the
    # previous division's slots s and s-1; a team hosts two of three against the next division.
    if other["division"] == (one["division"] + 1) % 3 and (other["slot"] - one["slot"]) % 5 < 2:
        return 2, 1
    if one["division"] == (other["division"] + 1) % 3 and (one["slot"] - other["slot"]) % 5 < 2:
        return 1, 2
    return 2, 2


def nightly_targets(rng: np.random.Generator, nights: list[date], total: int) -> np.ndarray:
    """How many games each night should hold: weekday-shaped with noise, summing to ``total``."""
    weights = WEEKDAY_WEIGHTS[[night.weekday() for night in nights]]
    weights = weights * rng.lognormal(0.0, 0.22, len(nights))
    fixed = {0: 2, 1: 12}  # opening night is a double-header, the next night nearly everyone
    fixed.update({n: 5 for n, night in enumerate(nights) if (night.month, night.day) == (12, 25)})
    free = np.array([n not in fixed for n in range(len(nights))])
    raw = np.zeros(len(nights))
    raw[free] = weights[free] * (total - sum(fixed.values())) / weights[free].sum()
    targets = np.floor(raw).astype(int).clip(1, MAX_NIGHT - 1)
    targets[list(fixed)] = list(fixed.values())
    while targets.sum() < total:
        room = free & (targets < MAX_NIGHT - 1)
        gap = np.where(room, raw - targets, -np.inf)
        top = np.argsort(-gap, kind="stable")[: min(total - targets.sum(), room.sum())]
        targets[top] += 1
    return targets


def assign_nights(
    rng: np.random.Generator, home: np.ndarray, away: np.ndarray, nights: list[date],
    targets: np.ndarray,
) -> np.ndarray:
    """The day ordinal of every game; nights past the calendar are added only if games remain."""
    state = _ScheduleState(home, away)
    ordinals = [night.toordinal() for night in nights]
    carry = 0
    for index, day in enumerate(ordinals):
        # On the last night every team still owed a game plays, as in the NBA.
        final = index == len(ordinals) - 1
        wanted = MAX_NIGHT if final else min(int(targets[index]) + carry, MAX_NIGHT)
        placed = state.fill(rng, day, wanted, targets[index:].sum())
        carry = wanted - placed
    day = ordinals[-1]
    while state.remaining.any():  # rare: the last games slip into the following days
        day += 1
        state.fill(rng, day, MAX_NIGHT, MAX_NIGHT)
    return state.day_of


class _ScheduleState:
    """Greedy night filler: what is left, and when each team last played."""

    def __init__(self, home: np.ndarray, away: np.ndarray) -> None:
        self.home, self.away = home, away
        self.remaining = np.ones(len(home), dtype=bool)
        self.day_of = np.zeros(len(home), dtype=int)
        self.games_left = np.bincount(home, minlength=TEAM_COUNT) + np.bincount(
            away, minlength=TEAM_COUNT
        )
        self.last = np.full(TEAM_COUNT, -100)
        self.before_last = np.full(TEAM_COUNT, -100)
        self.met = np.full((TEAM_COUNT, TEAM_COUNT), -100)

    def fill(self, rng: np.random.Generator, day: int, wanted: int, games_ahead: int) -> int:
        """Place up to ``wanted`` games on ``day``; return how many were placed."""
        candidates = np.flatnonzero(self.remaining & self._rested(day))
        scores = self._scores(day, candidates, games_ahead) + rng.uniform(0, 0.3, len(candidates))
        busy = np.zeros(TEAM_COUNT, dtype=bool)
        placed = 0
        for game in candidates[np.argsort(-scores, kind="stable")]:
            if placed == wanted:
                break
            home, away = self.home[game], self.away[game]
            if not (busy[home] or busy[away]):
                busy[home] = busy[away] = True
                self._place(game, day)
                placed += 1
        return placed

    def _rested(self, day: int) -> np.ndarray:
        """Games whose teams would not play a third night in a row."""
        tired = (self.last == day - 1) & (self.before_last == day - 2)
        return ~(tired[self.home] | tired[self.away])

    def _scores(self, day: int, games: np.ndarray, games_ahead: int) -> np.ndarray:
        home, away = self.home[games], self.away[games]
        share = max(2.0 * games_ahead / TEAM_COUNT, 0.5)
        urgency = self.games_left / share
        back_to_back = (self.last == day - 1).astype(float)
        rematch = (day - self.met[home, away]) < REMATCH_DAYS
        return (
            urgency[home] + urgency[away]
            - BACK_TO_BACK_PENALTY * (back_to_back[home] + back_to_back[away])
            - REMATCH_PENALTY * rematch
        )

    def _place(self, game: int, day: int) -> None:
        home, away = self.home[game], self.away[game]
        self.remaining[game] = False
        self.day_of[game] = day
        for team in (home, away):
            self.games_left[team] -= 1
            self.before_last[team], self.last[team] = self.last[team], day
        self.met[home, away] = self.met[away, home] = day


def tipoff_minutes(
    rng: np.random.Generator, days: np.ndarray, hours_behind_et: np.ndarray
) -> np.ndarray:
    """Tip-off as minutes after midnight Eastern: 7–8 pm local, some weekend afternoons."""
    local = rng.choice([19 * 60, 19 * 60 + 30, 20 * 60], size=len(days), p=[0.55, 0.35, 0.10])
    evening = local + 60 * hours_behind_et
    weekday = np.array([date.fromordinal(int(day)).weekday() for day in days])
    afternoon = (weekday >= 5) & (rng.random(len(days)) < 0.22)
    matinee = rng.choice([13 * 60, 15 * 60, 15 * 60 + 30, 18 * 60], size=len(days))
    return np.where(afternoon, matinee, evening)


def build_schedule(
    rng: np.random.Generator, teams: pd.DataFrame, start_year: int, season: str
) -> pd.DataFrame:
    """The season's games in time order with ids, ET game dates and UTC tip-offs.

    Besides the ``games`` columns it keeps ``day`` (date ordinal), ``home_idx`` and ``away_idx``.
    """
    home, away = matchups(teams)
    order = rng.permutation(len(home))
    home, away = home[order], away[order]
    nights = game_nights(start_year)
    days = assign_nights(rng, home, away, nights, nightly_targets(rng, nights, len(home)))
    minutes = tipoff_minutes(rng, days, teams["hours_behind_et"].to_numpy()[home])
    frame = pd.DataFrame({"day": days, "minute": minutes, "home_idx": home, "away_idx": away})
    frame = frame.sort_values(["day", "minute", "home_idx"], ignore_index=True)
    return _with_game_columns(frame, teams, start_year, season)


def _with_game_columns(
    frame: pd.DataFrame, teams: pd.DataFrame, start_year: int, season: str
) -> pd.DataFrame:
    names = teams["team"].to_numpy()
    dates = [date.fromordinal(int(day)) for day in frame["day"]]
    instants = [
        eastern_instant(day, int(minute) // 60, int(minute) % 60)
        for day, minute in zip(dates, frame["minute"])
    ]
    return frame.assign(
        # NBA-style ids: 002 = regular season, two-digit season year, then a running number.
        game_id=[f"002{start_year % 100:02d}{n:05d}" for n in range(1, len(frame) + 1)],
        game_date=dates,
        tipoff_utc=pd.to_datetime(instants, utc=True),
        season=season,
        season_phase="regular",
        home_team=names[frame["home_idx"]],
        away_team=names[frame["away_idx"]],
    )
