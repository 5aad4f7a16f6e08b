"""A world: one simpy environment, one fake API server, N controller replicas, one choice source.

Nothing is shared between worlds, so two worlds in one process (or in many xdist workers) cannot see each
other. Each replica has its own runtime (its clock may be skewed), its own API client with its own fault
hooks, and its own manager (informer cache, workqueue, workers). Every nondeterministic decision comes from
the world's `Choices`; every step that matters goes to the world's `Trace`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

import simpy

from fakes.apiserver import ApiServer, Change, FakeKubeApi
from fakes.backends import Backends
from harness._bridge import EPOCH, SimRuntime, SimTask
from harness._choices import Choices
from harness._trace import Trace
from notifier import (
    ConflictError,
    KubeApiError,
    KubeTimeoutError,
    KubeUnavailableError,
    LeaderElectionConfig,
    Manager,
    Reconciler,
    Request,
    ResourceType,
    Result,
)

#: The faults the API client and the watch can inject, with what each one does.
API_FAULTS: Mapping[str, str] = {
    "api.latency": "a call takes a drawn time before it reaches the server",
    "api.conflict": "a write fails with 409 Conflict before it is applied",
    "api.error": "a call fails with 500 before it is applied",
    "api.timeout-before-apply": "a call times out and was never applied",
    "api.timeout-after-apply": "a write is applied, then the caller sees a timeout",
    "watch.delay": "a watch event reaches a replica late (its cache is stale meanwhile)",
    "watch.disconnect": "a watch stream ends; the informer watches again from its last version",
    "watch.compact": "the server compacts its history; a watch from an older version gets 410 Gone",
}
_WRITES = frozenset({"create", "update", "update_status", "patch", "delete"})


class SimulationError(Exception):
    """The simulation itself went wrong (a task failed unobserved): not a verdict on the controller."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultIntensity:
    """How often a fault fires (per opportunity) and, for delays, the longest delay it draws."""

    probability: float = 0.0
    max_seconds: float = 0.0


class WorldFaults:
    """`ApiFaults` for one replica, drawing every decision from the world's choices and counting fires."""

    def __init__(
        self,
        choices: Choices,
        intensities: Mapping[str, FaultIntensity],
        fired: Counter[str],
        *,
        replica: str,
        active: Callable[[], bool],
    ) -> None:
        self._choices = choices
        self._intensities = intensities
        self._fired = fired
        self._replica = replica
        self._active = active

    def _fires(self, fault: str) -> FaultIntensity | None:
        intensity = self._intensities.get(fault)
        if intensity is None or intensity.probability <= 0 or not self._active():
            return None
        if not self._choices.chance(f"{fault}@{self._replica}", intensity.probability):
            return None
        self._fired[fault] += 1
        return intensity

    def latency(self, verb: str, resource: ResourceType) -> float:
        intensity = self._fires("api.latency")
        if intensity is None:
            return 0.0
        return self._choices.uniform(f"api.latency.seconds@{self._replica}", 0.0, intensity.max_seconds)

    def before_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        if verb in ("update", "update_status", "patch") and self._fires("api.conflict"):
            return ConflictError(f"injected conflict on {verb} of {resource.plural} {name!r}")
        if self._fires("api.error"):
            return KubeUnavailableError(f"injected error on {verb} of {resource.plural} {name!r}", code=500)
        if self._fires("api.timeout-before-apply"):
            return KubeTimeoutError(f"injected timeout on {verb} of {resource.plural} {name!r} (not applied)")
        return None

    def after_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        if verb in _WRITES and self._fires("api.timeout-after-apply"):
            return KubeTimeoutError(f"injected timeout on {verb} of {resource.plural} {name!r} (applied)")
        return None

    def watch_delay(self, resource: ResourceType) -> float:
        intensity = self._fires("watch.delay")
        if intensity is None:
            return 0.0
        return self._choices.uniform(f"watch.delay.seconds@{self._replica}", 0.0, intensity.max_seconds)

    def watch_disconnect(self, resource: ResourceType) -> bool:
        return self._fires("watch.disconnect") is not None


class Replica:
    """One controller process of the world."""

    def __init__(self, world: World, index: int, reconciler: Callable[[Replica], Reconciler], *, workers: int,
                 leader_election: LeaderElectionConfig | None, clock_offset: float) -> None:
        self.name = f"replica-{index}"
        self.world = world
        self.runtime = SimRuntime(world.env, clock_offset=clock_offset)
        faults = WorldFaults(world.choices, world.intensities, world.fired, replica=self.name,
                             active=world.in_fault_phase)
        self.api = FakeKubeApi(world.server, self.runtime, faults=faults)
        self.manager = Manager(
            api=self.api,
            runtime=self.runtime,
            reconciler=_Traced(reconciler(self), self),
            namespace=world.namespace,
            workers=workers,
            identity=self.name,
            leader_election=leader_election,
        )
        self.task: SimTask[None] | None = None

    def start(self) -> None:
        self.task = self.runtime.spawn(self.manager.run(), name=f"{self.name}.manager")


