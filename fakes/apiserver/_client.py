"""`FakeKubeApi`: the `KubeApi` port over an in-process `ApiServer`, one per replica.

Every call is a scheduling point: it sleeps through the Runtime for the latency the fault hooks ask for, then
applies to the server. The hooks are how the harness (or a test) injects the `api.*` and `watch.*` faults:
an error instead of the call, a timeout after the call was applied (the caller cannot tell whether it was),
extra delay on each watch event (a stale informer cache), and a watch stream that ends (a disconnect).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from fakes.apiserver._list import ListOptions
from fakes.apiserver._select import Selector
from fakes.apiserver._server import ApiServer
from notifier import KubeApiError, KubeObject, ObjectList, ResourceType, Runtime, WatchEvent


class ApiFaults(Protocol):
    """The knobs of `api.*` and `watch.*` faults. Each method is asked once per call or event."""

    def latency(self, verb: str, resource: ResourceType, name: str) -> float:
        """Seconds the call takes before it reaches the server (`api.latency`); `name` is "" for a list or a
        watch."""
        ...

    def before_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        """An error to raise instead of applying the call (`api.conflict`, `api.error`,
        `api.timeout-before-apply`)."""
        ...

    def after_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        """An error to raise after the call was applied (`api.timeout-after-apply`)."""
        ...

    def watch_delay(self, resource: ResourceType, name: str) -> float:
        """Extra seconds before a watch event (on the object `name`) reaches this replica (`watch.delay`)."""
        ...

    def watch_disconnect(self, resource: ResourceType, name: str) -> bool:
        """True to end the watch stream after the event (on `name`) just delivered (`watch.disconnect`)."""
        ...

    def watch_coalesce(self, resource: ResourceType, name: str) -> bool:
        """True to let a new event overtake an undelivered one for the same object `name`
        (`informer.hold-event`)."""
        ...


class NoFaults:
    """No latency, no errors, no delay: the server as fast and reliable as it gets."""

    def latency(self, verb: str, resource: ResourceType, name: str) -> float:
        return 0.0

    def before_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        return None

    def after_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        return None

    def watch_delay(self, resource: ResourceType, name: str) -> float:
        return 0.0

    def watch_disconnect(self, resource: ResourceType, name: str) -> bool:
        return False

    def watch_coalesce(self, resource: ResourceType, name: str) -> bool:
        return False


class FakeKubeApi:
    """One replica's client of the shared in-process API server.

    Args:
        server: the world's API server.
        runtime: the replica's runtime (its sleeps are the latencies).
        faults: the fault hooks; none by default.
    """

    def __init__(self, server: ApiServer, runtime: Runtime, *, faults: ApiFaults | None = None) -> None:
        self.server = server
        self._runtime = runtime
        self.faults: ApiFaults = faults or NoFaults()
        self.calls = 0

    async def _enter(self, verb: str, resource: ResourceType, name: str = "") -> None:
        self.calls += 1
        await self._runtime.sleep(self.faults.latency(verb, resource, name))
        _raise(self.faults.before_apply(verb, resource, name))

    def _leave(self, verb: str, resource: ResourceType, name: str) -> None:
        _raise(self.faults.after_apply(verb, resource, name))

    async def get(self, rt: ResourceType, namespace: str, name: str) -> KubeObject:
        await self._enter("get", rt, name)
        obj = self.server.get(rt, namespace, name)
        self._leave("get", rt, name)
        return obj

    async def list(self, rt: ResourceType, namespace: str | None, *, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "") -> ObjectList:
        await self._enter("list", rt)
        page = self.server.list_page(rt, namespace, Selector.parse(label_selector, field_selector),
                                     ListOptions(limit=limit, continue_token=continue_token))
        self._leave("list", rt, "")
        return ObjectList(items=page.items, resource_version=page.resource_version,
                          continue_token=page.continue_token)

    async def create(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        return await self._write("create", self.server.create, rt, namespace, body)

    async def update(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        return await self._write("update", self.server.update, rt, namespace, body)

    async def update_status(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        return await self._write("update_status", self.server.update_status, rt, namespace, body)

    async def _write(self, verb: str, write: Callable[[ResourceType, str, KubeObject], KubeObject],
                     rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        """A write of a whole object: a scheduling point, then the server's write, with the faults around it."""
        name = str(body.get("metadata", {}).get("name", ""))
        await self._enter(verb, rt, name)
        obj = write(rt, namespace, body)
        self._leave(verb, rt, name)
        return obj

    async def patch(self, rt: ResourceType, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        await self._enter("patch", rt, name)
        obj = self.server.patch(rt, namespace, name, patch)
        self._leave("patch", rt, name)
        return obj

    async def delete(
        self, rt: ResourceType, namespace: str, name: str, *, resource_version: str | None = None
    ) -> None:
        await self._enter("delete", rt, name)
        self.server.delete(rt, namespace, name, resource_version=resource_version)
        self._leave("delete", rt, name)

    async def watch(
        self,
        rt: ResourceType,
        namespace: str | None,
        resource_version: str,
        *,
        timeout_seconds: float | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> AsyncIterator[WatchEvent]:
        """Stream changes; each event reaches this replica after its drawn delay, never out of order."""
        await self._enter("watch", rt)
        watcher = self.server.watch(rt, namespace, resource_version,
                                    selector=Selector.parse(label_selector, field_selector))
        runtime = self._runtime
        buffer: deque[tuple[float, WatchEvent]] = deque()
        waiting_keys: Counter[tuple[str, str]] = Counter()  # the keys in `buffer`, so a lookup is O(1)
        arrived = runtime.event()
        last_due = runtime.now()

        def stamp(event: WatchEvent) -> None:
            nonlocal last_due
            key = _key(event)
            last_due = max(last_due, runtime.now() + self.faults.watch_delay(rt, key[1]))
            if key[1] and waiting_keys[key] and self.faults.watch_coalesce(rt, key[1]):
                kept = [(due, waiting) for due, waiting in buffer if _key(waiting) != key]
                buffer.clear()
                buffer.extend(kept)
                del waiting_keys[key]
            buffer.append((last_due, event))
            waiting_keys[key] += 1
            arrived.set()

        for event in watcher.pending:
            stamp(event)
        watcher.pending.clear()
        watcher.on_event = stamp
        deadline = None if timeout_seconds is None else runtime.now() + timeout_seconds
        try:
            while True:
                if not buffer:
                    arrived.clear()
                    if deadline is None:
                        await arrived.wait()
                    else:
                        try:
                            await runtime.wait_for(arrived.wait(), deadline - runtime.now())
                        except TimeoutError:
                            return
                    continue
                due, event = buffer[0]
                if due > runtime.now():
                    await runtime.sleep(due - runtime.now())
                    continue  # the buffer may have changed meanwhile (an event overtaken): look again
                buffer.popleft()
                waiting_keys[_key(event)] -= 1
                yield event
                if self.faults.watch_disconnect(rt, _key(event)[1]):
                    return
        finally:
            self.server.close(watcher)



def _key(event: WatchEvent) -> tuple[str, str]:
    meta = event.object.get("metadata", {})
    return (str(meta.get("namespace", "")), str(meta.get("name", "")))


def _raise(error: KubeApiError | None) -> None:
    """Raise an injected error, if any, keeping no reference to it here: a frame that holds the exception its
    own traceback holds is a cycle, which only the cycle collector frees (with every frame and local the
    traceback kept alive)."""
    if error is None:
        return
    try:
        raise error
    finally:
        del error
