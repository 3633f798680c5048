"""deploy/grafana/tipoff.json: an importable dashboard whose every query names only metrics
the coordinator exports (read from a live ``/metrics`` of the simulated week)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tipoff.config import Settings
from tipoff.services.http import create_app
from tipoff.services.runtime import build_services
from tests.services.test_http_api import Api
from tests.services.test_prometheus_rules import RULES

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "tipoff.json"
PROMETHEUS_OWN = {"up"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "offset", "le", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: identifiers that are not functions, keywords,
    label names, label values or durations."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or match.group().lower() in KEYWORDS:
            continue
        names.add(match.group())
    return names


@pytest.fixture(scope="module")
def exported(week, tmp_path_factory) -> set[str]:
    settings = Settings(store_url=week.url, bus_url="memory://",
                        model_dir=tmp_path_factory.mktemp("models"))
    services = build_services(settings, week.clock, workers=0, with_scheduler=False)
    try:
        text = Api(create_app(services)).get("/metrics").text
    finally:
        services.stop()
    names = set()
    for family in text_string_to_metric_families(text):
        # A labelled counter has no sample until its first increment: name it by its family.
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        names |= {s.name for s in family.samples}
    return names


def test_the_dashboard_is_an_importable_grafana_dashboard():
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] == "tipoff-night" and board["title"] and board["schemaVersion"] >= 36
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "job"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) >= 10
    for panel in board["panels"]:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["targets"]
        assert panel["datasource"]["uid"] == "${datasource}"


def test_every_dashboard_query_names_only_metrics_tipoff_exports(exported):
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    named = set().union(*(metric_names(e) for e in exprs))
    assert {"tipoff_coverage_pct", "tipoff_lined_coverage_pct", "tipoff_sla_met"} <= named
    assert named - PROMETHEUS_OWN <= exported


def test_every_alert_rule_names_only_exported_or_recorded_metrics(exported):
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    recorded = {r["record"] for r in rules if "record" in r}
    named = set().union(*(metric_names(r["expr"]) for r in rules))
    assert named - PROMETHEUS_OWN - recorded <= exported


def test_metric_names_reads_selectors_not_functions_or_labels():
    assert metric_names('sum by (le) (rate(a_bucket{job=~"x"}[5m])) > on() b and c') == {
        "a_bucket", "b", "c"}
