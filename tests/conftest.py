"""Shared fixtures: a one-runtime cluster for tests that drive the `KubeApi` port directly."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
import simpy

from fakes.apiserver import ApiServer, FakeKubeApi
from harness import EPOCH, SimRuntime
from notifier import KubeApi, KubeObject, Runtime

T = TypeVar("T")

pytest_plugins = ["pytester"]


def notification(name: str = "n1", namespace: str = "default", **spec: Any) -> KubeObject:
    """A valid NotificationRequest body; keyword arguments override spec fields (None removes one)."""
    body: dict[str, Any] = {"type": "Simple", "priority": "High", "subject": "disk full", "body": "node-1 disk 95%"}
    for key, value in spec.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return {
        "apiVersion": "kubernaut.ai/v1alpha1",
        "kind": "NotificationRequest",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def drive(runtime: SimRuntime, main: Coroutine[Any, Any, T]) -> T:
    """Run `main` as a task of `runtime` until it ends; its result, or its exception raised."""
    task = runtime.spawn(main, name="main")
    runtime.env.run(until=task)
    return task.result()


@pytest.fixture
def rt() -> SimRuntime:
    return SimRuntime(simpy.Environment())


class Cluster:
    """A fake API server, a runtime and a client, with a way to run a coroutine to completion."""

    transport = "in-process"
    #: The `Warning` headers of the last raw request, and its `Retry-After` ("" if none).
    warnings: list[str]
    retry_after: str

    def __init__(self) -> None:
        self.warnings, self.retry_after = [], ""
        self.env = simpy.Environment()
        self.runtime: Runtime = SimRuntime(self.env)
        self.server = ApiServer(clock=lambda: EPOCH + self.env.now)
        self.api: KubeApi = FakeKubeApi(self.server, self.runtime)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        task = self.runtime.spawn(coro, name="test")
        self.env.run(until=task)
        return task.result()

    def create(self, body: KubeObject) -> KubeObject:
        from notifier import NOTIFICATIONS

        return self.run(self.api.create(NOTIFICATIONS, body["metadata"]["namespace"], copy.deepcopy(body)))

    def now(self) -> float:
        """Seconds on this cluster's clock (virtual here)."""
        return float(self.env.now)

    def eventually(self, check: Callable[[], bool], within: float = 0.0) -> bool:
        """Whether `check` holds; in simulated time nothing happens between steps, so once is enough."""
        return check()

    def rest(self, method: str, target: str, body: Any = None,
             content_type: str = "application/json") -> tuple[int, Any]:
        """A raw API request answered by the REST layer the HTTP front serves (for what the `KubeApi` port does
        not say: DeleteOptions, dryRun, patch types): its status code and decoded body."""
        from fakes.apiserver._rest import Request, Response, Rest

        answer = Rest(self.server, clock=lambda: EPOCH + self.env.now).handle(
            Request(method, target, encoded(body), {"Content-Type": content_type}))
        assert isinstance(answer, Response), "a watch is no raw request"
        self.warnings = list(answer.warnings)
        self.retry_after = str(answer.retry_after or "")
        return answer.code, json.loads(answer.encoded())

    def advance(self, seconds: float) -> None:
        """Move the virtual clock on."""
        self.run(self.runtime.sleep(seconds))

    def shed(self, count: int, retry_after: int = 1) -> None:
        """The next `count` requests of the client are refused 429 with this `Retry-After`, unprocessed."""
        from fakes.apiserver import NoFaults
        from notifier import TooManyRequestsError

        assert isinstance(self.api, FakeKubeApi)
        waits = [retry_after] * count

        class Shed(NoFaults):
            def before_apply(self, verb: str, resource: Any, name: str) -> Any:
                if not waits:
                    return None
                return TooManyRequestsError("Too many requests, please try again later.",
                                            details={"retryAfterSeconds": waits.pop()})
        self.api.faults = Shed()

    def rest_watch(self, target: str, count: int) -> list[dict[str, Any]]:
        """The first `count` events a raw watch request opens with (those already due when it opens)."""
        from fakes.apiserver._rest import Request, Rest, WatchRequest

        answer = Rest(self.server, clock=lambda: EPOCH + self.env.now).handle(Request("GET", target))
        assert isinstance(answer, WatchRequest), answer
        watcher = answer.open(self.server)
        self.server.close(watcher)
        return [{"type": e.type, "object": e.object} for e in list(watcher.pending)[:count]]


def encoded(body: Any) -> bytes:
    """A raw request's body: bytes as they are, anything else as JSON, None as nothing."""
    return b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())


@pytest.fixture
def cluster() -> Cluster:
    return Cluster()
