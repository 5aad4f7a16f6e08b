"""The manager: an informer, a workqueue and N workers running one reconciler, as a supervisor.

Every task it starts is spawned through the Runtime and owned here: `stop()` drains the workers gracefully
(in-flight reconciles finish), and cancelling `run()` (a crash, in the simulator) cancels every child at
once. With leader election, workers start only once this replica leads, and the manager stops when it
loses the Lease, as controller-runtime's manager exits.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from notifier._errors import LifecycleError, NotifierError
from notifier._informer import Change, Informer
from notifier._leader import LeaderElectionConfig, LeaderElector
from notifier._ports import KubeApi, KubeObject, ResourceType, Runtime, Task
from notifier._resources import NOTIFICATIONS, object_key, split_key
from notifier._throttle import RetryAfter
from notifier._workqueue import WorkQueue

log = logging.getLogger("notifier.manager")


@dataclass(frozen=True, slots=True)
class Request:
    """What a reconcile is asked to look at."""

    namespace: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """What a reconcile asks for next: nothing, a rate-limited requeue, or a requeue after a delay."""

    requeue: bool = False
    requeue_after: float = 0.0


class Reconciler(Protocol):
    async def reconcile(self, request: Request) -> Result: ...


class ManagerState(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class Manager:
    """Runs one reconciler over one resource type.

    Args:
        api: the Kubernetes API.
        runtime: time and concurrency.
        reconciler: what each worker calls for each key.
        resource: the watched type (NotificationRequests by default).
        namespace: one namespace to watch, or None for all.
        workers: how many reconciles may run at once (never two for one key).
        identity: this replica's name, the leader-election candidate identity.
        leader_election: lead before reconciling; None to reconcile at once.
        resync_period: seconds between informer resyncs (0: never).
        informer: the cache to build (this one; the simulator's bug zoo puts a bug in it).
        background: tasks to run beside the workers while the manager runs (the Event recorder's
            `finish_series`), each started once the cache has synced.
    """

    def __init__(
        self,
        *,
        api: KubeApi,
        runtime: Runtime,
        reconciler: Reconciler,
        resource: ResourceType = NOTIFICATIONS,
        namespace: str | None = None,
        workers: int = 1,
        identity: str = "notifier",
        leader_election: LeaderElectionConfig | None = None,
        resync_period: float = 0.0,
        watch_timeout: float | None = None,
        informer: type[Informer] = Informer,
        background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers!r}")
        self._runtime = runtime
        self._reconciler = reconciler
        self.identity = identity
        self.workers = workers
        api = RetryAfter.around(api, runtime)
        self.informer = informer(
            api, runtime, resource, namespace=namespace, resync_period=resync_period, watch_timeout=watch_timeout
        )
        self.informer.add_handler(self._enqueue)
        self.queue = WorkQueue(runtime)
        self.elector = (
            LeaderElector(api, runtime, leader_election, identity) if leader_election is not None else None
        )
        self.state = ManagerState.NEW
        self.lost_leadership = False
        self._stopping = runtime.event()
        self._background = tuple(background)

    def _enqueue(self, change: Change, obj: KubeObject) -> None:
        self.queue.add(object_key(obj))

    async def run(self) -> None:
        """Run until `stop()`, a lost Lease, or cancellation."""
        if self.state is not ManagerState.NEW:
            raise LifecycleError(f"Manager.run() called in state {self.state.value!r}; create a new Manager")
        self.state = ManagerState.RUNNING
        rt = self._runtime
        children: list[Task[Any]] = []
        workers: list[Task[None]] = []
        try:
            if self.elector is not None:
                await self.elector.acquire()
                children.append(rt.spawn(self._hold_lease(), name=f"{self.identity}.leader"))
            children.append(rt.spawn(self.informer.run(), name=f"{self.identity}.informer"))
            children.append(rt.spawn(self.informer.resync(), name=f"{self.identity}.resync"))
            await self.informer.synced.wait()
            workers = [rt.spawn(self._work(i), name=f"{self.identity}.worker[{i}]") for i in range(self.workers)]
            children += [rt.spawn(task(), name=f"{self.identity}.{task.__name__}") for task in self._background]
            await self._stopping.wait()
            self.queue.shut_down()
            for worker in workers:
                await worker
        finally:
            self.queue.shut_down()
            for task in [*children, *workers]:
                task.cancel()
            for task in [*children, *workers]:
                await _settled(task)
            if self.elector is not None and not self.lost_leadership:
                await self.elector.release()
            self.state = ManagerState.STOPPED

    def ready(self) -> bool:
        """Running, with the informer's first list in the cache (what a readiness probe asks)."""
        return self.state is ManagerState.RUNNING and self.informer.synced.is_set()

    def stop(self) -> None:
        """Ask `run()` to finish: no new reconciles start; those running finish first."""
        self._stopping.set()

    async def _hold_lease(self) -> None:
        assert self.elector is not None
        await self.elector.hold()
        self.lost_leadership = True
        self.stop()

    async def _work(self, index: int) -> None:
        while True:
            key = await self.queue.get()
            if key is None:
                return
            await self.process(key)

    async def process(self, key: str) -> None:
        """Reconcile one key taken from the queue and apply what the result asks for."""
        try:
            result = await self._reconciler.reconcile(Request(*split_key(key)))
        except NotifierError as error:
            log.warning("reconcile of %s failed: %s; requeued with backoff", key, error)
            self.queue.add_rate_limited(key)
        except Exception:
            log.exception("reconcile of %s failed; requeued with backoff", key)
            self.queue.add_rate_limited(key)
        else:
            if result.requeue_after > 0:
                self.queue.forget(key)
                self.queue.add_after(key, result.requeue_after)
            elif result.requeue:
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
        finally:
            self.queue.done(key)


async def _settled(task: Task[Any]) -> None:
    """Wait for a cancelled child to finish, whatever it ended with."""
    try:
        await task
    except BaseException:
        if not task.done():
            raise
