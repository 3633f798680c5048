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

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd

from tipoff.domain.stage4.nights import build_nights, content_hash

__all__ = ["Stage4Inputs", "build_feature_rows", "content_hash"]


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
    placeholders (no features, not ready). The same pass as many nights at once
    (`nights.build_nights`), over the inputs' whole history.
    """
    day = inputs.game_date
    return build_nights(inputs.games, inputs.logs, inputs.team_stats, inputs.injuries, [day],
                        generated_at, history_days=_days_given(inputs))[day]


def _days_given(inputs: Stage4Inputs) -> int:
    """How far back the inputs reach before D, in days (all of it is history the night sees)."""
    dates = [pd.to_datetime(frame["game_date"]).min()
             for frame in (inputs.games, inputs.logs, inputs.team_stats) if len(frame)]
    earliest = min(dates, default=pd.Timestamp(inputs.game_date))
    return max(1, (pd.Timestamp(inputs.game_date) - earliest.normalize()).days + 1)
