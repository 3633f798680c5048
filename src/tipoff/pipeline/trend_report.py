"""The trend report: the last N nights side by side, and how latency and coverage moved.

Every night's counts, coverage and timings are ``NightWatch.status`` for that night (the same
numbers ``tipoff status`` prints); the report adds what a morning review needs beside them:
the latency class, the average feature quality, the alerts sent and whether the 07:00 PT
promise (SPEC.md §1: predictions for ≥ 95% of ready players) was kept.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import mean, median
from typing import Protocol

from tipoff.domain.dates import PACIFIC, game_date_at, pacific_instant
from tipoff.domain.features import FEATURE_VERSION
from tipoff.pipeline.night_watch import NightWatch
from tipoff.ports import AnalyticsStore, Clock, ReportStore

SLA_HOUR = 7  # America/Los_Angeles, on the game date
SLA_COVERAGE_PCT = 95.0
EXCELLENT_S = 5 * 60
WARNING_S = 30 * 60
MAX_DAYS = 366
SENT = "sent"
SLA_WORDS = ("met", "missed", "pending", "no_games")


def latency_class(seconds: float | None) -> str | None:
    """Stage 4 → 5 latency in words: < 5 min excellent, < 30 min warning, else critical."""
    if seconds is None:
        return None
    if seconds < EXCELLENT_S:
        return "excellent"
    return "warning" if seconds < WARNING_S else "critical"


def sla_deadline(game_date: date) -> datetime:
    """07:00 America/Los_Angeles on the game date, as a UTC instant."""
    return pacific_instant(game_date, SLA_HOUR)


class TrendStore(ReportStore, AnalyticsStore, Protocol):
    """What the trend report reads: the report roles and the game schedule."""


class TrendReport:
    """Builds night summaries and the trend of a window of nights from one store."""

    def __init__(self, store: TrendStore, watch: NightWatch, clock: Clock) -> None:
        self._store = store
        self._watch = watch
        self._clock = clock

    def report(self, days: int, last: date | None = None) -> dict:
        """The ``days`` nights ending with ``last`` (default today, ET), oldest first."""
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be between 1 and {MAX_DAYS}, got {days}")
        last = last or game_date_at(self._clock.now())
        slates = set(self._store.game_dates())
        nights = [self.night(last - timedelta(days=n), slates)
                  for n in reversed(range(days))]
        return {"from": nights[0]["game_date"], "to": nights[-1]["game_date"], "days": days,
                "nights": nights, "trend": trend(nights)}

    def night(self, game_date: date, slates: set[date] | None = None) -> dict:
        """One night: its status plus latency class, feature quality, alerts and the 07:00 PT
        promise (``sla``: met, missed, pending before 07:00, or no_games on a night without
        games). ``slates``: the dates with games, when the caller has read them already."""
        status = self._watch.status(game_date)
        rows = self._store.read_features(game_date, FEATURE_VERSION)
        games = game_date in (set(self._store.game_dates()) if slates is None else slates)
        sla_met = self._sla_met(game_date, rows) if games or status["batch_id"] else None
        return {
            **status,
            "stage4_finished_at": status["phase4_completed_at"],
            "stage5_started_at": status["started_at"],
            "latency_class": latency_class(status["latency_seconds"]),
            "average_quality": _average_quality(rows),
            "alerts_sent": sum(1 for row in self._store.alert_log(game_date)
                               if row["status"] == SENT),
            "games_scheduled": games, "sla_met": sla_met,
            "sla": _sla(sla_met) if games or status["batch_id"] else "no_games",
        }

    def _sla_met(self, game_date: date, rows: list[dict]) -> bool | None:
        """Whether ≥ 95% of ready players had a prediction by 07:00 PT; None before then."""
        deadline = sla_deadline(game_date)
        if self._clock.now() < deadline:
            return None
        ready = {r["player_lookup"] for r in rows if r["is_production_ready"]}
        if not ready:
            return False
        # Superseded rows too: a re-prediction after 07:00 must not hide the first one.
        first = _first_prediction_at(self._store.read_predictions(game_date, active_only=False))
        in_time = sum(1 for player in ready if player in first and first[player] <= deadline)
        return 100.0 * in_time / len(ready) >= SLA_COVERAGE_PCT


def _average_quality(rows: list[dict]) -> float | None:
    if not rows:
        return None
    return round(sum(r["quality_score"] for r in rows) / len(rows), 1)


def _first_prediction_at(predictions: list[dict]) -> dict[str, datetime]:
    first: dict[str, datetime] = {}
    for row in predictions:
        player, at = row["player_lookup"], row["created_at"]
        if player not in first or at < first[player]:
            first[player] = at
    return first


def trend(nights: list[dict]) -> dict:
    """Latency and coverage over the window: mean, median, worst, and the direction from the
    first half of the window to the second."""
    return {
        "latency_seconds": _series([n["latency_seconds"] for n in nights], lower_is_better=True),
        "coverage_pct": _series([n["coverage_pct"] for n in nights if n["batch_id"]]),
        "lined_coverage_pct": _series([n["lined_coverage_pct"] for n in nights
                                       if n["batch_id"] and n["players_lined"]]),
        "sla": {word: sum(n["sla"] == word for n in nights) for word in SLA_WORDS},
    }


def _series(values: list[float | None], *, lower_is_better: bool = False) -> dict:
    known = [v for v in values if v is not None]
    if not known:
        return {"nights": 0, "mean": None, "median": None, "worst": None, "direction": None}
    half = len(known) // 2
    direction = "steady"
    if half:
        before, after = mean(known[:half]), mean(known[-half:])
        change = (before - after) if lower_is_better else (after - before)
        if abs(change) > 0.05 * max(abs(before), 1.0):
            direction = "improving" if change > 0 else "worsening"
    return {"nights": len(known), "mean": round(mean(known), 1),
            "median": round(median(known), 1),
            "worst": max(known) if lower_is_better else min(known), "direction": direction}


def format_trend(report: dict) -> list[str]:
    """The report as plain text: a header, one line per night, then the trend."""
    lines = [f"{'night':<10}  {'state':<17} {'source':<16} {'stage 4 done':<8} "
             f"{'latency':>9} {'class':<9} {'ready':>5} {'lined':>5} {'pred':>5} "
             f"{'cov%':>6} {'lined%':>6} {'qual':>5} {'alerts':>6}  07:00"]
    for n in report["nights"]:
        lines.append(
            f"{n['game_date']:<10}  {n['state']:<17} {n['trigger_source'] or '-':<16} "
            f"{_clock_time(n['stage4_finished_at']):<8} {_seconds(n['latency_seconds']):>9} "
            f"{n['latency_class'] or '-':<9} {n['players_ready']:>5} {n['players_lined']:>5} "
            f"{n['players_predicted']:>5} {_text(n['coverage_pct']):>6} {_text(n['lined_coverage_pct']):>6} "
            f"{_text(n['average_quality']):>5} {n['alerts_sent']:>6}  {n['sla']}")
    t = report["trend"]
    lines.append(f"latency: {_describe(t['latency_seconds'], ' s')}")
    lines.append(f"coverage of ready: {_describe(t['coverage_pct'], '%')}")
    lines.append(f"coverage of lined: {_describe(t['lined_coverage_pct'], '%')}")
    sla = t["sla"]
    lines.append("07:00 PT promise: " + ", ".join(f"{w.replace('_', ' ')} {sla[w]}"
                                                  for w in SLA_WORDS))
    return lines


def _describe(series: dict, unit: str) -> str:
    if not series["nights"]:
        return "no nights"
    return (f"mean {series['mean']}{unit}, median {series['median']}{unit}, worst "
            f"{series['worst']}{unit} over {series['nights']} nights, {series['direction']}")


def _clock_time(text: str | None) -> str:
    """An ISO instant as HH:MM Pacific (the operator's wall clock)."""
    if not text:
        return "-"
    return datetime.fromisoformat(text).astimezone(PACIFIC).strftime("%H:%M")


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def _sla(value: bool | None) -> str:
    return "pending" if value is None else ("met" if value else "missed")
