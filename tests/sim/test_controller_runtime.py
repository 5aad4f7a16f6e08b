"""The controller runtime (informer, workqueue, manager) in simulated and real worlds."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import simpy

from fakes.apiserver import ApiServer, FakeKubeApi
from harness import EPOCH, FaultIntensity, Replica, SimRuntime, World, first_divergence
from notifier import (
    NOTIFICATIONS,
    ConflictError,
    KubeApi,
    Manager,
    Request,
    Result,
    Runtime,
)
from notifier._adapters import AsyncioRuntime
from tests.conftest import notification

ROOT = Path(__file__).resolve().parents[2]


class Recording:
    """Records each reconcile: the key and the version and labels it read from the API."""

    def __init__(self, api: KubeApi, runtime: Runtime, log: list[tuple[str, str | None]]) -> None:
        self._api = api
        self._runtime = runtime
        self.log = log

    async def reconcile(self, request: Request) -> Result:
        try:
            obj = await self._api.get(NOTIFICATIONS, request.namespace, request.name)
        except Exception:
            self.log.append((request.key, None))
            return Result()
        self.log.append((request.key, obj["metadata"].get("labels", {}).get("step")))
        return Result()


async def scripted_traffic(api: KubeApi, server: ApiServer, runtime: Runtime, manager: Manager) -> None:
    """The same API traffic for both runtimes; waits for the manager to go idle after each step."""

    async def settle() -> None:
        """Idle: the cache has the server's latest version, nothing is queued and nothing is running."""
        while True:
            await runtime.sleep(0.001)
            latest = manager.informer.last_sync_resource_version == str(server.revision)
            busy = any(manager.queue.is_processing(key) for key in ("default/a", "default/b"))
            if latest and len(manager.queue) == 0 and not busy:
                return

    await manager.informer.synced.wait()
    await api.create(NOTIFICATIONS, "default", _labelled("a", "1"))
    await settle()
    await api.create(NOTIFICATIONS, "default", _labelled("b", "1"))
    await settle()
    await api.patch(NOTIFICATIONS, "default", "a", {"metadata": {"labels": {"step": "2"}}})
    await settle()
    await api.delete(NOTIFICATIONS, "default", "b")
    await settle()
    await api.patch(NOTIFICATIONS, "default", "a", {"metadata": {"labels": {"step": "3"}}})
    await settle()
    manager.stop()


def _labelled(name: str, step: str) -> dict[str, Any]:
    body = notification(name)
    body["metadata"]["labels"] = {"step": step}
    return body


def _drive(runtime: Runtime, server: ApiServer) -> tuple[Callable[[], Awaitable[None]], list[tuple[str, str | None]]]:
    api = FakeKubeApi(server, runtime)
    log: list[tuple[str, str | None]] = []
    manager = Manager(api=api, runtime=runtime, reconciler=Recording(api, runtime, log), namespace="default")

    async def main() -> None:
        runner = runtime.spawn(manager.run(), name="manager")
        await scripted_traffic(api, server, runtime, manager)
        await runner

    return main, log


def test_same_reconciles_under_asyncio_and_simpy_for_the_same_traffic() -> None:
    env = simpy.Environment()
    sim_runtime = SimRuntime(env)
    sim_main, sim_log = _drive(sim_runtime, ApiServer(clock=lambda: EPOCH + env.now))
    task = sim_runtime.spawn(sim_main(), name="main")
    env.run(until=task)
    task.result()

    async def real() -> list[tuple[str, str | None]]:
        runtime = AsyncioRuntime()
        main, log = _drive(runtime, ApiServer(clock=runtime.now))
        await main()
        return log

    real_log = asyncio.run(real())
    assert sim_log == [("default/a", "1"), ("default/b", "1"), ("default/a", "2"), ("default/b", None),
                       ("default/a", "3")]
    assert real_log == sim_log


