"""The lines a prediction request carries: latest per bookmaker, distinct, within the bound."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pandas as pd

from tipoff.domain.messages import MAX_LINES
from tipoff.pipeline.coordinator import sportsbook_lines

AT = datetime(2026, 1, 15, 18, tzinfo=timezone.utc)


def _line(player: str, bookmaker: str, value: float, minutes: int = 0) -> dict:
    return {"game_date": date(2026, 1, 15), "player_lookup": player, "bookmaker": bookmaker,
            "market": "points", "line": value, "captured_at": AT + timedelta(minutes=minutes)}


def test_each_bookmaker_contributes_only_its_latest_line_and_equal_values_count_once():
    frame = pd.DataFrame([_line("ann", "dk", 20.5), _line("ann", "dk", 21.5, minutes=5),
                          _line("ann", "fd", 21.5), _line("ann", "mgm", 19.5)])
    lines = sportsbook_lines(frame)
    assert [line.value for line in lines["ann"]] == [19.5, 21.5]


def test_a_player_priced_at_more_lines_than_a_request_may_carry_keeps_the_lowest_ones():
    frame = pd.DataFrame([_line("bo", f"book{n}", 0.5 + n / 4) for n in range(MAX_LINES + 25)])
    lines = sportsbook_lines(frame)["bo"]
    assert len(lines) == MAX_LINES
    assert lines[0].value == 0.5 and lines[-1].value == 0.5 + (MAX_LINES - 1) / 4