class _Traced:
    """Wraps a replica's reconciler to trace each reconcile's start (with what its cache held) and end."""

    def __init__(self, inner: Reconciler, replica: Replica) -> None:
        self._inner = inner
        self._replica = replica

    async def reconcile(self, request: Request) -> Result:
        trace = self._replica.world.trace
        cached = self._replica.manager.informer.get(request.namespace, request.name)
        version = cached["metadata"]["resourceVersion"] if cached else None
        trace.record(self._replica.name, "reconcile.begin", key=request.key, cached_rv=version)
        try:
            result = await self._inner.reconcile(request)
        except Exception as error:
            trace.record(self._replica.name, "reconcile.error", key=request.key, error=type(error).__name__)
            raise
        trace.record(self._replica.name, "reconcile.end", key=request.key, requeue=result.requeue,
                     requeue_after=result.requeue_after)
        return result


class World:
    """A self-contained simulated cluster.

    Args:
        seed: the run's seed: every choice of the world derives from it.
        reconciler: builds each replica's reconciler from the replica (its runtime and API client).
        replicas: how many controller processes.
        workers: reconcile workers per replica.
        faults: the API and watch faults and their intensities (see `API_FAULTS`).
        fault_phase: virtual seconds during which faults may fire; afterwards the world is quiet.
        tape: a recorded tape to replay instead of drawing from the seed.
    """

    def __init__(
        self,
        *,
        seed: int,
        reconciler: Callable[[Replica], Reconciler],
        replicas: int = 1,
        workers: int = 1,
        namespace: str = "default",
        faults: Mapping[str, FaultIntensity] | None = None,
        fault_phase: float = float("inf"),
        leader_election: bool = False,
        tape: list[int] | None = None,
    ) -> None:
        unknown = sorted(set(faults or {}) - set(API_FAULTS))
        if unknown:
            raise ValueError(f"unknown faults {unknown!r}; known: {sorted(API_FAULTS)}")
        self.env = simpy.Environment()
        self.seed = seed
        self.namespace = namespace
        self.choices = Choices(seed, tape=tape)
        self.trace = Trace(lambda: self.env.now)
        self.intensities: Mapping[str, FaultIntensity] = dict(faults or {})
        self.fired: Counter[str] = Counter()
        self.fault_phase = fault_phase
        self.server = ApiServer(clock=lambda: EPOCH + self.env.now)
        self.server.observers.append(self._trace_change)
        self.client = SimRuntime(self.env)
        #: The API as a user (kubectl, another controller) sees it: no faults.
        self.client_api = FakeKubeApi(self.server, self.client)
        self.backends = Backends(self.client)
        self._election = LeaderElectionConfig(namespace=namespace) if leader_election else None
        self._reconciler = reconciler
        self._replica_count = replicas
        self._workers = workers
        #: Built when the world starts, so that backends and credentials can be set up first.
        self.replicas: list[Replica] = []
        self._scripted: list[SimTask[Any]] = []

    def in_fault_phase(self) -> bool:
        return self.env.now < self.fault_phase

    def _trace_change(self, change: Change) -> None:
        meta = change.object.get("metadata", {})
        self.trace.record("apiserver", f"commit.{change.type.lower()}", rv=change.revision,
                          resource=change.resource.plural, name=meta.get("name"))

    def at(self, delay: float, action: Callable[[], Coroutine[Any, Any, Any]], *, name: str) -> None:
        """Run a scripted client action (outside every replica) after `delay` virtual seconds."""
        async def scripted() -> None:
            await self.client.sleep(delay)
            await action()
        self._scripted.append(self.client.spawn(scripted(), name=name))

    def _compactor(self, intensity: FaultIntensity, period: float) -> Coroutine[Any, Any, None]:
        async def compact() -> None:
            while True:
                await self.client.sleep(period)
                if self.in_fault_phase() and self.choices.chance("watch.compact", intensity.probability):
                    self.fired["watch.compact"] += 1
                    self.trace.record("apiserver", "fault.watch.compact", rv=self.server.revision)
                    self.server.compact()
        return compact()

    def build(self) -> list[Replica]:
        """Build the replicas (once); `run` does it if nobody did."""
        if not self.replicas:
            self.replicas = [
                Replica(self, index, self._reconciler, workers=self._workers, leader_election=self._election,
                        clock_offset=0.0)
                for index in range(self._replica_count)
            ]
        return self.replicas

    def run(self, until: float) -> None:
        """Start every replica and run the world until virtual time `until`."""
        for replica in self.build():
            replica.start()
        compact = self.intensities.get("watch.compact")
        if compact is not None and compact.probability > 0:
            self.client.spawn(self._compactor(compact, period=1.0), name="compactor")
        self.env.run(until=until)
        self._shut_down()
        failed = [task for rt in [self.client, *(r.runtime for r in self.replicas)]
                  for task in rt.unretrieved_failures()]
        if failed:
            error = failed[0].exception()
            tail = "\n".join(str(step) for step in self.trace.steps[-10:])
            raise SimulationError(f"task {failed[0].name!r} failed: {error!r}\nlast steps:\n{tail}") from error

    def runtimes(self) -> list[SimRuntime]:
        return [self.client, *(replica.runtime for replica in self.replicas)]

    def _shut_down(self, max_steps: int = 100_000) -> None:
        """Cancel every task of the world and let them unwind, so none is left suspended."""
        for runtime in self.runtimes():
            runtime.cancel_all()
        steps = 0
        while any(runtime.live_tasks() for runtime in self.runtimes()):
            if steps >= max_steps or self.env.peek() == float("inf"):
                stuck = [task.name for runtime in self.runtimes() for task in runtime.live_tasks()]
                raise SimulationError(f"tasks did not stop when cancelled: {stuck[:10]!r}")
            self.env.step()
            steps += 1
