"""What the operator's dashboard shows, as JSON-ready dicts (the web page only draws them).

Tonight's numbers are ``TrendReport.night`` — the same as ``tipoff status`` and
``tipoff report --days`` — so the page, the report and the CLI cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from tipoff.domain.dates import game_date_at
from tipoff.domain.features import FEATURE_VERSION
from tipoff.domain.systems import ENSEMBLE
from tipoff.pipeline.coordinator import COORDINATOR
from tipoff.pipeline.trend_report import TrendReport
from tipoff.ports import Clock, DeadLetter, ReportStore

DeadLetters = Callable[[], list[DeadLetter]]
Breakers = Callable[[], dict[str, dict[str, Any]]]
RECENT_NIGHTS = 3  # decisions and alerts of tonight and the nights before
MAX_DEAD_LETTERS = 50
TOP_EDGES = 10


class DashboardView:
    """Assembles the dashboard's overview and a date's predictions from the store."""

    def __init__(self, store: ReportStore, report: TrendReport, clock: Clock,
                 dead_letters: DeadLetters | None = None, breakers: Breakers | None = None) -> None:
        self._store = store
        self._report = report
        self._clock = clock
        self._dead_letters: DeadLetters = dead_letters or (lambda: [])
        self._breakers: Breakers = breakers or (lambda: {})

    def overview(self, days: int = 30) -> dict[str, Any]:
        """Tonight, the last ``days`` nights, decisions, alerts, dead letters and breakers."""
        today = game_date_at(self._clock.now())
        trend = self._report.report(days, today)
        tonight = trend["nights"][-1]
        recent = [today - timedelta(days=n) for n in range(RECENT_NIGHTS)]
        return {
            "now": self._clock.now().isoformat(), "game_date": today.isoformat(),
            "tonight": {**tonight, "timeline": self._timeline(today, tonight)},
            "nights": trend["nights"], "trend": trend["trend"],
            "decisions": self._decisions(recent), "alerts": self._alerts(recent),
            "dead_letters": [_dead_letter(d) for d in self._dead_letters()][-MAX_DEAD_LETTERS:],
            "breakers": sorted((_breaker(row) for row in self._breakers().values()),
                               key=lambda r: r["system_id"]),
        }

    def predictions(self, game_date: date) -> dict[str, Any]:
        """Every active prediction of a date with the player's name and team, and the largest
        edges (ensemble rows against a line, by |predicted − line|)."""
        players = {r["player_lookup"]: r for r in
                   self._store.read_features(game_date, FEATURE_VERSION)}
        rows = [_prediction(p, players.get(p["player_lookup"]))
                for p in self._store.read_predictions(game_date)]
        edges = [r for r in rows if r["system_id"] == ENSEMBLE and r["edge"] is not None]
        edges.sort(key=lambda r: (-abs(r["edge"]), r["player_lookup"]))
        return {"game_date": game_date.isoformat(), "predictions": rows,
                "largest_edges": edges[:TOP_EDGES],
                "systems": sorted({r["system_id"] for r in rows})}

    def _timeline(self, game_date: date, night: dict) -> list[dict]:
        predictions = self._store.read_predictions(game_date)
        first = min((p["created_at"] for p in predictions), default=None)
        steps = [("stage 4 complete", night["phase4_completed_at"]),
                 ("batch claimed", night["started_at"]),
                 ("first prediction", _iso(first)),
                 ("batch complete", night["completed_at"])]
        return [{"step": step, "at": at} for step, at in steps]

    def _decisions(self, days: list[date]) -> list[dict]:
        runs = [r for day in days for r in self._store.runs(processor=COORDINATOR, game_date=day)
                if r.source]
        runs.sort(key=lambda r: r.started_at, reverse=True)
        return [{"at": r.started_at.isoformat(), "game_date": _iso(r.game_date),
                 "source": r.source, "decision": r.decision, "reason": r.reason,
                 "correlation_id": r.correlation_id} for r in runs]

    def _alerts(self, days: list[date]) -> list[dict]:
        rows = [row for day in days for row in self._store.alert_log(day)]
        return [{"game_date": _iso(r["game_date"]), "type": r["alert_type"],
                 "channel": r["channel"], "severity": r["severity"], "status": r["status"]}
                for r in rows]


def _prediction(row: dict, player: dict | None) -> dict[str, Any]:
    return {
        "player_lookup": row["player_lookup"],
        "player": player["player_name"] if player else row["player_lookup"],
        "team": player["team"] if player else None,
        "opponent": player["opponent"] if player else None,
        "system_id": row["system_id"], "predicted_points": row["predicted_points"],
        "confidence": row["confidence_score"], "recommendation": row["recommendation"],
        "line": row["line"], "line_source": row["line_source"], "bookmaker": row["bookmaker"],
        "edge": row["line_margin"],
    }


def _dead_letter(letter: DeadLetter) -> dict[str, Any]:
    data = letter.message.data
    return {"topic": letter.message.topic, "message_id": letter.message.message_id,
            "group": letter.group, "error": letter.error[:500],
            "failed_at": letter.failed_at.isoformat(),
            "game_date": data.get("game_date"), "player_lookup": data.get("player_lookup")}


def _breaker(row: dict) -> dict[str, Any]:
    return {key: _iso(value) if isinstance(value, (date, datetime)) else value
            for key, value in row.items()}


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
