"""The ports: every way the controller reaches time, concurrency and the Kubernetes API.

The controller receives these at construction and imports nothing else that touches the outside world.
Production implements them on asyncio and the official client (`notifier._adapters`); the simulator
implements them on simpy and an in-process API server. Implementations do not inherit from these
protocols: conformance is structural, checked by mypy on typed assignments in the tests.

Semantics that both sides must share are written here, in the docstrings, because the controller relies on
them and the tests of each implementation check them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: A Kubernetes object as raw JSON (what the API server sends and stores).
KubeObject = dict[str, Any]

WatchEventType = Literal["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchEvent:
    """One event of a watch stream: its type and the object as the server had it then."""

    type: WatchEventType
    object: KubeObject


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectList:
    """The answer to a list: the items and the resourceVersion to watch from (and, for a list in pages,
    the token of the next page; "" after the last)."""

    items: list[KubeObject]
    resource_version: str
    continue_token: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceType:
    """A namespaced resource the controller reads or writes."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path_prefix(self) -> str:
        """The REST path up to the namespace: `/apis/<group>/<version>` or `/api/v1`."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


class Task(Protocol[T_co]):
    """A spawned coroutine. Awaiting it gives its result or raises its exception."""

    def cancel(self) -> bool:
        """Ask the task to stop: `asyncio.CancelledError` is raised at its current await point."""
        ...

    def done(self) -> bool: ...

    def result(self) -> T_co:
        """The return value; raises the task's exception, or `CancelledError`; fails if not done."""
        ...

    def __await__(self) -> Generator[Any, Any, T_co]: ...


class Lock(Protocol):
    """A mutual-exclusion lock; waiters acquire it in the order they asked (FIFO)."""

    async def acquire(self) -> bool: ...

    def release(self) -> None: ...

    def locked(self) -> bool: ...

    async def __aenter__(self) -> None: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


class Event(Protocol):
    """A flag that tasks can wait for."""

    def set(self) -> None: ...

    def clear(self) -> None: ...

    def is_set(self) -> bool: ...

    async def wait(self) -> Literal[True]: ...


class Queue(Protocol[T]):
    """An unbounded FIFO queue; getters are served in the order they asked."""

    def put_nowait(self, item: T) -> None: ...

    async def get(self) -> T: ...

    def qsize(self) -> int: ...

    def empty(self) -> bool: ...


class Runtime(Protocol):
    """Time and concurrency: the only source of either that the controller may use.

    `now()` is wall-clock time in seconds since the epoch as this replica's clock reads it (in the simulator,
    virtual time plus the replica's skew). `sleep(0)` is a scheduling point. `gather` runs its awaitables
    concurrently, waits for all of them, and then raises the first exception in argument order, if any, so
    that both runtimes agree on which error a caller sees. `wait_for` cancels the awaitable and raises
    `TimeoutError` when the timeout passes first.
    """

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> Task[T]: ...

    async def gather(self, *aws: Awaitable[T]) -> list[T]: ...

    async def wait_for(self, aw: Awaitable[T], timeout: float) -> T: ...

    def lock(self) -> Lock: ...

    def event(self) -> Event: ...

    def queue(self) -> Queue[Any]: ...


class KubeApi(Protocol):
    """The Kubernetes API verbs the controller uses, on namespaced objects.

    Errors are the `KubeApiError` family of `notifier._errors`. `update` and `update_status` are
    compare-and-swap on `metadata.resourceVersion` when the body carries one. `patch` is a JSON merge patch.
    `list` answers in pages of `limit` when asked, each read at the first page's revision (410 `GoneError`
    once that is compacted away). `list` and `watch` take the API's label and field selectors (a watch sees
    an object entering its selector as ADDED and leaving it as DELETED). `watch` yields every change after
    `resource_version` exactly once and in order, and raises `GoneError` when that version has been
    compacted away; the stream may end at any time (a disconnect), after which the caller watches again
    from the last version it saw.
    """

    async def get(self, rt: ResourceType, namespace: str, name: str) -> KubeObject: ...

    async def list(self, rt: ResourceType, namespace: str | None, *, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "") -> ObjectList: ...

    def watch(
        self,
        rt: ResourceType,
        namespace: str | None,
        resource_version: str,
        *,
        timeout_seconds: float | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> AsyncIterator[WatchEvent]: ...

    async def create(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject: ...

    async def update(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject: ...

    async def update_status(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject: ...

    async def patch(self, rt: ResourceType, namespace: str, name: str, patch: KubeObject) -> KubeObject: ...

    async def delete(
        self, rt: ResourceType, namespace: str, name: str, *, resource_version: str | None = None
    ) -> None: ...
