"""Backtest: replay past nights through stage 4 and the five systems, and score them.

The model is trained once on the nights through ``train_through`` (default: the day before the
first replayed night). Each replayed night then sees only what stage 4 would have seen that night
(stage 4 drops every fact on or after it; all nights' rows come from one vectorised pass that
builds exactly the live builder's rows); the points the players then scored are the answer
key. The naive blend 0.5·L5 + 0.3·L10 + 0.2·season is scored alongside as ``naive_blend``.

How rows are counted:

- ``rows``, MAE, RMSE and the within-3/5 shares are over player-nights: one row per ready player
  who played, using the system's prediction at the player's bet line (the ``consensus`` line
  when a book feed gives one, else the first, lowest, line), so a player priced by three books
  weighs once. Most systems predict the same points whatever the line; the market system starts
  from the line and the ensemble weighs it, so theirs are scored at the line ``line_mae``
  measures. Errors of exactly 3 (5) points count as within.
- ``line_rows`` / ``line_mae``: the player-nights whose bet line is a sportsbook line, and
  |that line − points| on them; ``mae_on_line_rows`` is the system's MAE on the same rows.
- Recommendations, picks, hits and pushes count one prediction per player-night: the one at its
  bet line (the ``consensus`` line when a book feed gives one, else the first sportsbook line;
  see ``pipeline.bettor`` for prices, ROI, the calibration table and lined coverage); a push is
  points == line, and hit rate = hits / (picks − pushes). Predictions against tipoff's
  estimated line (no book priced the player) are counted apart under ``vs_estimate``.
- ``newly_admitted``: player-nights the replaced readiness rule excluded (10 team games of
  which fewer than 9 played, or fewer than 5 season games early in the season), scored apart.
- ``ensemble_vs_blend`` pairs the ensemble with the naive blend on exactly the player-nights the
  ensemble predicted; ``improvement`` = blend MAE − ensemble MAE (positive: the ensemble wins).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from tipoff.domain import batches as b
from tipoff.domain.features import FEATURE_VERSION
from tipoff.domain.messages import Line
from tipoff.domain.systems import (
    ENSEMBLE,
    OVER,
    PASS,
    SYSTEM_IDS,
    UNDER,
    XGBOOST,
    ModelArtifact,
    Prediction,
    PredictionUnavailable,
    XGBoostSystem,
)
from tipoff.domain.systems.base import MARKET, MINUTES_ROLE
from tipoff.domain.systems.minutes_role import slate_roles
from tipoff.domain.systems.xgboost_model import naive_blend
from tipoff.errors import InputError
from tipoff.pipeline.coordinator import estimated_line, sportsbook_lines
from tipoff.pipeline.bettor import (
    PROXY_PER_TEAM,
    calibration_table,
    lined_players,
    quoted_prices,
    roi_summary,
)
from tipoff.pipeline.predict import (
    Gate,
    PlayerContext,
    default_systems,
    ensemble_calibration,
    ensemble_weights,
    precompute_xgboost,
    predict_player,
    row_model_inputs,
)
from tipoff.pipeline.replay import Snapshot
from tipoff.pipeline.train import Progress, train
from tipoff.ports import AnalyticsStore, Clock, ModelStore

NAIVE_BLEND = "naive_blend"
REPORTED_SYSTEMS = (*SYSTEM_IDS, MINUTES_ROLE, MARKET, NAIVE_BLEND)
HIT, MISS, PUSH = "hit", "miss", "push"
DIGITS = 3


@dataclass(frozen=True)
class PlayerNight:
    """One ready player who played on a replayed night: lines, predictions and the answer."""

    game_date: date
    player_lookup: str
    points: float
    blend: float
    lines: tuple[Line, ...]
    predictions: tuple[Prediction, ...]
    prices: Mapping[float, tuple[float, float]] = field(default_factory=dict)
    market: float | None = None  # the consensus line, when the feed gives one
    lined: bool = False
    newly_admitted: bool = False

    @property
    def bet_line_value(self) -> float:
        """The line a bettor would take: the consensus line, else the first line."""
        return self.market if self.market is not None else self.lines[0].value

    def bet_prediction(self, system_id: str) -> Prediction | None:
        """The system's prediction at the bet line, when that line is a sportsbook's."""
        if self.book_line is None:
            return None
        return self.at_bet_line(system_id)

    def at_bet_line(self, system_id: str) -> Prediction | None:
        """The system's prediction at the bet line (sportsbook or estimate)."""
        line = self.bet_line_value
        return next((p for p in self.predictions
                     if p.system_id == system_id and p.line == line), None)

    def predicted(self, system_id: str) -> float | None:
        """The system's points at the bet line (None when it could not predict there)."""
        if system_id == NAIVE_BLEND:
            return self.blend
        made = self.at_bet_line(system_id)
        return None if made is None else made.predicted_points

    @property
    def book_line(self) -> float | None:
        """The bet line when a sportsbook priced the player, else None."""
        line = self.bet_line_value
        return line if self.line_source(line) == b.SPORTSBOOK else None

    def line_source(self, value: float | None) -> str | None:
        """Where the line ``value`` came from (sportsbook / estimate)."""
        return next((line.source for line in self.lines if line.value == value), None)


