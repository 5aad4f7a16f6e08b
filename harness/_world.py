"""A world: one simpy environment, one fake API server, the backends, N replicas, one choice source.

Nothing is shared between worlds, so two worlds in one process (or in many xdist workers) cannot see each
other. Each replica has its own runtime (its clock may be skewed), its own API client and fault hooks, and its
own manager (informer cache, workqueue, workers). A crashed replica restarts as a new incarnation with empty
memory and the same identity. Every nondeterministic decision comes from the world's `Choices`; every step
that matters goes to the world's `Trace`; every change the API server commits is kept in `changes`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Final

import simpy

from fakes.apiserver import ApiServer, Change, FakeKubeApi
from fakes.backends import Backends
from harness._bridge import EPOCH, Budget, SimRuntime, SimTask
from harness._choices import Choices
from harness._errors import SimulationError
from harness._faults import FaultIntensity, Injector, ReplicaApiFaults
from harness._trace import Trace
from notifier import (
    NOTIFICATIONS,
    Informer,
    LeaderElectionConfig,
    Manager,
    ManagerState,
    Reconciler,
    Request,
    Result,
)
from notifier.assembly import EventRecorder, delivery_lease_name

#: Task steps a world may take, and wall seconds it may run: no scenario we ship comes near either (bundled
#: seeds take under 2,000 steps; the 5-replica x 500-notification bench scenario, which sets its own, 84,000),
#: but a controller that loops stops, even in zero virtual time.
DEFAULT_MAX_STEPS: Final = 100_000
DEFAULT_WALL_SECONDS: Final = 120.0
#: How long after a deletion (or a create naming owners) the garbage collector acts, in virtual seconds: the
#: real one reacts to the watch event within about that, under load.
GC_DELAY: Final = 1.0


@dataclass(frozen=True, slots=True)
class NoProgress:
    """How a world that spent its budget stopped: what `no-progress` reports."""

    budget: str  # "steps" or "wall"
    steps: int
    virtual_time: float
    busiest: str
    #: The name of the object the busiest actor worked on ("" if none).
    name: str = ""

    def message(self) -> str:
        spent = "step budget" if self.budget == "steps" else "wall budget"
        return (f"the world spent its {spent}: {self.steps:,} steps by virtual time {self.virtual_time:.6f} s; "
                f"busiest of the last steps: {self.busiest}")


class Replica:
    """One controller process of the world (its current incarnation)."""

    def __init__(self, world: World, index: int, reconciler: Callable[[Replica], Reconciler], *, workers: int,
                 leader_election: LeaderElectionConfig | None, clock_offset: float, incarnation: int = 0) -> None:
        self.name = f"replica-{index}"
        self.index = index
        self.world = world
        self.incarnation = incarnation
        self.clock_offset = clock_offset
        self.partitioned_until = 0.0
        self._factory = reconciler
        self._workers = workers
        self._election = leader_election
        self.runtime = SimRuntime(world.env, clock_offset=clock_offset, budget=world.budget)
        self.api = FakeKubeApi(world.server, self.runtime, faults=ReplicaApiFaults(world.injector, self))
        self.reconciler = reconciler(self)
        events = getattr(self.reconciler, "events", None)
        self.manager = Manager(api=self.api, runtime=self.runtime, reconciler=_Traced(self.reconciler, self),
                               namespace=world.namespace, workers=workers, identity=self.name,
                               leader_election=leader_election, informer=world.informer,
                               background=(events.finish_series,) if isinstance(events, EventRecorder) else ())
        self.task: SimTask[None] | None = None

    def start(self) -> None:
        self.task = self.runtime.spawn(self.manager.run(), name=f"{self.name}.manager")

    def crash(self) -> None:
        """Die now; a new incarnation starts after a drawn downtime."""
        self.world.trace.record(self.name, "replica.crash", incarnation=self.incarnation)
        self.runtime.crash()
        self.world.schedule_restart(self)

    def pause(self, seconds: float) -> None:
        self.world.trace.record(self.name, "replica.pause", seconds=round(seconds, 6))
        self.runtime.pause(seconds)

    def cached(self) -> dict[str, tuple[str, str]] | None:
        """What this replica's informer holds, `namespace/name` -> (uid, resourceVersion); None while it does
        not serve (not started, crashed, not leading, or not synced yet)."""
        manager = self.manager
        if self.runtime.dead or manager.state is not ManagerState.RUNNING or not manager.informer.synced.is_set():
            return None
        out = {}
        for key in manager.informer.keys():  # noqa: SIM118 (an informer, not a dict)
            obj = manager.informer.peek(*key.split("/", 1))
            if obj is not None:
                out[key] = (str(obj["metadata"].get("uid", "")), str(obj["metadata"].get("resourceVersion", "")))
        return out

    def reborn(self) -> Replica:
        return Replica(self.world, self.index, self._factory, workers=self._workers,
                       leader_election=self._election, clock_offset=self.clock_offset,
                       incarnation=self.incarnation + 1)


class _Traced:
    """Wraps a replica's reconciler: traces each reconcile, and injects `reconcile.concurrent`."""

    def __init__(self, inner: Reconciler, replica: Replica) -> None:
        self._inner = inner
        self._replica = replica

    async def reconcile(self, request: Request) -> Result:
        replica = self._replica
        trace = replica.world.trace
        cached = replica.manager.informer.peek(request.namespace, request.name)  # only its version is read
        version = cached["metadata"]["resourceVersion"] if cached else None
        trace.record(replica.name, "reconcile.begin", key=request.key, cached_rv=version)
        if replica.world.injector.fires("reconcile.concurrent", replica.name, place=f"reconcile {request.name}",
                                                   key=request.key):
            replica.runtime.spawn(self._twin(request), name=f"{replica.name}.twin[{request.key}]")
        try:
            result = await self._inner.reconcile(request)
        except Exception as error:
            trace.record(replica.name, "reconcile.error", key=request.key, error=type(error).__name__)
            raise
        trace.record(replica.name, "reconcile.end", key=request.key, requeue=result.requeue,
                     requeue_after=round(result.requeue_after, 6))
        return result

    async def _twin(self, request: Request) -> None:
        try:
            await self._inner.reconcile(request)
        except Exception as error:  # a reconcile error is the controller's to retry, not the world's failure
            self._replica.world.trace.record(self._replica.name, "reconcile.error", key=request.key,
                                             error=type(error).__name__)


