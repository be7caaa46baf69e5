"""``EmulatorControl``: script a running emulator from another process, over its control endpoints."""

from __future__ import annotations

import json
from typing import Any

from ocr_providers.base import ProviderConfig
from ocr_providers.emulator.script import Reply, reply_to_json
from ocr_providers.http import build_client

__all__ = ["EmulatorControl"]


class EmulatorControl:
    """A thin client for ``/_emulator/...`` on an emulator at ``base_url`` (e.g. ``http://127.0.0.1:8900``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = build_client(ProviderConfig(name="emulator-control", read_timeout=10.0), vendor="emulator")

    def _post(self, command: str, payload: dict[str, Any]) -> Any:
        response = self._http.post(
            f"{self.base_url}/_emulator/{command}",
            content=json.dumps(payload).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            action=command,
        )
        data = json.loads(response.body)
        if response.status != 200:
            raise ValueError(f"emulator refused {command}: {data.get('error')}")
        return data

    def script(self, action: str, *replies: Reply) -> None:
        self._post("script", {"action": action, "replies": [reply_to_json(r) for r in replies]})

    def set_quota(self, action: str, per_second: float) -> None:
        self._post("quota", {"action": action, "per_second": per_second})

    def calls(self) -> list[dict[str, str]]:
        calls: list[dict[str, str]] = self._post("calls", {})["calls"]
        return calls

    def expire_tokens(self) -> None:
        self._post("expire-tokens", {})

    def withdraw(self, endpoint: str) -> None:
        self._post("withdraw", {"endpoint": endpoint})

    def reset(self) -> None:
        self._post("reset", {})

    def close(self) -> None:
        self._http.close()
