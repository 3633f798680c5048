"""`tipoff import lines` with the wide props feed: formats, matching figures, unmatched rows."""

from __future__ import annotations

from typer.testing import CliRunner

from tipoff.cli import app

runner = CliRunner()
BOX_HEADER = ("season,game_id,game_date,player_id,player_name,team,opponent,home,starter,"
              "position,dnp,comment,min,pts,fgm,fga,fg3m,fg3a,ftm,fta,oreb,dreb,reb,ast,stl,"
              "blk,tov,pf,plus_minus")
FEED_HEADER = ("game_date,tip_et,event_id,game,key,player,line_median,line_min,line_max,n_books,"
               "dk_line,dk_over,dk_under,fd_line,fd_over,fd_under")
GAME = "Golden State Warriors @ Sacramento Kings"


def test_a_props_feed_is_detected_matched_by_name_and_its_unmatched_rows_listed(tmp_path):
    store = f"sqlite:///{tmp_path / 's.db'}"
    box = tmp_path / "box.csv"
    box.write_text("\n".join([
        BOX_HEADER,
        "2025-26,0022500100,2025-11-03,1,Jimmy Butler III,GSW,SAC,0,1,F,0,,34,20,7,15,1,3,5,6,"
        "1,4,5,4,1,0,2,2,3",
        "2025-26,0022500100,2025-11-03,2,Domantas Sabonis,SAC,GSW,1,1,C,0,,33,18,8,12,0,0,2,2,"
        "3,9,12,6,1,0,3,3,-3",
    ]) + "\n")
    assert runner.invoke(app, ["import", "boxscores", str(box), "--store", store]).exit_code == 0
    feed = tmp_path / "props.csv"
    feed.write_text("\n".join([
        FEED_HEADER,
        f"2025-11-05,22:00,e1,{GAME},jimmy butler,Jimmy Butler,19.5,19.5,20.5,6,19.5,-115,-105,"
        "20.5,100,-122",
        f"2025-11-05,22:00,e1,{GAME},domantas sabonis,Domantas Sabonis,17.5,17.5,17.5,5,,,,,,",
        f"2025-11-05,22:00,e1,{GAME},nobody,Nobody Atall,9.5,9.5,9.5,3,,,,,,",
    ]) + "\n")
    result = runner.invoke(app, ["import", "lines", str(feed), "--store", store])
    assert result.exit_code == 0, result.output
    assert "players matched: 2 of 3 rows (66.67%)" in result.output
    assert f"unmatched: Nobody Atall ({GAME}) × 1" in result.output
    assert "prop_lines │ 4" in result.output  # consensus ×2, DraftKings, FanDuel


def test_an_unknown_lines_format_is_one_error(tmp_path):
    from tipoff.errors import InputError

    feed = tmp_path / "props.csv"
    feed.write_text(FEED_HEADER + "\n")
    result = runner.invoke(app, ["import", "lines", str(feed), "--format", "xml",
                                 "--store", f"sqlite:///{tmp_path / 's.db'}"])
    assert isinstance(result.exception, InputError)
    assert "unknown lines format 'xml'" in str(result.exception)
