"""Teams and players of the synthetic league: latent strength, roles, shot profiles, trades.

Players are rows of a frame indexed by ``player_idx``; teams by ``team_idx`` (the position in
``TEAMS``). A player's ``skill`` is his points per minute: each team's skills are scaled so a
full-strength roster scores the league-average team total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tipoff.domain.players import player_lookup

LEAGUE_RATING = 114.5  # points per 100 possessions of an average team
LEAGUE_PACE = 99.5
LEAGUE_TEAM_POINTS = LEAGUE_RATING * LEAGUE_PACE / 100
TEAM_MINUTES = 240.0

# (abbreviation, conference, division, hours its local evening tip-off is behind Eastern)
TEAMS: tuple[tuple[str, int, int, int], ...] = (
    ("BOS", 0, 0, 0), ("BKN", 0, 0, 0), ("NYK", 0, 0, 0), ("PHI", 0, 0, 0), ("TOR", 0, 0, 0),
    ("CHI", 0, 1, 1), ("CLE", 0, 1, 0), ("DET", 0, 1, 0), ("IND", 0, 1, 0), ("MIL", 0, 1, 1),
    ("ATL", 0, 2, 0), ("CHA", 0, 2, 0), ("MIA", 0, 2, 0), ("ORL", 0, 2, 0), ("WAS", 0, 2, 0),
    ("DEN", 1, 0, 2), ("MIN", 1, 0, 1), ("OKC", 1, 0, 1), ("POR", 1, 0, 3), ("UTA", 1, 0, 2),
    ("GSW", 1, 1, 3), ("LAC", 1, 1, 3), ("LAL", 1, 1, 3), ("PHX", 1, 1, 2), ("SAC", 1, 1, 3),
    ("DAL", 1, 2, 1), ("HOU", 1, 2, 1), ("MEM", 1, 2, 1), ("NOP", 1, 2, 1), ("SAS", 1, 2, 1),
)
TEAM_COUNT = len(TEAMS)


@dataclass(frozen=True)
class Role:
    """A depth-chart tier: how many per roster, their minutes and scoring per minute."""

    name: str
    count: int
    minutes: tuple[float, float]
    skill: tuple[float, float]
    dnp: float  # chance that a healthy player sits by the coach's decision
    minutes_noise: float  # log-scale spread of his minutes from night to night


ROLES: tuple[Role, ...] = (
    Role("star", 1, (33.0, 36.5), (0.58, 0.80), 0.0, 0.08),
    Role("starter", 4, (27.0, 33.0), (0.32, 0.64), 0.0, 0.12),
    Role("rotation", 3, (16.0, 23.0), (0.30, 0.52), 0.02, 0.20),
    Role("bench", 2, (9.0, 14.0), (0.28, 0.48), 0.15, 0.30),
    Role("deep", 5, (7.0, 12.0), (0.24, 0.44), 0.80, 0.35),
)
ROLE_NAMES = tuple(role.name for role in ROLES)


@dataclass(frozen=True)
class Archetype:
    """A playing style: where shots come from and what else the player fills the box with."""

    name: str
    zones: tuple[float, float, float]  # shares of field-goal attempts: paint, mid-range, three
    ft_share: float  # share of his points scored at the line
    three_pct: float
    ft_pct: float
    rebounds: float  # per minute
    assists: float  # per minute
    weight: float  # how common the style is


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("guard", (0.30, 0.20, 0.50), 0.16, 0.37, 0.84, 0.11, 0.20, 0.32),
    Archetype("wing", (0.36, 0.22, 0.42), 0.17, 0.36, 0.80, 0.17, 0.10, 0.28),
    Archetype("forward", (0.46, 0.22, 0.32), 0.19, 0.34, 0.76, 0.22, 0.08, 0.20),
    Archetype("big", (0.72, 0.15, 0.13), 0.22, 0.31, 0.70, 0.31, 0.07, 0.20),
)

FIRST_NAMES = (
    "Aaron", "Andre", "Bam", "Bogdan", "Cade", "Caleb", "Darius", "DeAndre", "Devin", "Dario",
    "Evan", "Franz", "Gabriel", "Grant", "Isaiah", "Jalen", "Jamal", "Jaylen", "Jonas", "Jusuf",
    "Keegan", "Kelly", "Kevin", "Kristaps", "Luka", "Malik", "Marcus", "Mikal", "Miles", "Nikola",
    "Obi", "Onyeka", "Paolo", "Rudy", "Scottie", "Shai", "Tari", "Trey", "Tyrese", "Victor",
    "Walker", "Zion",
)
LAST_NAMES = (
    "Adebayo", "Allen", "Anderson", "Barnes", "Bates", "Bridges", "Brooks", "Brown", "Carter",
    "Collins", "Daniels", "Davis", "Dončić", "Edwards", "Fox", "Garland", "Gordon", "Green",
    "Harris", "Hart", "Hayes", "Holiday", "Ivey", "Jackson", "Jokić", "Johnson", "Jones", "King",
    "Kovač", "Lopez", "Martin", "Mitchell", "Morris", "Murray", "Nurkić", "O'Neal", "Okoro",
    "Porter", "Reed", "Robinson", "Sabonis", "Smith", "Suggs", "Thompson", "Turner", "Valančiūnas",
    "Wagner", "Walker", "Washington", "White", "Williams", "Young", "Šarić", "Zubac",
)


def build_teams(rng: np.random.Generator) -> pd.DataFrame:
    """One row per team: identity, conference/division slot and latent pace and ratings."""
    frame = pd.DataFrame(TEAMS, columns=["team", "conference", "division", "hours_behind_et"])
    # The slot within the division decides which conference rivals are met only three times.
    frame["slot"] = np.concatenate([rng.permutation(5) for _ in range(TEAM_COUNT // 5)])
    frame["pace"] = rng.normal(LEAGUE_PACE, 2.0, TEAM_COUNT)
    frame["off_rating"] = rng.normal(LEAGUE_RATING, 2.5, TEAM_COUNT)
    frame["def_rating"] = rng.normal(LEAGUE_RATING, 2.5, TEAM_COUNT)
    return frame


def build_players(rng: np.random.Generator) -> pd.DataFrame:
    """Every rostered player with his role, style, minutes, skill and shooting profile."""
    per_team = np.repeat(np.arange(len(ROLES)), [role.count for role in ROLES])
    roles = np.tile(per_team, TEAM_COUNT)
    frame = pd.DataFrame({
        "team_idx": np.repeat(np.arange(TEAM_COUNT), len(per_team)),
        "role": np.array(ROLE_NAMES)[roles],
    })
    frame["player_name"] = _unique_names(rng, len(frame))
    frame["player_lookup"] = frame["player_name"].map(player_lookup)
    frame["base_minutes"] = _uniform_by_role(rng, roles, "minutes")
    frame["skill"] = _uniform_by_role(rng, roles, "skill")
    frame["dnp"] = np.array([ROLES[r].dnp for r in roles])
    frame["minutes_noise"] = np.array([ROLES[r].minutes_noise for r in roles])
    frame = _with_shooting(frame, rng)
    frame["skill"] *= LEAGUE_TEAM_POINTS / _full_strength_points(frame)
    return frame.rename_axis("player_idx")


def _uniform_by_role(rng: np.random.Generator, roles: np.ndarray, field: str) -> np.ndarray:
    bounds = np.array([getattr(ROLES[r], field) for r in roles])
    return rng.uniform(bounds[:, 0], bounds[:, 1])


def _full_strength_points(players: pd.DataFrame) -> pd.Series:
    """Each player's team's natural total when everyone is healthy, aligned to the players."""
    weight = players["base_minutes"] * (1.0 - players["dnp"])
    scale = TEAM_MINUTES / weight.groupby(players["team_idx"]).transform("sum")
    return (players["skill"] * weight * scale).groupby(players["team_idx"]).transform("sum")


def _unique_names(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct first + last names whose lookup keys are distinct too."""
    order = rng.permutation(len(FIRST_NAMES) * len(LAST_NAMES))
    names, keys = [], set()
    for code in order:
        name = f"{FIRST_NAMES[code // len(LAST_NAMES)]} {LAST_NAMES[code % len(LAST_NAMES)]}"
        if player_lookup(name) not in keys:
            keys.add(player_lookup(name))
            names.append(name)
        if len(names) == count:
            return names
    raise ValueError(f"not enough name combinations for {count} players")