# --- scoring (pure) --------------------------------------------------------------------------


def score(pairs: Iterable[tuple[float, float]]) -> dict:
    """Rows, MAE, RMSE and the shares within 3 and 5 points of (predicted, actual) pairs."""
    errors = np.array([abs(p - a) for p, a in pairs], dtype=float)
    if errors.size == 0:
        return {"rows": 0, "mae": None, "rmse": None, "within_3_pct": None, "within_5_pct": None}
    return {"rows": int(errors.size),
            "mae": round(float(errors.mean()), DIGITS),
            "rmse": round(math.sqrt(float(np.mean(errors ** 2))), DIGITS),
            "within_3_pct": _pct(int((errors <= 3).sum()), errors.size),
            "within_5_pct": _pct(int((errors <= 5).sum()), errors.size)}


def pick_outcome(recommendation: str, line: float, points: float) -> str | None:
    """hit / miss / push of an OVER or UNDER pick; None for PASS."""
    if recommendation not in (OVER, UNDER):
        return None
    if points == line:
        return PUSH
    return HIT if (points > line) == (recommendation == OVER) else MISS


def hit_rate_pct(hits: int, picks: int, pushes: int) -> float | None:
    """Hits over decided picks (pushes excluded), in percent; None without any."""
    decided = picks - pushes
    return _pct(hits, decided) if decided > 0 else None


def pick_summary(picks: Iterable[tuple[str, float, float]]) -> dict:
    """Recommendation counts and hit rate of (recommendation, line, points) rows."""
    counts = Counter({OVER: 0, UNDER: 0, PASS: 0})
    outcomes: Counter = Counter()
    for recommendation, line, points in picks:
        counts[recommendation] += 1
        outcomes[pick_outcome(recommendation, line, points)] += 1
    made = counts[OVER] + counts[UNDER]
    return {"rows": sum(counts.values()), "recommendations": dict(counts), "picks": made,
            "hits": outcomes[HIT], "pushes": outcomes[PUSH],
            "hit_rate_pct": hit_rate_pct(outcomes[HIT], made, outcomes[PUSH])}


