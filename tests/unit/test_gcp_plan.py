"""`tipoff gcp plan --json`: the resources of one deployment, from one configuration."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tipoff.cli import app

ARGS = ["gcp", "plan", "--project", "p1", "--region", "us-west2", "--json",
        "--coordinator-url", "https://coord.example", "--worker-url", "https://work.example"]


def _plan() -> dict[str, dict]:
    result = CliRunner().invoke(app, ARGS)
    assert result.exit_code == 0, result.output
    return {r["name"]: r for r in json.loads(result.output)["resources"]}


def test_scheduler_jobs_fire_at_six_six_fifteen_six_thirty_and_seven_pacific() -> None:
    jobs = _jobs()
    got = sorted((s["schedule"], s["http_method"], s["uri"]) for s in jobs.values())
    assert got == [("* 6-7 * * *", "POST", "https://coord.example/poll"),
                   ("0 6 * * *", "POST", "https://coord.example/start"),
                   ("0 7 * * *", "GET", "https://coord.example/status"),
                   ("15 6 * * *", "POST", "https://coord.example/retry"),
                   ("30 6 * * *", "POST", "https://coord.example/retry")]
    for s in jobs.values():
        assert s["time_zone"] == "America/Los_Angeles"
        assert s["attempt_deadline_s"] <= 180
        assert s["oidc_service_account"].startswith("tipoff-invoker@p1.")


def _jobs() -> dict[str, dict]:
    return {n: r["settings"] for n, r in _plan().items() if r["kind"] == "scheduler_job"}


def test_the_wait_poll_job_posts_poll_every_minute_from_six_to_seven_fifty_nine_pacific() -> None:
    poll = _jobs()["tipoff-wait-poll"]
    assert (poll["schedule"], poll["time_zone"]) == ("* 6-7 * * *", "America/Los_Angeles")
    assert (poll["http_method"], poll["uri"]) == ("POST", "https://coord.example/poll")
    assert poll["oidc_service_account"] == "tipoff-invoker@p1.iam.gserviceaccount.com"
    assert poll["oidc_audience"] == "https://coord.example"
    assert poll["headers"] == {"X-CloudScheduler": "true"}
    # Shorter than the one-minute period: a slow poll never overlaps the next one.
    assert 15 <= poll["attempt_deadline_s"] < 60


def test_push_subscriptions_reach_their_endpoints_with_retry_and_dead_letter() -> None:
    subs = {r["settings"]["topic"]: r["settings"] for r in _plan().values()
            if r["kind"] == "subscription"}
    assert subs["nba-phase4-precompute-complete"]["push_endpoint"] == "https://coord.example/trigger"
    assert subs["prediction-ready"]["push_endpoint"] == "https://coord.example/complete"
    assert subs["prediction-request"]["push_endpoint"] == "https://work.example/predict"
    assert subs["prediction-request"]["oidc_audience"] == "https://work.example"
    assert subs["tipoff-dead-letter"]["push_endpoint"] is None
    for topic, s in subs.items():
        assert (s["min_backoff_s"], s["max_backoff_s"]) == (10, 600)
        if topic != "tipoff-dead-letter":
            assert s["dead_letter_topic"] == "tipoff-dead-letter"
            assert s["max_delivery_attempts"] == 5


def test_the_dockerfile_runs_as_a_non_root_user_with_a_health_check_and_copies_no_secrets() -> None:
    from pathlib import Path
    text = (Path(__file__).parents[2] / "Dockerfile").read_text()
    assert "USER tipoff" in text and "HEALTHCHECK" in text and "/health" in text
    assert "python:3.11-slim" in text
    copies = [line for line in text.splitlines() if line.startswith("COPY")]
    assert all(".env" not in line and ".pem" not in line and ".key" not in line for line in copies)
