"""``tipoff demo`` as a newcomer runs it: the model cache, the temporary folder, honest output.

The cache is primed with a small model under the demo's real cache key, so no test trains
(the e2e demo test trains one)."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from rich.console import Console

from tests.unit.cli_helpers import run_main, run_process
from tipoff.bootstrap import code_version, model_store
from tipoff.domain.systems import XGBOOST
from tipoff.pipeline.demo import DemoOptions, model_cache_key


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    from tests.unit.stage5_fixtures import small_model

    folder = tmp_path_factory.mktemp("cache")
    key = model_cache_key(DemoOptions(workdir=Path(".")), code_version())
    model_store(folder / "tipoff" / "models" / key).save(small_model().artifact, XGBOOST)
    return folder


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("workdir")


@pytest.fixture(scope="module")
def fresh_run(cache, workdir):
    """The one full night of this module: ``tipoff demo --json --workdir W``, output piped."""
    return run_process("demo", "--json", "--workdir", str(workdir),
                       env={"XDG_CACHE_HOME": str(cache)})


def test_the_demo_uses_the_cached_model_instead_of_training(fresh_run):
    assert fresh_run.code == 0, fresh_run.err[-2000:]
    result = json.loads(fresh_run.out)
    assert (result["model_source"], result["fresh_run"]) == ("cache", True)
    assert "training" not in fresh_run.err


def test_the_demo_prints_plain_progress_and_no_escape_codes_into_a_pipe(fresh_run):
    assert "\x1b[" not in fresh_run.out + fresh_run.err
    assert "demo: 1/4 (25%) generating the synthetic league" in fresh_run.err
    assert "demo: 4/4 (100%) done" in fresh_run.err


def test_the_demo_counts_add_up(fresh_run):
    result = json.loads(fresh_run.out)
    assert result["players_ready"] + result["players_not_ready"] == result["players_on_slate"]
    assert sum(result["not_ready_reasons"].values()) == result["players_not_ready"]
    assert sum(result["not_ready_all_reasons"].values()) >= result["players_not_ready"]
    players = [edge["player"] for edge in result["top_edges"]]
    assert len(players) == len(set(players)) == 10


def test_the_human_report_names_players_lines_and_rows_without_reprs(fresh_run):
    from tipoff.cli import demo

    console = Console(width=200, record=True, file=io.StringIO())
    original, demo.out = demo.out, console
    try:
        demo.print_demo(json.loads(fresh_run.out))
    finally:
        demo.out = original
    text = console.export_text()
    assert "players × their lines" in text and "by main reason" in text
    assert "best line each" in text and "model from the model cache" in text
    for repr_text in ("None", "{", "True"):
        assert repr_text not in text


def test_a_night_that_already_ran_in_the_workdir_is_reported_as_recorded(
        fresh_run, workdir, monkeypatch, capsys):
    assert fresh_run.code == 0
    again = run_main(monkeypatch, capsys, "demo", "--workdir", str(workdir))
    assert again.code == 0
    assert "already ran in this store at" in again.out and "recorded figures" in again.out
    recorded = json.loads(run_main(monkeypatch, capsys, "demo", "--workdir", str(workdir),
                                   "--json").out)
    assert recorded["fresh_run"] is False and recorded["recorded_at"]
    assert recorded["players_predicted"] == json.loads(fresh_run.out)["players_predicted"]


def test_the_temporary_folder_is_removed_after_a_run_and_kept_with_keep(
        fresh_run, workdir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    store = f"sqlite:///{workdir / 'tipoff.db'}"  # the night already ran there: a quick run
    ran = run_main(monkeypatch, capsys, "demo", "--json", "--store", store)
    assert ran.code == 0 and json.loads(ran.out)["workdir"] is None
    assert list(tmp_path.iterdir()) == []
    kept = run_main(monkeypatch, capsys, "demo", "--json", "--keep", "--store", store)
    folder = Path(json.loads(kept.out)["workdir"])
    assert folder.parent == tmp_path and folder.is_dir()


@pytest.mark.parametrize(("day", "words"), [
    ("2024-01-10", "2024-01-10 is outside the synthetic 2025-26 season (2025-10-21 to "),
    ("2025-12-24", "2025-12-24 has no games in the synthetic 2025-26 season"),
])
def test_a_date_outside_the_synthetic_season_is_named_as_such(day, words, tmp_path, monkeypatch,
                                                             capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ran = run_main(monkeypatch, capsys, "demo", "--date", day)
    assert ran.code == 1 and ran.err.splitlines()[-1].startswith(f"error: {words}")
    assert [line for line in ran.err.splitlines() if line.startswith("error:")] == \
        [ran.err.splitlines()[-1]]
    assert list(tmp_path.iterdir()) == []


def test_the_model_dir_option_and_the_cache_folder_are_where_the_demo_looks(tmp_path):
    from tipoff.bootstrap import demo_wiring, model_cache_dir

    wiring = demo_wiring(tmp_path / "work", tmp_path / "cache", model_dir=tmp_path / "mine")
    assert Path(wiring.models.where(XGBOOST)).parent == tmp_path / "mine"
    assert Path(wiring.cache("k").where(XGBOOST)).parent == tmp_path / "cache" / "models" / "k"
    assert model_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/tipoff")
    assert model_cache_dir({}) == Path.home() / ".cache" / "tipoff"


def test_the_cache_key_changes_with_everything_that_changes_the_model(tmp_path):
    from datetime import date

    base = DemoOptions(workdir=tmp_path)
    key = model_cache_key(base, "code-1")
    others = [model_cache_key(DemoOptions(workdir=tmp_path, seed=8), "code-1"),
              model_cache_key(DemoOptions(workdir=tmp_path, game_date=date(2026, 1, 15)), "code-1"),
              model_cache_key(base, "code-2")]
    assert key == model_cache_key(DemoOptions(workdir=tmp_path / "elsewhere"), "code-1")
    assert key not in others and len(set(others)) == 3
