"""A small HTTP client of a running coordinator, for the runbook commands' ``--url`` mode."""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import httpx
from pydantic import SecretStr

from tipoff.errors import TransientError


class CoordinatorClient:
    """Calls the coordinator's endpoints and returns (HTTP status, JSON body)."""

    def __init__(self, url: str, *, token: SecretStr | None = None,
                 timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)

    def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TransientError(f"coordinator unreachable at {self._http.base_url}: {exc}") from exc
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {"error": response.text[:500]}
        return response.status_code, body

    def trigger(self, event: dict) -> tuple[int, dict]:
        """POST a stage 4 event wrapped as a Pub/Sub push."""
        data = base64.b64encode(json.dumps(event).encode()).decode()
        envelope = {"message": {"data": data, "messageId": event.get("run_id", "manual"),
                                "attributes": {}}, "subscription": "tipoff-cli"}
        return self._call("POST", "/trigger", json=envelope)

    def start(self, game_date: date, *, force: bool, wait: bool) -> tuple[int, dict]:
        return self._call("POST", "/start", json={"game_date": game_date.isoformat(),
                                                  "force": force, "wait_for_phase4": wait})

    def retry(self, game_date: date) -> tuple[int, dict]:
        return self._call("POST", "/retry", json={"game_date": game_date.isoformat()})

    def status(self, game_date: date) -> tuple[int, dict]:
        return self._call("GET", "/status", params={"game_date": game_date.isoformat()})

    def report(self, days: int, last: date) -> tuple[int, dict]:
        """The trend report of the ``days`` nights up to ``last``."""
        return self._call("GET", "/report", params={"days": days, "to": last.isoformat()})
