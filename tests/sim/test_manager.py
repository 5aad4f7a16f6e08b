"""The manager in simulated worlds: results, errors, leader election, crashes, and API fault hooks."""

from __future__ import annotations

import pytest

from fakes.apiserver import FakeKubeApi, NoFaults
from harness import FaultIntensity, Replica, SimulationError, World
from notifier import (
    NOTIFICATIONS,
    KubeApiError,
    KubeTimeoutError,
    LifecycleError,
    Request,
    ResourceType,
    Result,
)
from tests.conftest import Cluster, notification


class Scripted:
    """Answers each reconcile from a list of results (or exceptions), then with Result()."""

    def __init__(self, replica: Replica, answers: list[Result | Exception]) -> None:
        self.replica = replica
        self.answers = answers
        self.times: list[float] = []

    async def reconcile(self, request: Request) -> Result:
        self.times.append(self.replica.world.env.now)
        answer = self.answers.pop(0) if self.answers else Result()
        if isinstance(answer, Exception):
            raise answer
        return answer


def _world(answers: list[Result | Exception], **kwargs: object) -> tuple[World, list[Scripted]]:
    built: list[Scripted] = []

    def factory(replica: Replica) -> Scripted:
        built.append(Scripted(replica, list(answers)))
        return built[-1]

    world = World(seed=1, reconciler=factory, **kwargs)  # type: ignore[arg-type]
    world.at(0, lambda: world.client_api.create(NOTIFICATIONS, "default", notification()), name="create")
    world.build()
    return world, built


def test_requeue_after_runs_the_key_again_after_the_delay() -> None:
    world, (rec,) = _world([Result(requeue_after=30)])
    world.run(until=100)
    assert rec.times == [0, 30]


def test_an_error_is_retried_with_exponential_backoff() -> None:
    world, (rec,) = _world([RuntimeError("a"), RuntimeError("b"), RuntimeError("c")])
    world.run(until=100)
    gaps = [round(b - a, 3) for a, b in zip(rec.times, rec.times[1:], strict=False)]
    assert gaps == [0.005, 0.01, 0.02]


def test_with_leader_election_only_the_leader_reconciles() -> None:
    world, recs = _world([], replicas=3, leader_election=True)
    world.run(until=60)
    assert sorted(len(rec.times) for rec in recs) == [0, 0, 1]


def test_after_the_leader_crashes_another_takes_over_after_the_lease_expires() -> None:
    world, recs = _world([Result(requeue_after=5)] * 100, replicas=2, leader_election=True)

    async def crash_leader() -> None:
        await world.client.sleep(20)
        leader = next(r for r in world.replicas if r.manager.elector and r.manager.elector.is_leader)
        leader.runtime.crash()
        world.trace.record(leader.name, "crash")

    world.client.spawn(crash_leader(), name="crash")
    world.run(until=60)
    first, second = sorted(recs, key=lambda rec: rec.times[0] if rec.times else 99)
    assert first.times[-1] <= 20
    assert 20 + 15 <= second.times[0] <= 20 + 15 + 2 + 2  # one lease duration, then a retry period


def test_manager_run_twice_is_a_lifecycle_error() -> None:
    world, _ = _world([])
    world.run(until=1)
    replica = world.replicas[0]
    with pytest.raises(LifecycleError, match=r"^Manager\.run\(\) called in state 'stopped'; create a new Manager$"):
        _run_sync(world, replica)


def _run_sync(world: World, replica: Replica) -> None:
    task = replica.runtime.spawn(replica.manager.run(), name="again")
    world.env.run(until=task)
    task.result()


def test_unobserved_task_failure_stops_the_world_with_the_trace() -> None:
    world, _ = _world([])

    async def broken() -> None:
        raise ValueError("bug in the harness")

    world.client.spawn(broken(), name="broken")
    with pytest.raises(SimulationError, match=r"^task 'broken' failed: ValueError\('bug in the harness'\)"):
        world.run(until=1)


def test_api_faults_fire_and_are_counted() -> None:
    world, _ = _world([], replicas=2, faults={
        "api.latency": FaultIntensity(probability=1.0, max_seconds=0.5),
        "watch.delay": FaultIntensity(probability=1.0, max_seconds=2.0),
        "watch.disconnect": FaultIntensity(probability=0.5),
        "watch.compact": FaultIntensity(probability=0.5),
    })
    for i in range(10):
        world.at(i, lambda i=i: world.client_api.create(NOTIFICATIONS, "default", notification(f"x{i}")),
                 name=f"c{i}")
    world.run(until=30)
    assert set(world.fired) == {"api.latency", "watch.delay", "watch.disconnect", "watch.compact"}
    assert all(r.manager.informer.keys() == world.replicas[0].manager.informer.keys() for r in world.replicas)
    assert len(world.replicas[0].manager.informer.keys()) == 11


def test_unknown_fault_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^unknown faults \['api\.teleport'\]"):
        World(seed=1, reconciler=lambda r: Scripted(r, []), faults={"api.teleport": FaultIntensity()})


class ScriptedFaults(NoFaults):
    def __init__(self, before: KubeApiError | None = None, after: KubeApiError | None = None) -> None:
        self.before, self.after = before, after

    def before_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        return self.before if verb == "create" else None

    def after_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        return self.after if verb == "create" else None


def test_timeout_before_apply_leaves_nothing_behind(cluster: Cluster) -> None:
    api = FakeKubeApi(cluster.server, cluster.runtime, faults=ScriptedFaults(before=KubeTimeoutError("lost")))
    with pytest.raises(KubeTimeoutError):
        cluster.run(api.create(NOTIFICATIONS, "default", notification()))
    assert cluster.server.list_objects(NOTIFICATIONS, "default")[0] == []


def test_timeout_after_apply_raises_but_the_change_is_made(cluster: Cluster) -> None:
    api = FakeKubeApi(cluster.server, cluster.runtime, faults=ScriptedFaults(after=KubeTimeoutError("lost")))
    with pytest.raises(KubeTimeoutError):
        cluster.run(api.create(NOTIFICATIONS, "default", notification()))
    assert [o["metadata"]["name"] for o in cluster.server.list_objects(NOTIFICATIONS, "default")[0]] == ["n1"]
