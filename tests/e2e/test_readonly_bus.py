"""Read-only bus commands create nothing: `tipoff dlq list` on a NATS server with no tipoff
streams answers "no dead letters" and leaves the server as it found it."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import nats

from tests.e2e.conftest import NATS_URL
from tests.unit.cli_helpers import run_main


async def _stream_names(server: str) -> set[str]:
    connection = await nats.connect(server)
    try:
        return {info.config.name for info in await connection.jetstream().streams_info()}
    finally:
        await connection.close()


def test_dlq_list_on_nats_creates_no_stream(nats_url, monkeypatch, capsys):
    prefix = parse_qs(urlsplit(nats_url).query)["prefix"][0]
    ran = run_main(monkeypatch, capsys, "dlq", "list", "--bus", nats_url)
    assert ran.code == 0, ran
    assert ran.out.strip() == "no dead letters"
    ran = run_main(monkeypatch, capsys, "dlq", "list", "--topic", "prediction-requests",
                   "--bus", nats_url, "--json")
    assert ran.code == 0 and ran.out.strip() == "[]", ran
    names = asyncio.run(_stream_names(NATS_URL))
    assert not {name for name in names if name.startswith(prefix)}, names