def _with_shooting(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw a style per player, then his zone mix and accuracy around the style's means."""
    weights = np.array([style.weight for style in ARCHETYPES])
    styles = rng.choice(len(ARCHETYPES), size=len(frame), p=weights / weights.sum())
    zones = np.zeros((len(frame), 3))
    for code, style in enumerate(ARCHETYPES):
        rows = styles == code
        zones[rows] = rng.dirichlet(np.array(style.zones) * 40.0, size=int(rows.sum()))
    count = len(frame)

    def pick(field: str) -> np.ndarray:
        return np.array([getattr(ARCHETYPES[style], field) for style in styles])

    return frame.assign(
        archetype=np.array([style.name for style in ARCHETYPES])[styles],
        share_paint=zones[:, 0], share_mid=zones[:, 1], share_three=zones[:, 2],
        pct_paint=rng.normal(0.60, 0.04, count).clip(0.45, 0.72),
        pct_mid=rng.normal(0.42, 0.04, count).clip(0.30, 0.52),
        pct_three=(pick("three_pct") + rng.normal(0.0, 0.025, count)).clip(0.25, 0.45),
        pct_ft=(pick("ft_pct") + rng.normal(0.0, 0.05, count)).clip(0.50, 0.95),
        ft_share=(pick("ft_share") * rng.uniform(0.7, 1.35, count)).clip(0.05, 0.35),
        rebound_rate=pick("rebounds") * rng.uniform(0.75, 1.25, count),
        assist_rate=pick("assists") * rng.uniform(0.75, 1.25, count),
    )


def trade_deadline(start_year: int) -> date:
    """The first Thursday of February: players traded on it play for their new team after it."""
    first = date(start_year + 1, 2, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7)


def roster_periods(
    rng: np.random.Generator, players: pd.DataFrame, deadline: date, first: date, last: date
) -> pd.DataFrame:
    """Which team each player is on, as day-ordinal ranges; one or two swap trades at the deadline.

    Columns: player_idx, team_idx, first_day, last_day (inclusive ordinals).
    """
    periods = pd.DataFrame({
        "player_idx": players.index.to_numpy(),
        "team_idx": players["team_idx"].to_numpy(),
        "first_day": first.toordinal(),
        "last_day": last.toordinal(),
    })
    moved = _traded_players(rng, players)
    before = periods.loc[moved].assign(last_day=deadline.toordinal())
    after = before.assign(
        team_idx=_swapped_teams(players, moved),
        first_day=deadline.toordinal() + 1,
        last_day=last.toordinal(),
    )
    kept = periods.drop(index=moved)
    combined = pd.concat([kept, before, after])
    return combined.sort_values(["player_idx", "first_day"]).reset_index(drop=True)


def _traded_players(rng: np.random.Generator, players: pd.DataFrame) -> np.ndarray:
    """Pairs of regular contributors (not stars) from distinct teams: [a1, b1, a2, b2, ...]."""
    trades = int(rng.integers(1, 3))
    teams = rng.choice(TEAM_COUNT, size=2 * trades, replace=False)
    tradeable = players["role"].isin(["starter", "rotation"])
    return np.array([
        rng.choice(players.index[tradeable & (players["team_idx"] == team)]) for team in teams
    ])


def _swapped_teams(players: pd.DataFrame, moved: np.ndarray) -> np.ndarray:
    """Each traded player's new team: his partner's old team."""
    partners = moved.reshape(-1, 2)[:, ::-1].reshape(-1)
    return players.loc[partners, "team_idx"].to_numpy()
