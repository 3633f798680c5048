"""Guards on the architecture: the domain stays pure and time comes only from the clock."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "tipoff"
FORBIDDEN_IN_DOMAIN = re.compile(
    r"^\s*(import|from)\s+(sqlalchemy|psycopg|nats|google|httpx|fastapi|uvicorn|requests|os|"
    r"subprocess|socket|smtplib|pathlib|shutil|tipoff\.adapters|tipoff\.pipeline|tipoff\.services)\b",
    re.MULTILINE,
)
CLOCK_READS = re.compile(r"datetime\.now\(|date\.today\(|time\.time\(|datetime\.utcnow\(")


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_the_domain_imports_no_io_or_outer_layers():
    offenders = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path in python_files(PACKAGE / "domain")
        for match in FORBIDDEN_IN_DOMAIN.finditer(path.read_text())
    ]
    assert offenders == []


def test_only_the_clock_adapter_reads_the_time():
    allowed = {PACKAGE / "adapters" / "clock.py"}
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in python_files(PACKAGE)
        if path not in allowed and CLOCK_READS.search(path.read_text())
    ]
    assert offenders == []


def test_the_guards_see_the_source_tree():
    assert len(python_files(PACKAGE / "domain")) >= 3


def test_the_import_contracts_of_pyproject_are_kept():
    """Layers, the single composition root, adapters' reach and a pure domain (lint-imports)."""
    command = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(command), "--no-cache"], capture_output=True, text=True,
                            cwd=PACKAGE.parents[1], timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_outside_the_adapters_only_bootstrap_imports_them():
    offenders = [
        f"{path.relative_to(PACKAGE)}: {match.group(0).strip()}"
        for path in python_files(PACKAGE)
        if not path.is_relative_to(PACKAGE / "adapters") and path != PACKAGE / "bootstrap.py"
        for match in re.finditer(r"^\s*(from|import)\s+tipoff\.adapters\b.*$", path.read_text(),
                                 re.MULTILINE)
    ]
    assert offenders == []
