"""Matching sportsbook spellings to box score players: normalisation, aliases, roster fuzz."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tipoff.sim.names import ALIAS, EXACT, FUZZY, KNOWN, PREFIX, PlayerMatcher, load_aliases, name_key
from tipoff.sim.props_feed import read_props_feed

KNOWN_PLAYERS = {
    "jimmybutleriii": "Jimmy Butler III", "nicclaxton": "Nic Claxton",
    "herbertjones": "Herbert Jones", "lukadoncic": "Luka Dončić", "rjbarrett": "RJ Barrett",
    "bubcarrington": "Bub Carrington", "jalenwilliams": "Jalen Williams",
    "jaylinwilliams": "Jaylin Williams", "kristapsporzingis": "Kristaps Porziņģis",
}
ROSTER = list(KNOWN_PLAYERS)


@pytest.mark.parametrize(("name", "key"), [
    ("Jimmy Butler III", "jimmybutler"), ("Jabari Smith Jr.", "jabarismith"),
    ("R.J. Barrett", "rjbarrett"), ("Luka Dončić", "lukadoncic"), ("De'Andre Hunter", "deandrehunter"),
    ("Shai Gilgeous-Alexander", "shaigilgeousalexander"), ("Gary Payton II", "garypayton"),
])
def test_name_keys_ignore_accents_punctuation_and_generational_suffixes(name, key):
    assert name_key(name) == key


@pytest.mark.parametrize(("book", "lookup", "method"), [
    ("Jimmy Butler", "jimmybutleriii", EXACT),
    ("Luka Doncic", "lukadoncic", EXACT),
    ("R.J. Barrett", "rjbarrett", EXACT),
    ("Nicolas Claxton", "nicclaxton", ALIAS),
    ("Carlton Carrington", "bubcarrington", ALIAS),
    ("Kristaps Porzingis", "kristapsporzingis", EXACT),
])
def test_book_spellings_match_the_box_score_player(book, lookup, method):
    match = PlayerMatcher(KNOWN_PLAYERS).match(book, ROSTER)
    assert (match.player_lookup, match.method) == (lookup, method)


def test_a_shortened_first_name_matches_within_the_roster_only():
    matcher = PlayerMatcher(KNOWN_PLAYERS, aliases={})
    assert matcher.match("Herb Jones", ROSTER).player_lookup == "herbertjones"
    assert matcher.match("Herb Jones", ROSTER).method == PREFIX
    assert matcher.match("Herb Jones", ["jimmybutleriii"]).player_lookup is None


def test_a_close_misspelling_matches_but_an_ambiguous_one_does_not():
    matcher = PlayerMatcher(KNOWN_PLAYERS, aliases={})
    assert matcher.match("Jimmy Buttler", ROSTER).method == FUZZY
    assert matcher.match("Jalen Williems", ["jalenwilliams"]).player_lookup == "jalenwilliams"
    # "Jalin Williams" is as close to Jalen as to Jaylin: no guess
    assert matcher.match("Jalin Williams", ROSTER).player_lookup is None


def test_an_exact_name_off_the_roster_still_matches_when_it_is_unique():
    match = PlayerMatcher(KNOWN_PLAYERS).match("Jimmy Butler", [])
    assert (match.player_lookup, match.method) == ("jimmybutleriii", KNOWN)


def test_the_alias_file_ships_with_the_package_and_is_read():
    assert load_aliases()[name_key("Carlton Carrington")] == name_key("Bub Carrington")


FEED_HEADER = ("game_date,tip_et,event_id,game,key,player,line_median,line_min,line_max,n_books,"
               "dk_line,dk_over,dk_under,fd_line,fd_over,fd_under,team,pts")


def test_a_props_feed_row_becomes_consensus_draftkings_and_fanduel_lines(tmp_path):
    path = tmp_path / "props.csv"
    path.write_text("\n".join([
        FEED_HEADER,
        "2025-11-05,22:00,e1,Golden State Warriors @ Sacramento Kings,jimmy butler,Jimmy Butler,"
        "19.5,19.5,20.5,6,19.5,-115,-105,20.5,+100,-122,,",
        "2025-11-05,22:00,e1,Golden State Warriors @ Sacramento Kings,nobody,Nobody Atall,"
        "9.5,9.5,9.5,3,,,,,,,,",
    ]) + "\n")
    logs = pd.DataFrame({"player_lookup": ["jimmybutleriii"], "player_name": ["Jimmy Butler III"],
                         "team": ["GSW"], "game_date": [date(2025, 11, 3)]})
    result, matching = read_props_feed(path, logs)
    lines = result.frames["prop_lines"]
    assert lines[["bookmaker", "line", "over_price", "under_price"]].values.tolist() == [
        ["consensus", 19.5, -110, -110], ["draftkings", 19.5, -115, -105],
        ["fanduel", 20.5, 100, -122]]
    assert set(lines["player_lookup"]) == {"jimmybutleriii"}
    # 22:00 ET on 2025-11-05 is 03:00 UTC the next day; stamped one hour before tip-off
    assert set(lines["captured_at"]) == {pd.Timestamp("2025-11-06T02:00:00Z")}
    assert (matching.rows, matching.matched) == (2, 1)
    assert matching.unmatched == {"Nobody Atall (Golden State Warriors @ Sacramento Kings)": 1}
    assert [p.line for p in result.problems] == [3]


@pytest.mark.shared_data
def test_the_dev_props_file_matches_at_least_99_5_percent_of_rows_to_the_right_player(shared_data):
    from tipoff.domain.players import player_lookup

    box = pd.read_csv(shared_data / "player_box_2025_26_through_2025_11_09.csv")
    older = pd.read_csv(shared_data / "player_box_2023_24_regular_season.csv")
    both = pd.concat([older, box])
    logs = pd.DataFrame({"player_lookup": both["player_name"].map(player_lookup),
                         "player_name": both["player_name"], "team": both["team"],
                         "game_date": pd.to_datetime(both["game_date"]).dt.date})
    path = shared_data / "props_player_points_2025_26_through_2025_11_09.csv"
    result, matching = read_props_feed(path, logs)
    assert matching.matched_pct >= 99.5, matching.unmatched
    feed = pd.read_csv(path)
    truth = feed["player_id"].map(box.drop_duplicates("player_id").set_index("player_id")
                                  ["player_name"].map(player_lookup))
    consensus = result.frames["prop_lines"].query("bookmaker == 'consensus'")
    found = set(zip(consensus["game_date"].astype(str), consensus["player_lookup"]))
    expected = set(zip(feed["game_date"][truth.notna()], truth.dropna()))
    assert len(expected - found) <= 0.005 * len(feed)
