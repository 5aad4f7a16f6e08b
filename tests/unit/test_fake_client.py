"""The in-process fake's own knobs, outside the two-transport conformance suite: the history limit of the
pure server, and the watch delivery delay that `FakeKubeApi` injects (no HTTP client has either)."""

from __future__ import annotations

from typing import Any

import pytest

from notifier import NOTIFICATIONS, GoneError
from tests.conftest import Cluster, notification


def test_history_limit_compacts_old_changes(cluster: Cluster) -> None:
    from fakes.apiserver import ApiServer

    server = ApiServer(clock=lambda: 0.0, history_limit=2)
    for i in range(4):
        server.create(NOTIFICATIONS, "default", notification(f"n{i}"))
    with pytest.raises(GoneError):
        server.watch(NOTIFICATIONS, "default", "1")


def test_watch_delay_keeps_order_and_delays_delivery(cluster: Cluster) -> None:
    from fakes.apiserver import FakeKubeApi, NoFaults

    class Delayed(NoFaults):
        def __init__(self) -> None:
            self.delays = iter([5.0, 0.0, 1.0])

        def watch_delay(self, resource: Any, name: str) -> float:
            return next(self.delays)

    api = FakeKubeApi(cluster.server, cluster.runtime, faults=Delayed())

    async def scenario() -> list[tuple[str, float]]:
        seen: list[tuple[str, float]] = []
        async def writes() -> None:
            for name in ("a", "b", "c"):
                cluster.create(notification(name))
        cluster.runtime.spawn(writes(), name="writer")
        async for event in api.watch(NOTIFICATIONS, "default", "0"):
            seen.append((event.object["metadata"]["name"], cluster.env.now))
            if len(seen) == 3:
                return seen
        return seen

    assert cluster.run(scenario()) == [("a", 5.0), ("b", 5.0), ("c", 5.0)]


