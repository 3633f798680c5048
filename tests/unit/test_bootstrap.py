"""Adapters are chosen from URLs; tipoff's own URL options are parsed, unknown ones refused."""

from datetime import timedelta

import pytest

from tipoff.bootstrap import _nats_options, _split_query, open_bus, open_store
from tipoff.errors import ConfigurationError


def test_tipoff_options_are_split_off_and_driver_options_kept():
    url, own = _split_query("postgresql://u@h/db?schema=t1&sslmode=require", keep=("sslmode",))
    assert url == "postgresql://u@h/db?sslmode=require"
    assert own == {"schema": "t1"}


def test_nats_url_options_become_bus_arguments():
    assert _nats_options({"prefix": "E2E", "ack_wait_s": "2.5", "max_deliver": "3"}) == {
        "stream_prefix": "E2E", "ack_wait": timedelta(seconds=2.5), "max_deliver": 3}


def test_an_unknown_nats_option_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="unknown NATS URL options"):
        _nats_options({"acks": "1"})


@pytest.mark.parametrize("url", ["redis://localhost", "kafka://x"])
def test_an_unsupported_bus_url_names_the_supported_ones(url, clock):
    with pytest.raises(ConfigurationError, match="memory://"):
        open_bus(url, clock)


def test_an_unsupported_store_url_names_the_supported_ones(clock):
    with pytest.raises(ConfigurationError, match="sqlite:///"):
        open_store("mysql://localhost/db", clock)


def test_a_sqlite_store_url_creates_its_folder(tmp_path, clock):
    store = open_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'tipoff.db'}", clock)
    store.ping()
    assert (tmp_path / "a" / "b" / "tipoff.db").exists()
    store.close()
