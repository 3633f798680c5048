"""One vocabulary for why a player was not predicted, shared by every report.

Stage 4 records each not-ready player's issues as readable strings ("completeness 6/10 below
90%", "injury status out", …). Reports count each player once, under the main reason (the
first kind in ``PRIORITY`` it has); the full lists stay in the JSON outputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

INJURED = "injured (out)"
FEW_GAMES = "too few games"
COMPLETENESS = "missed recent games"
NO_OPPONENT = "no opponent data"
LOW_QUALITY = "low feature quality"
EARLY_SEASON = "early season"

# Most decisive first: an injured player is "injured", whatever else is also true.
PRIORITY = (INJURED, EARLY_SEASON, FEW_GAMES, COMPLETENESS, NO_OPPONENT, LOW_QUALITY)

_PREFIXES = (("injury", INJURED), ("only ", FEW_GAMES), ("completeness", COMPLETENESS),
             ("no opponent", NO_OPPONENT), ("quality", LOW_QUALITY), ("early season", EARLY_SEASON))


def reason_kind(issue: str) -> str:
    """The report label of one stage 4 issue string (unknown issues keep their own words,
    without the figures)."""
    text = issue.strip().lower()
    for prefix, kind in _PREFIXES:
        if text.startswith(prefix):
            return kind
    words = [w for w in text.split() if not any(c.isdigit() for c in w)]
    return " ".join(words[:4]) or "unknown"


def main_reason(issues: Iterable[str]) -> str:
    """The one reason a not-ready player is counted under."""
    kinds = [reason_kind(i) for i in issues]
    if not kinds:
        return "unknown"
    ranked = [k for k in PRIORITY if k in kinds]
    return ranked[0] if ranked else kinds[0]


def not_ready_by_main_reason(rows: Iterable[dict]) -> dict[str, int]:
    """Not-ready feature rows counted once each, under their main reason (largest first)."""
    counts = Counter(main_reason(_issues(r)) for r in rows if not r["is_production_ready"])
    return dict(counts.most_common())


def not_ready_all_reasons(rows: Iterable[dict]) -> dict[str, int]:
    """Every reason of every not-ready row (a player with two reasons counts under both)."""
    counts = Counter(kind for r in rows if not r["is_production_ready"]
                     for kind in dict.fromkeys(reason_kind(i) for i in _issues(r)))
    return dict(counts.most_common())


def _issues(row: dict) -> list[str]:
    issues = list(row.get("data_quality_issues") or ())
    if not issues and row.get("early_season_flag"):
        return [EARLY_SEASON]
    return issues
