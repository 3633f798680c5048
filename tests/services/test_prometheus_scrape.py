"""A real Prometheus (Debian package ``prometheus``) scrapes a running coordinator.

The coordinator serves the simulated week's store on 127.0.0.1 behind an API token; Prometheus
gets the token in its scrape config, loads deploy/prometheus/tipoff-rules.yml, scrapes every
second, and the test reads ``tipoff_coverage_pct`` back through Prometheus' HTTP API.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import free_port, service_unavailable
from tests.services.simulated_week import serve_week
from tests.services.test_prometheus_rules import RULES

TOKEN = "prometheus-scrape-token"
DEADLINE_S = 60


@pytest.fixture(scope="module")
def coordinator(week, tmp_path_factory):
    with serve_week(week, TOKEN, tmp_path_factory.mktemp("models")) as live:
        yield live


@pytest.fixture(scope="module")
def prometheus(coordinator, tmp_path_factory):
    binary = shutil.which("prometheus")
    if binary is None:
        service_unavailable("prometheus not installed (Debian package prometheus)")
    folder = tmp_path_factory.mktemp("prometheus")
    target = coordinator.url.removeprefix("http://")
    (folder / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "tipoff", "static_configs": [{"targets": [target]}],
                            "authorization": {"type": "Bearer", "credentials": TOKEN}}]}))
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=(folder / "prometheus.log").open("w"))
    try:
        yield f"http://127.0.0.1:{port}", folder / "prometheus.log"
    finally:
        process.terminate()
        process.wait(timeout=20)


def query(url: str, expr: str) -> list[dict]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5)
    answer.raise_for_status()
    return answer.json()["data"]["result"]


def first_result(url: str, expr: str, log: Path) -> list[dict]:
    """Ask until Prometheus has scraped the series (it scrapes every second)."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        try:
            result = query(url, expr)
        except (httpx.TransportError, httpx.HTTPStatusError):
            result = []  # still starting (no socket yet, then 503 while the TSDB opens)
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"no {expr} in Prometheus after {DEADLINE_S}s; log: {log.read_text()[-2000:]}")


def test_prometheus_scrapes_the_coordinator_and_reads_the_coverage(prometheus):
    url, log = prometheus
    [sample] = first_result(url, "tipoff_coverage_pct", log)
    assert sample["metric"]["job"] == "tipoff"
    assert float(sample["value"][1]) == 100.0
    [up] = query(url, 'up{job="tipoff"}')
    assert up["value"][1] == "1"
    [lined] = query(url, "tipoff_lined_coverage_pct")
    assert 0 < float(lined["value"][1]) <= 100
    [started] = query(url, "tipoff_batch_started")
    assert started["value"][1] == "1"


def test_prometheus_loads_the_shipped_rules(prometheus):
    url, log = prometheus
    first_result(url, "tipoff:pacific_minute_of_day", log)
    groups = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    rules = {r["name"]: r["health"] for g in groups for r in g["rules"]}
    assert "TipoffNoBatchBy0610" in rules and "TipoffCoverageCritical" in rules
    assert set(rules.values()) == {"ok"}