def system_summary(system_id: str, nights: Sequence[PlayerNight]) -> dict:
    """Accuracy, line and pick figures of one system (or the naive blend) over ``nights``."""
    mine = [(n, p) for n in nights if (p := n.predicted(system_id)) is not None]
    on_book = [(n, p, line) for n, p in mine if (line := n.book_line) is not None]
    summary = score((p, n.points) for n, p in mine)
    summary |= {"line_rows": len(on_book),
                "line_mae": score((line, n.points) for n, _, line in on_book)["mae"],
                "mae_on_line_rows": score((p, n.points) for n, p, _ in on_book)["mae"]}
    if system_id == NAIVE_BLEND:  # not a system: it makes no recommendations
        return summary | {"recommendations": None, "picks": None, "hits": None,
                          "pushes": None, "hit_rate_pct": None, "vs_estimate": None}
    book = pick_summary(_picks(nights, system_id, b.SPORTSBOOK))
    summary |= {key: book[key] for key in ("recommendations", "picks", "hits", "pushes",
                                           "hit_rate_pct")}
    summary |= {"roi": roi_summary(nights, system_id),
                "calibration": calibration_table(nights, system_id),
                "calibration_vs_estimate": calibration_table(
                    [n for n in nights if n.book_line is None], system_id, any_line=True)}
    return summary | {"vs_estimate": pick_summary(_picks(nights, system_id, b.ESTIMATE))}


def ensemble_vs_blend(nights: Sequence[PlayerNight], versus: str = "blend") -> dict:
    """The ensemble's MAE next to the naive blend's (or the sportsbook line's, ``versus="line"``)
    on the player-nights the ensemble predicted; ``ratio`` = ensemble / other."""
    other = f"{versus}_mae"
    pairs = [(e, other_value, n.points) for n in nights
             if (e := n.predicted(ENSEMBLE)) is not None
             and (other_value := n.blend if versus == "blend" else n.book_line) is not None]
    if not pairs:
        return {"rows": 0, "ensemble_mae": None, other: None, "improvement": None,
                "improvement_pct": None, "ratio": None}
    ensemble = float(np.mean([abs(e - pts) for e, _, pts in pairs]))
    blend = float(np.mean([abs(bl - pts) for _, bl, pts in pairs]))
    return {"rows": len(pairs), "ensemble_mae": round(ensemble, DIGITS),
            other: round(blend, DIGITS), "improvement": round(blend - ensemble, DIGITS),
            "improvement_pct": round(100 * (blend - ensemble) / blend, 2) if blend else None,
            "ratio": round(ensemble / blend, 4) if blend else None}


def summarise(nights: Sequence[PlayerNight]) -> dict:
    """The ``systems``, ``ensemble_vs_blend`` and ``newly_admitted`` parts of a report."""
    return {"systems": {sid: system_summary(sid, nights) for sid in REPORTED_SYSTEMS},
            "ensemble_vs_blend": ensemble_vs_blend(nights),
            "ensemble_vs_line": ensemble_vs_blend([n for n in nights if n.book_line is not None],
                                                  versus="line"),
            "newly_admitted": {"admitted": ensemble_vs_blend([n for n in nights if n.newly_admitted]),
                              "others": ensemble_vs_blend([n for n in nights
                                                           if not n.newly_admitted])}}


def _picks(nights: Sequence[PlayerNight], system_id: str,
           source: str) -> Iterable[tuple[str, float, float]]:
    for night in nights:
        p = night.at_bet_line(system_id)
        if p is not None and p.line is not None and night.line_source(p.line) == source:
            yield p.recommendation, p.line, night.points


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2)


# --- the replay ------------------------------------------------------------------------------


@dataclass
class _Counts:
    nights: int = 0
    ready: int = 0
    not_played: int = 0
    lined_played: int = 0  # lined player-nights whose player played
    lined_predicted: int = 0  # … of which the ensemble predicted
    lined_without_row: int = 0  # … of which stage 4 had no row at all
    lined_from_books: bool = False
    lined_missed: list[dict] = field(default_factory=list)  # who went unpredicted, and why

    def lined_coverage(self) -> dict:
        pct = (round(100 * self.lined_predicted / self.lined_played, 2)
               if self.lined_played else None)
        return {"lined": "sportsbook" if self.lined_from_books
                else f"estimated (top {PROXY_PER_TEAM} per team by season average)",
                "lined_played": self.lined_played, "predicted": self.lined_predicted,
                "coverage_pct": pct, "without_stage4_row": self.lined_without_row,
                "missed": self.lined_missed}


