"""``tipoff warehouse``: a bad or missing warehouse URL is one error line and exit code 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tipoff.bootstrap import open_warehouse
from tipoff.errors import ConfigurationError

BAD_WAREHOUSE_URLS = [
    "bogus://project/dataset",
    "bigquery://project",
    "bigquery://project/data-set",
    "bigquery:///dataset",
    "bigquery://project/dataset?colour=blue",
]


def _tipoff(*args: str, **env: str) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("tipoff")
    environment = {k: v for k, v in os.environ.items() if k != "TIPOFF_WAREHOUSE_URL"}
    environment.update(COLUMNS="200", NO_COLOR="1", **env)
    return subprocess.run([str(command), *args], capture_output=True, text=True,
                          env=environment, timeout=60)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize("url", BAD_WAREHOUSE_URLS)
def test_warehouse_publish_with_a_bad_url_is_one_error_line(tmp_path, url):
    result = _tipoff("warehouse", "publish", "--date", "2026-01-15", "--warehouse", url,
                     "--store", f"sqlite:///{tmp_path / 's.db'}")
    assert "warehouse URL" in _one_error_line(result)


def test_warehouse_publish_without_a_configured_warehouse_says_how_to_configure_one(tmp_path):
    result = _tipoff("warehouse", "publish", "--date", "2026-01-15",
                     "--store", f"sqlite:///{tmp_path / 's.db'}")
    assert "TIPOFF_WAREHOUSE_URL" in _one_error_line(result)


@pytest.mark.parametrize("url", BAD_WAREHOUSE_URLS)
def test_open_warehouse_refuses_a_bad_url_with_a_configuration_error(url):
    with pytest.raises(ConfigurationError):
        open_warehouse(url)


def test_open_warehouse_reads_project_dataset_and_endpoint_without_sending_a_request():
    warehouse = open_warehouse("bigquery://my-project/tipoff_ds?endpoint=http://127.0.0.1:9")
    assert (warehouse.project, warehouse.dataset) == ("my-project", "tipoff_ds")
    warehouse.close()
