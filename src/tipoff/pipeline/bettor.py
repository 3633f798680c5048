"""A bettor's view of replayed nights: ROI at the quoted prices, calibration by confidence,
coverage of the players the books priced, and one exportable row per scored prediction.

Definitions (see also ``pipeline.backtest``):

- the **bet line** of a player-night is the sportsbook ``consensus`` line when there is one,
  else the first sportsbook line; a system's pick is its recommendation at that line, one per
  player-night (a bettor takes one side of one line);
- the **price** of a pick is the best American price any book quoted for that side at that
  line value (``consensus`` alone is −110); a win pays ``payout(price)`` per unit, a loss costs
  1, a push returns the stake. ROI = profit / decided picks (pushes excluded), in percent;
- the **calibration** table buckets every leaning prediction at the bet line (predicted ≠ line;
  the side it leans is the side it would bet) by confidence and shows how often that side won;
- **lined coverage**: lined player-nights whose player played, and the share with an ensemble
  prediction. Lined = priced by a book that night; on nights without any book line (seasons
  with no stored lines) the estimate is each team's top ``PROXY_PER_TEAM`` stage 4 players by
  season scoring average, about as many as books price.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tipoff.domain.features import FEATURE_INDEX
from tipoff.domain.systems import OVER, UNDER
from tipoff.domain.systems.calibration import STANDARD_PRICE, payout

from tipoff.pipeline.replay import CONSENSUS

if TYPE_CHECKING:
    from tipoff.pipeline.backtest import PlayerNight

PROXY_PER_TEAM = 8
BUCKETS = (0, 50, 55, 60, 65, 70, 80, 101)
CSV_COLUMNS = ("game_date", "player_lookup", "points", "naive_blend", "bet_line", "line_source",
               "lined", "newly_admitted", "system_id", "predicted_points", "confidence",
               "recommendation", "outcome", "price", "profit")


def pick_price(night: PlayerNight, line: float, side: str) -> float:
    """The best quoted price for ``side`` at ``line`` (−110 without one)."""
    over, under = night.prices.get(line, (STANDARD_PRICE, STANDARD_PRICE))
    return over if side == OVER else under


def settle(recommendation: str, line: float, points: float,
           price: float) -> tuple[str | None, float]:
    """(hit / miss / push, profit per unit) of a pick; (None, 0) for PASS."""
    if recommendation not in (OVER, UNDER):
        return None, 0.0
    if points == line:
        return "push", 0.0
    won = (points > line) == (recommendation == OVER)
    return ("hit", payout(price)) if won else ("miss", -1.0)


def roi_summary(nights: Sequence[PlayerNight], system_id: str) -> dict:
    """Picks at the bet line, per side and in all: decided picks, hit rate and ROI."""
    sides: dict[str, list[tuple[str | None, float]]] = {OVER: [], UNDER: []}
    for night in nights:
        prediction = night.bet_prediction(system_id)
        if prediction is None or prediction.line is None or prediction.recommendation not in sides:
            continue
        price = pick_price(night, prediction.line, prediction.recommendation)
        outcome, profit = settle(prediction.recommendation, prediction.line, night.points, price)
        sides[prediction.recommendation].append((outcome, profit))
    return {"all": _roi(sides[OVER] + sides[UNDER]),
            "over": _roi(sides[OVER]), "under": _roi(sides[UNDER])}


def _roi(settled: list[tuple[str | None, float]]) -> dict:
    decided = [(o, p) for o, p in settled if o != "push"]
    hits = sum(o == "hit" for o, _ in decided)
    profit = sum(p for _, p in decided)
    return {"picks": len(settled), "pushes": len(settled) - len(decided), "hits": hits,
            "hit_rate_pct": round(100 * hits / len(decided), 2) if decided else None,
            "profit_units": round(profit, 2),
            "roi_pct": round(100 * profit / len(decided), 2) if decided else None}


def calibration_table(nights: Sequence[PlayerNight], system_id: str,
                      any_line: bool = False) -> list[dict]:
    """Per confidence bucket: leaning predictions at the bet line (a sportsbook's, or any with
    ``any_line``), mean confidence, how often the side they lean won (pushes left out)."""
    rows = []
    for night in nights:
        prediction = night.at_bet_line(system_id) if any_line else night.bet_prediction(system_id)
        if prediction is None or prediction.line is None or night.points == prediction.line \
                or prediction.predicted_points == prediction.line:
            continue
        leans_over = prediction.predicted_points > prediction.line
        rows.append((prediction.confidence, leans_over == (night.points > prediction.line)))
    table = []
    for low, high in zip(BUCKETS, BUCKETS[1:]):
        inside = [(c, won) for c, won in rows if low <= c < high]
        if inside:
            table.append({"confidence": f"{low}–{min(high, 100)}", "rows": len(inside),
                          "mean_confidence": round(float(np.mean([c for c, _ in inside])), 1),
                          "won_pct": round(100 * sum(w for _, w in inside) / len(inside), 1)})
    return table


def write_predictions_csv(path: Path, nights: Iterable[PlayerNight]) -> int:
    """Every scored prediction at its player-night's bet line (or estimate), one CSV row each."""
    written = 0
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for night in nights:
            for row in _csv_rows(night):
                writer.writerow(row)
                written += 1
    return written