def run_backtest(store: AnalyticsStore, start: date, end: date, clock: Clock, *,
                 train_through: date | None = None, models: ModelStore | None = None,
                 model_name: str = XGBOOST, keep_trained: bool = True,
                 seed: int = 7, max_nights: int | None = None,
                 progress: Progress | None = None,
                 export: Callable[[list[PlayerNight]], object] | None = None) -> dict:
    """Train once through ``train_through``, replay every game night in [start, end] and score
    each system against the points scored (a JSON-ready report; see the module docstring).

    ``models`` keeps the artefact as ``model_name`` (default: not kept; nor with
    ``keep_trained=False``, which only looks there); an artefact already there trained through
    the same date (and feature version) is reused as is, whatever ``seed`` and ``max_nights``
    (which limits training to the latest nights) say. ``progress`` hears the
    training's steps first (when it trains), then each replayed night ("backtest D"). ``export``
    receives every scored player-night (e.g. to write them to a CSV file).
    """
    train_through = train_through or start - timedelta(days=1)
    snapshot, scheduled, dates = _replay_dates(store, start, end, train_through)
    began = time.perf_counter()
    model, reused = _model(store, train_through, (models, model_name, keep_trained), clock, seed,
                           max_nights, progress)
    trained = time.perf_counter()
    counts = _Counts()
    nights = _replay(snapshot, dates, model, clock.now(), counts, progress)
    report: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(),
              "train_through": train_through.isoformat(), "model_version": model.model_version,
              "model_reused": reused, "nights": counts.nights,
              "nights_without_results": len(scheduled) - len(dates),
              "ready_players": counts.ready, "players_evaluated": len(nights),
              "players_not_played": counts.not_played,
              "lined_coverage": counts.lined_coverage()}
    report |= summarise(nights)
    if export is not None:
        export(nights)
    report["seconds"] = {"train": round(trained - began, 1),
                         "replay": round(time.perf_counter() - trained, 1)}
    return report


def _replay_dates(store: AnalyticsStore, start: date, end: date,
                  train_through: date) -> tuple[Snapshot, list[date], list[date]]:
    """The snapshot (results through ``end``), the game nights in range and those of them with
    results (the ones replayed), or a clear InputError."""
    if end < start:
        raise InputError(f"backtest range is empty: {start} is after {end}")
    if train_through >= start:
        raise InputError(f"train_through {train_through} must be before the first backtest "
                         f"night {start}: the model would have seen the nights it is scored on")
    snapshot = Snapshot.load(store, end)
    dates = snapshot.game_dates(start, end)
    if not dates:
        raise InputError(f"no games scheduled between {start} and {end}")
    played = set(snapshot.logs["game_date"])
    with_results = [d for d in dates if d in played]
    if not with_results:
        raise InputError(f"no box scores for the games between {start} and {end}: import or "
                         f"generate results for those nights first")
    return snapshot, dates, with_results


def _model(store: AnalyticsStore, through: date, where: tuple[ModelStore | None, str, bool],
           clock: Clock, seed: int, max_nights: int | None,
           progress: Progress | None) -> tuple[XGBoostSystem, bool]:
    """The model trained through ``through``: reused from the model store or trained now."""
    models, name, keep = where
    existing = _existing_model(models, name, through) if models is not None else None
    if existing is not None:
        return XGBoostSystem(existing), True
    report = train(store, models if keep else None, through, clock, name=name, seed=seed,
                   max_nights=max_nights, progress=progress)
    return XGBoostSystem(report.artifact), False


def _existing_model(models: ModelStore, name: str, through: date) -> ModelArtifact | None:
    if not models.exists(name):
        return None
    try:
        artifact = models.load(name)
    except PredictionUnavailable:
        return None  # unreadable: train afresh over it
    fits = artifact.trained_through == through and artifact.feature_version == FEATURE_VERSION
    return artifact if fits else None