class StatusWriter:
    """Reads the cache, writes a status counter through the API; requeues on conflict."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    async def reconcile(self, request: Request) -> Result:
        cached = self.replica.manager.informer.get(request.namespace, request.name)
        if cached is None:
            return Result()
        status = cached.get("status", {})
        if status.get("totalAttempts", 0) >= 3:
            return Result()
        cached["status"] = {"phase": "Sending", "totalAttempts": status.get("totalAttempts", 0) + 1}
        try:
            await self.replica.api.update_status(NOTIFICATIONS, request.namespace, cached)
        except ConflictError:
            return Result(requeue=True)
        return Result(requeue_after=0.5)


def two_replica_world(seed: int) -> World:
    world = World(
        seed=seed, reconciler=StatusWriter, replicas=2, workers=2,
        faults={"watch.delay": FaultIntensity(probability=0.7, max_seconds=1.5),
                "api.latency": FaultIntensity(probability=0.5, max_seconds=0.05)},
    )
    for i in range(6):
        world.at(0.25 * i, lambda i=i: world.client_api.create(NOTIFICATIONS, "default", notification(f"n{i}")),
                 name=f"create-n{i}")
    world.run(until=60)
    return world


def test_two_replica_world_with_the_same_seed_has_an_identical_trace() -> None:
    first, second = two_replica_world(7), two_replica_world(7)
    assert first.fired["watch.delay"] > 0
    assert any(step.kind == "reconcile.begin" and step.actor == "replica-1" for step in first.trace.steps)
    assert first_divergence(first.trace.lines(), second.trace.lines()) is None
    assert first.trace.hash() == second.trace.hash()


def test_two_replica_worlds_with_different_seeds_differ() -> None:
    assert two_replica_world(7).trace.hash() != two_replica_world(8).trace.hash()


def test_two_replica_trace_hash_is_the_same_under_different_hash_seeds() -> None:
    code = (
        "import json; from tests.sim.test_controller_runtime import two_replica_world as w; "
        "x = w(7); print(json.dumps([x.trace.hash(), len(x.trace.steps)]))"
    )
    hashes = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=True)
        hashes.append(json.loads(out.stdout))
    assert hashes[0] == hashes[1]
    assert hashes[0][0] == two_replica_world(7).trace.hash()


class Exclusive:
    """Sleeps inside each reconcile and records how many reconciles of each key overlap."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.active: dict[str, int] = {}
        self.max_per_key = 0
        self.max_overall = 0
        self.count = 0

    async def reconcile(self, request: Request) -> Result:
        self.active[request.key] = self.active.get(request.key, 0) + 1
        self.max_per_key = max(self.max_per_key, self.active[request.key])
        self.max_overall = max(self.max_overall, sum(self.active.values()))
        self.count += 1
        await self.runtime.sleep(0.3)
        self.active[request.key] -= 1
        return Result()


def test_a_key_is_never_reconciled_by_two_of_five_workers_at_once() -> None:
    env = simpy.Environment()
    runtime = SimRuntime(env)
    server = ApiServer(clock=lambda: EPOCH + env.now)
    api = FakeKubeApi(server, runtime)
    reconciler = Exclusive(runtime)
    manager = Manager(api=api, runtime=runtime, reconciler=reconciler, namespace="default", workers=5)

    async def burst() -> None:
        runner = runtime.spawn(manager.run(), name="manager")
        await manager.informer.synced.wait()
        for name in ("hot", "b", "c", "d"):
            await api.create(NOTIFICATIONS, "default", notification(name))
        for i in range(50):
            await api.patch(NOTIFICATIONS, "default", "hot", {"metadata": {"labels": {"i": str(i)}}})
            if i % 10 == 0:
                for name in ("b", "c", "d"):
                    await api.patch(NOTIFICATIONS, "default", name, {"metadata": {"labels": {"i": str(i)}}})
            await runtime.sleep(0.05)
        await runtime.sleep(5)
        manager.stop()
        await runner

    task = runtime.spawn(burst(), name="burst")
    env.run(until=task)
    task.result()
    assert reconciler.max_per_key == 1
    assert reconciler.max_overall >= 4  # the workers did run side by side, on different keys
    assert 4 < reconciler.count < 54  # events for a busy key were coalesced, none was lost
    assert manager.informer.get("default", "hot")["metadata"]["labels"] == {"i": "49"}
