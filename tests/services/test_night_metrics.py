"""Today's night on /metrics: known values only, so that alert rules never read "not yet" as 0."""

from __future__ import annotations

from tipoff.domain.dates import pacific_instant
from tipoff.services.http import create_app
from tests.services.test_http_api import Api, metric_samples, new_services, phase4_event, push
from tests.unit.stage5_fixtures import GAME_DATE, seed_phase4


def night_gauges(api) -> dict[str, float]:
    return {name: value for (name, labels), value in metric_samples(api.get("/metrics").text).items()
            if not labels and name.startswith("tipoff_")}


def test_before_and_after_the_batch_the_night_gauges_say_only_what_is_known(tmp_path):
    services = new_services(tmp_path)
    try:
        api = Api(create_app(services))
        before = night_gauges(api)
        assert before["tipoff_batch_started"] == 0 and before["tipoff_batch_finished"] == 0
        for unknown in ("tipoff_last_batch_latency_seconds", "tipoff_sla_met",
                        "tipoff_stage4_completed_timestamp_seconds",
                        "tipoff_last_batch_completion_timestamp_seconds",
                        "tipoff_lined_coverage_pct"):
            assert unknown not in before, unknown
        seed_phase4(services.store, services.clock.now())
        api.post("/trigger", json=push(phase4_event()))
        services.bus.join()
        after = night_gauges(api)
        assert (after["tipoff_batch_started"], after["tipoff_batch_finished"]) == (1, 1)
        assert after["tipoff_players_ready"] == after["tipoff_players_predicted"] == 30
        assert after["tipoff_last_batch_latency_seconds"] >= 0
        assert "tipoff_sla_met" not in after  # 00:31 PT: the promise is judged at 07:00
        services.clock.set(pacific_instant(GAME_DATE, 7, 1))
        assert night_gauges(api)["tipoff_sla_met"] == 1
    finally:
        services.stop()
