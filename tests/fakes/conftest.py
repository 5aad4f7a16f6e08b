"""One conformance suite, two transports: every test runs against the in-process fake (simulated time, the
`FakeKubeApi` client) and again through the HTTPS front with the production adapter (`OfficialKubeApi`, the
official `kubernetes` client reading a kubeconfig), so the fake, the front and the adapter must agree."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from kubernetes import config as kube_config

from fakes.apiserver import ApiServer, HttpApiServer
from fakes.apiserver._tls import self_signed
from harness import EPOCH
from notifier import NOTIFICATIONS, KubeObject
from notifier._adapters import AsyncioRuntime
from notifier._adapters.kube import OfficialKubeApi
from notifier._resources import clone
from tests.conftest import Cluster, encoded

T = TypeVar("T")
TOKEN = "conformance-token"


class _Locked:
    """The API server as the test thread sees it while the HTTP front serves it: every call under its lock."""

    def __init__(self, target: ApiServer, lock: Any) -> None:
        self._target = target
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return value(*args, **kwargs)
        return locked


class HttpCluster:
    """The same surface as `Cluster`, over HTTPS and the production adapter, in wall-clock time.

    The server's clock stands still at the epoch (as the simulated one does until something sleeps), so
    timestamps compare the same on both transports.
    """

    transport = "https"
    warnings: list[str] = []
    retry_after = ""

    def __init__(self, directory: Path) -> None:
        cert = self_signed()
        self._offset = 0.0  # what `advance` moved the server's clock by
        self._raw = ApiServer(clock=lambda: EPOCH + self._offset)
        self.front = HttpApiServer(self._raw, token=TOKEN, tls=cert.context(directory),
                                   clock=lambda: EPOCH + self._offset).start()
        self.server: Any = _Locked(self._raw, self.front.lock)
        kubeconfig = directory / "kubeconfig"
        kubeconfig.write_text(self.front.kubeconfig(ca_pem=cert.cert_pem))
        self._client = kube_config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
        self.api = OfficialKubeApi(self._client, request_timeout=10)
        self._ca = directory / "ca.pem"
        self._ca.write_bytes(cert.cert_pem)
        self.runtime = AsyncioRuntime()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run(coro)

    def create(self, body: KubeObject) -> KubeObject:
        return self.run(self.api.create(NOTIFICATIONS, body["metadata"]["namespace"], clone(body)))

    def now(self) -> float:
        return time.monotonic()

    def eventually(self, check: Callable[[], bool], within: float = 3.0) -> bool:
        deadline = time.monotonic() + within
        while not check():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def rest(self, method: str, target: str, body: Any = None,
             content_type: str = "application/json") -> tuple[int, Any]:
        """A raw API request over HTTPS: its status code and decoded body."""
        answer = httpx.request(method, self.front.url + target, content=encoded(body),
                               verify=ssl.create_default_context(cafile=str(self._ca)),
                               headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type})
        self.warnings = answer.headers.get_list("Warning")
        self.retry_after = answer.headers.get("Retry-After", "")
        return answer.status_code, answer.json()

    def shed(self, count: int, retry_after: int = 1) -> None:
        self.front.shed(count, retry_after)

    def advance(self, seconds: float) -> None:
        """Move the server's clock on (it stands still otherwise)."""
        self._offset += seconds

    def rest_watch(self, target: str, count: int) -> list[dict[str, Any]]:
        """The first `count` events of a raw watch over HTTPS."""
        events: list[dict[str, Any]] = []
        with httpx.stream("GET", self.front.url + target, timeout=10,
                          verify=ssl.create_default_context(cafile=str(self._ca)),
                          headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status_code == 200
            for line in answer.iter_lines():
                if line.strip():
                    events.append(json.loads(line))
                if len(events) == count:
                    break
        return events

    def close(self) -> None:
        self._client.close()
        self.front.stop()


@pytest.fixture(params=["in-process", "https"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster | HttpCluster]:
    if request.param == "in-process":
        yield Cluster()
        return
    http = HttpCluster(tmp_path)
    try:
        yield http
    finally:
        http.close()
