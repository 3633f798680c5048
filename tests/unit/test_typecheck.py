"""The domain, the ports, the use cases and the composition root pass mypy."""

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_the_core_packages_type_check_with_mypy(monkeypatch):
    monkeypatch.chdir(ROOT)  # the [tool.mypy] paths are relative to the project
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, f"mypy found problems:\n{stdout}{stderr}"
