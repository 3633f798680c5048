"""A bounded schemathesis run over the coordinator's own OpenAPI document, in process: every
operation, with and without the token; no 5xx, no undocumented status, no body off its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tipoff.config import Settings
from tipoff.services.auth import authenticator
from tipoff.services.http import create_app
from tests.services.test_http_api import new_services
from tests.unit.stage5_fixtures import seed_phase4

TOKEN = "fuzz-token"
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    services = new_services(tmp_path_factory.mktemp("fuzz"))
    seed_phase4(services.store, services.clock.now())
    yield create_app(services, auth=authenticator(Settings(api_token=TOKEN)))
    services.stop()


def _run(app, headers: dict[str, str]) -> tuple[int, int]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [getattr(schemathesis.checks, name) for name in CHECKS]
    operations, cases = 0, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        seen: list[int] = []

        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def fuzz(case):
            seen.append(1)
            case.call_and_validate(headers=headers, checks=checks)

        fuzz()
        cases += len(seen)
    return operations, cases


@pytest.mark.slow
@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {TOKEN}"}, {}],
                         ids=["with-token", "without-token"])
def test_fuzzing_every_operation_finds_no_server_error_nor_undocumented_answer(app, headers):
    operations, cases = _run(app, headers)
    print(f"schemathesis: {operations} operations, {cases} cases, 0 failures")
    assert operations == 10 and cases >= operations  # /report included