class World:
    """A self-contained simulated cluster.

    Args:
        seed: the run's seed: every choice of the world derives from it.
        reconciler: builds each replica incarnation's reconciler from the replica.
        replicas: how many controller processes.
        workers: reconcile workers per replica.
        faults: faults and their intensities (see `FAULTS`).
        fault_phase: virtual seconds during which faults may fire; afterwards the world is quiet.
        leader_election: run the managers with leader election.
        lease_duration: the delivery lock's lease duration (pauses are drawn past it).
        garbage_collector: run the garbage collector (`ApiServer.collect_garbage`) `GC_DELAY` after a
            deletion, as kube-controller-manager does (on by default: every real cluster runs it).
        tape: a recorded tape to replay instead of drawing from the seed.
        script: named draws to replay instead of drawing from the seed (`Choices`).
        max_steps: task steps the world may take before it stops as `no-progress` (see `Budget`).
        wall_seconds: wall seconds the world may run before it stops as `no-progress` (None: no limit).
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
        lease_duration: float = 30.0,
        garbage_collector: bool = True,
        tape: list[int] | None = None,
        script: Mapping[str, int] | None = None,
        max_steps: int = DEFAULT_MAX_STEPS,
        wall_seconds: float | None = DEFAULT_WALL_SECONDS,
    ) -> None:
        self.env = simpy.Environment()
        self.seed = seed
        self.namespace = namespace
        self.choices = Choices(seed, tape=tape, script=script)
        self.trace = Trace(lambda: self.env.now)
        self.injector: Injector = Injector(self, faults or {})
        self.fired = self.injector.fired
        self.fault_phase = fault_phase
        self.lease_duration = lease_duration
        self.garbage_collector = garbage_collector
        self.server: ApiServer = ApiServer(clock=lambda: EPOCH + self.env.now)
        self.changes: list[Change] = []
        self.server.observers.append(self._record_change)
        self._gc_pending = False
        if garbage_collector:
            self.server.observers.append(self._collect_later)
        self.budget: Budget = Budget(self.env, max_steps=max_steps, wall_seconds=wall_seconds, clock=time.perf_counter)
        #: Set when the world stopped on its budget instead of reaching its end.
        self.no_progress: NoProgress | None = None
        self.client = SimRuntime(self.env, budget=self.budget)
        #: The API as a user (kubectl, another controller) sees it: no faults.
        self.client_api = FakeKubeApi(self.server, self.client)
        self.backends = Backends(self.client)
        self._election = LeaderElectionConfig(namespace=namespace) if leader_election else None
        self._reconciler = reconciler
        self._replica_count = replicas
        self._workers = workers
        #: Built when the world starts, so that backends and credentials can be set up first.
        self.replicas: list[Replica] = []
        self.retired: list[Replica] = []
        #: Called with no argument when `routing.reload` fires (the rig reloads every router).
        self.on_routing_reload: Callable[[], None] | None = None
        #: A schedule of extra delays at scheduling points (the pct strategy), or None.
        self.scheduler: Any = None
        #: The client actions the run takes, scripted and drawn (`harness._scenario.TrafficSpec`).
        self.traffic: list[Any] = []
        #: What each serving replica's informer held when the run ended (`Replica.cached`).
        self.caches: dict[str, dict[str, tuple[str, str]]] = {}
        #: The informer type each replica's manager builds (`Manager`'s `informer`; a bug-zoo mutant's).
        self.informer: type[Informer] = Informer
        #: The notification each uid and each delivery Lease belongs to, by name: injection sites are named
        #: after the notification they concern (`subject`), so that a site keeps its name and its occurrences
        #: when the scenario loses another notification.
        self._subjects: dict[str, str] = {}

    @property
    def intensities(self) -> Mapping[str, FaultIntensity]:
        return self.injector.intensities

    def in_fault_phase(self) -> bool:
        return self.env.now < self.fault_phase

    def names(self) -> dict[str, str]:
        """Which notification each uid (and each delivery Lease) belongs to, by name."""
        return dict(self._subjects)

    def subject(self, resource: str, name: str) -> str:
        """What an API call or event on `resource`/`name` concerns, for the name of its injection site: a
        notification by its name, a delivery Lease by its notification's, an Event by the object it is about
        (before the first dot of its name, as client-go's recorder and the controller name them)."""
        if resource == "events":
            return name.partition(".")[0]
        return self._subjects.get(name, name)

    def _record_change(self, change: Change) -> None:
        self.changes.append(change)
        meta = change.object.get("metadata", {})
        if change.type == "ADDED" and change.resource.plural == NOTIFICATIONS.plural:
            uid, name = str(meta.get("uid", "")), str(meta.get("name", ""))
            self._subjects[uid] = self._subjects[delivery_lease_name(uid)] = name
        self.trace.record("apiserver", f"commit.{change.type.lower()}", rv=change.revision,
                          resource=change.resource.plural, name=meta.get("name"))

    def at(self, delay: float, action: Callable[[], Coroutine[Any, Any, Any]], *, name: str) -> None:
        """Run a scripted client action (outside every replica) after `delay` virtual seconds."""
        async def scripted() -> None:
            await self.client.sleep(delay)
            await action()
        self.client.spawn(scripted(), name=name)

    def every(self, period: float, action: Callable[[], None], *, name: str) -> None:
        """Call `action` every `period` virtual seconds during the fault phase."""
        async def loop() -> None:
            while self.in_fault_phase():
                await self.client.sleep(period)
                if self.in_fault_phase():
                    action()
        self.client.spawn(loop(), name=name)

    def build(self) -> list[Replica]:
        """Build the replicas (once); `run` does it if nobody did."""
        if not self.replicas:
            for index in range(self._replica_count):
                offset = 0.0
                skew = self.injector.fires("replica.clock-skew", f"replica-{index}", place="start")
                if skew is not None:
                    offset = self.choices.uniform("replica.clock-skew.offset", -skew.max_seconds,
                                                  skew.max_seconds, at=f"replica-{index}")
                self.replicas.append(Replica(self, index, self._reconciler, workers=self._workers,
                                             leader_election=self._election, clock_offset=offset))
        return self.replicas

    def schedule_restart(self, replica: Replica) -> None:
        intensity = self.injector.intensities.get("replica.crash", FaultIntensity())
        downtime = self.choices.uniform("replica.crash.downtime", 1.0, max(1.0, intensity.max_seconds),
                                        at=replica.name)

        async def restart() -> None:
            await self.client.sleep(downtime)
            fresh = replica.reborn()
            self.replicas[replica.index] = fresh
            self.retired.append(replica)
            self.trace.record(fresh.name, "replica.restart", incarnation=fresh.incarnation)
            fresh.start()
        self.client.spawn(restart(), name=f"restart-{replica.name}")

    def _partitions(self) -> None:
        for replica in self.replicas:
            intensity = self.injector.fires("replica.partition", replica.name, place="tick")
            if intensity is not None:
                seconds = self.injector.seconds("replica.partition", replica.name, intensity, low=1.0)
                replica.partitioned_until = max(replica.partitioned_until, self.env.now + seconds)

    def _compact(self) -> None:
        if self.injector.fires("watch.compact", "apiserver", place="tick", rv=self.server.revision):
            self.server.compact()

    def _reload(self) -> None:
        if self.on_routing_reload is not None and self.injector.fires("routing.reload", "world", place="tick"):
            self.on_routing_reload()

    def _collect_later(self, change: Change) -> None:
        """kube-controller-manager's garbage collector: apart from the requests, a little after a deletion (or
        the create of an object naming owners, which may be gone), it deletes what the deleted object owned (a
        NotificationRequest's delivery Leases). A timer, not a task: a world without deletions runs as if
        there were no collector."""
        if self._gc_pending or not (change.type == "DELETED" or (
                change.type == "ADDED" and change.object["metadata"].get("ownerReferences"))):
            return
        self._gc_pending = True

        def collect(_: object) -> None:
            self._gc_pending = False
            self.server.collect_garbage()
        self.env.timeout(GC_DELAY).callbacks.append(collect)

    def run(self, until: float) -> None:
        """Start every replica and run the world until virtual time `until`."""
        for replica in self.build():
            replica.start()
        periodic: list[tuple[str, float, Callable[[], None]]] = [
            ("watch.compact", 1.0, self._compact), ("replica.partition", 1.0, self._partitions),
            ("routing.reload", 5.0, self._reload)]
        for fault, period, action in periodic:
            if self.injector.intensities.get(fault, FaultIntensity()).probability > 0:
                self.every(period, action, name=fault)
        self.budget.start()
        self.env.run(until=until)
        self.caches = {replica.name: cached for replica in self.replicas
                       if (cached := replica.cached()) is not None}
        if self.budget.exceeded is not None:
            self.no_progress = NoProgress(self.budget.exceeded, self.budget.stopped_at, self.env.now,
                                          *self._busiest())
            self.trace.record("world", "world.no-progress", steps=self.budget.steps)
        self._shut_down()
        failed = [task for rt in self.runtimes() for task in rt.unretrieved_failures()]
        if failed:
            error = failed[0].exception()
            tail = "\n".join(str(step) for step in self.trace.steps[-10:])
            raise SimulationError(f"task {failed[0].name!r} failed: {error!r}\nlast steps:\n{tail}") from error

    def _busiest(self, window: int = 5000) -> tuple[str, str]:
        """The actor and object key most frequent among the last steps of the trace, and that object's name."""
        counts = Counter((step.actor, str(dict(step.details).get("key") or dict(step.details).get("name") or ""))
                         for step in self.trace.steps[-window:])
        if not counts:
            return "(no step was traced)", ""
        (actor, key), count = max(counts.items(), key=lambda item: (item[1], item[0]))
        seen = min(window, len(self.trace.steps))
        return f"{actor}{' ' + key if key else ''} ({count} of the last {seen})", key.rpartition("/")[2]

    def runtimes(self) -> list[SimRuntime]:
        return [self.client, *(replica.runtime for replica in [*self.retired, *self.replicas])]

    def close(self) -> None:
        """Discard a world that will not run (or has run): every task is cancelled and unwound."""
        self._shut_down()

    def drop_records(self) -> None:
        """Let go of what the world recorded (its trace, its changes, the server's history) once it has been
        judged and is not kept. They hang from the world's cycles, so the cycle collector would walk every
        one of them; freed here, reference counting frees them, and the collection after the run walks only
        the cycles (a third less of its time on the 3-replica scenario)."""
        self.trace.steps.clear()
        self.changes.clear()
        self.server.compact()

    def _shut_down(self, max_steps: int = 100_000) -> None:
        """Cancel every task of the world and let them unwind, so none is left suspended."""
        for runtime in self.runtimes():
            runtime.paused_until = 0.0
            runtime.cancel_all()
        steps = 0
        while any(runtime.live_tasks() for runtime in self.runtimes()):
            if steps >= max_steps or self.env.peek() == float("inf"):
                stuck = [task.name for runtime in self.runtimes() for task in runtime.live_tasks()]
                raise SimulationError(f"tasks did not stop when cancelled: {stuck[:10]!r}")
            self.env.step()
            steps += 1