def _csv_rows(night: PlayerNight):
    line = night.bet_line_value
    for prediction in night.predictions:
        if prediction.line != line:
            continue
        recommendation = prediction.recommendation
        bet = recommendation in (OVER, UNDER)
        price = pick_price(night, line, recommendation) if bet else STANDARD_PRICE
        outcome, profit = settle(recommendation, line, night.points, price)
        yield (night.game_date.isoformat(), night.player_lookup, night.points,
               round(night.blend, 2), line, night.line_source(line), int(night.lined),
               int(night.newly_admitted), prediction.system_id, prediction.predicted_points,
               prediction.confidence, recommendation, outcome or "",
               _price_text(price) if bet else "",
               round(profit, 4) if outcome else "")


def _price_text(price: float) -> str:
    return f"{price:g}"


def lined_players(rows: list[dict], book: Mapping[str, object]) -> set[str]:
    """The players books priced; without any book line that night, the estimate (top
    ``PROXY_PER_TEAM`` per team by season scoring average among rows with features)."""
    if book:
        return set(book)
    by_team: dict[str, list[tuple[float, str]]] = {}
    for row in rows:
        if row["features"] is not None:
            by_team.setdefault(row["team"], []).append(
                (row["features"][FEATURE_INDEX["points_avg_season"]], row["player_lookup"]))
    return {player for ranked in by_team.values()
            for _, player in sorted(ranked, reverse=True)[:PROXY_PER_TEAM]}


def quoted_prices(frame) -> dict[str, dict[float, tuple[float, float]]]:
    """player → line → (best over price, best under price) over the books' latest lines; the
    ``consensus`` line's standard −110 counts only where no book quotes that line."""
    if frame.empty:
        return {}
    latest = frame.sort_values("captured_at").groupby(["player_lookup", "bookmaker"],
                                                      as_index=False).last()
    books = latest[latest["bookmaker"] != CONSENSUS]
    best = books.groupby(["player_lookup", "line"])[["over_price", "under_price"]].max()
    found: dict[str, dict[float, tuple[float, float]]] = {}
    for (player, line), row in best.iterrows():
        found.setdefault(player, {})[float(line)] = (float(row["over_price"]),
                                                     float(row["under_price"]))
    for row in latest[latest["bookmaker"] == CONSENSUS].itertuples():
        found.setdefault(row.player_lookup, {}).setdefault(
            float(row.line), (float(row.over_price), float(row.under_price)))
    return found