def _replay(snapshot: Snapshot, dates: Sequence[date], model: XGBoostSystem, now: datetime,
            counts: _Counts, progress: Progress | None) -> list[PlayerNight]:
    found: list[PlayerNight] = []
    systems = default_systems(model)
    stage4 = snapshot.feature_rows_many(dates, now)
    for n, day in enumerate(dates, start=1):
        found.extend(_night(snapshot, day, stage4[day], model, systems, counts))
        if progress:
            progress(n, len(dates), f"backtest {day}")
    return found


def _night(snapshot: Snapshot, day: date, rows: list[dict], model: XGBoostSystem,
           systems: dict, counts: _Counts) -> list[PlayerNight]:
    """Every system for the night's ready players (of its stage 4 ``rows``) who went on to
    play."""
    ready = [r for r in rows if r["is_production_ready"]]
    scored = snapshot.actual_points(day)
    played = [r for r in ready if r["player_lookup"] in scored]
    counts.nights += 1
    counts.ready += len(ready)
    counts.not_played += len(ready) - len(played)
    day_lines = snapshot.lines_on(day)
    book = sportsbook_lines(day_lines)
    lined = lined_players(rows, book)
    _count_lined(counts, day, lined, rows, {r["player_lookup"] for r in played}, set(scored),
                 bool(book))
    if not played:
        return []
    history = snapshot.history(day, {r["player_lookup"] for r in played})
    lines = {r["player_lookup"]: book.get(r["player_lookup"]) or (estimated_line(r),)
             for r in played}
    prices, markets = quoted_prices(day_lines), snapshot.market_lines(day)
    roles = slate_roles(rows)
    precomputed = precompute_xgboost(model, [
        (r["player_lookup"], row_model_inputs(r, history, roles), line.value)
        for r in played for line in lines[r["player_lookup"]]])
    weights, calibration = ensemble_weights(model), ensemble_calibration(model)
    blends = naive_blend(np.array([r["features"] for r in played], dtype=float))
    nights = []
    for row, blend in zip(played, blends):
        player = row["player_lookup"]
        context = PlayerContext(history=history.get(player, ()), days_rest=row["days_rest"],
                                player_lookup=player, precomputed=precomputed.get(player, {}),
                                calibration=calibration, prices=prices.get(player, {}),
                                role=roles.get(player))
        outcome = predict_player(row["features"], [line.value for line in lines[player]],
                                 context, systems, weights, Gate())
        market = markets.get(player)
        nights.append(PlayerNight(
            day, player, scored[player], float(blend), lines[player], tuple(outcome.predictions),
            prices.get(player, {}),
            market if any(line.value == market for line in lines[player]) else None,
            player in lined, _newly_admitted(row)))
    return nights


def _newly_admitted(row: dict) -> bool:
    """Ready only under this readiness rule: 10 team games of which fewer than 9 played (the
    old completeness rule), or fewer than 5 season games early in the season."""
    if row["expected_games"] == 10:
        return row["actual_games"] < 9
    return row["actual_games"] < 5


def _count_lined(counts: _Counts, day: date, lined: set[str], rows: list[dict],
                 predicted: set[str], scored: set[str], from_books: bool) -> None:
    on_slate = {r["player_lookup"]: r for r in rows}
    played = lined & scored
    counts.lined_played += len(played)
    counts.lined_predicted += len(played & predicted)
    counts.lined_without_row += len(played - set(on_slate))
    counts.lined_from_books |= from_books
    for player in sorted(played - predicted):
        row = on_slate.get(player)
        counts.lined_missed.append({
            "game_date": day.isoformat(), "player_lookup": player,
            "reason": "; ".join(row["data_quality_issues"]) if row
            else "no stage 4 row (no game this season, so on no roster)"})
