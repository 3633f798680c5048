"""Fixtures shared by the service tests."""

from __future__ import annotations

import pytest

from tests.services.simulated_week import simulate_week
from tests.unit.stage5_fixtures import small_model


@pytest.fixture(scope="session")
def week(tmp_path_factory):
    """The simulated week (tests/services/simulated_week.py), run once per session; tests only
    read it."""
    week = simulate_week(tmp_path_factory.mktemp("week"), small_model())
    yield week
    week.store.close()
