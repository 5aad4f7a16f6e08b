"""An informer: list, then watch, into a local cache, telling handlers of every change.

It keeps client-go's reflector contract: list to fill the cache and learn a resourceVersion, watch from that
version, relist after `410 Gone` or an error, watch again from the last version seen after a disconnect
(bookmarks advance that version too), and on every resync period tell the handlers of every cached object
again. The cache is what the controller reads most of the time, and it may be stale: that is the point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from notifier._errors import GoneError, KubeApiError
from notifier._ports import KubeApi, KubeObject, ResourceType, Runtime, WatchEvent
from notifier._resources import clone, object_key, resource_version

log = logging.getLogger("notifier.informer")

Change = Literal["ADDED", "MODIFIED", "DELETED", "RESYNC"]
Handler = Callable[[Change, KubeObject], None]


class Informer:
    """A cache of one resource type in one namespace (or all), kept by list and watch.

    Args:
        api: where to list and watch.
        runtime: time and concurrency.
        resource: what to watch.
        namespace: one namespace, or None for all.
        resync_period: every so many seconds, report every cached object again (0: never).
        watch_timeout: ask the server to end each watch after so many seconds (None: never).
        error_backoff: the wait before a relist after an error that is not `Gone`.
    """

    def __init__(
        self,
        api: KubeApi,
        runtime: Runtime,
        resource: ResourceType,
        *,
        namespace: str | None = None,
        resync_period: float = 0.0,
        watch_timeout: float | None = None,
        error_backoff: float = 1.0,
    ) -> None:
        self._api = api
        self._runtime = runtime
        self._resource = resource
        self._namespace = namespace
        self._resync_period = resync_period
        self._watch_timeout = watch_timeout
        self._error_backoff = error_backoff
        self._cache: dict[str, KubeObject] = {}
        self._handlers: list[Handler] = []
        self._last_version = ""
        self.synced = runtime.event()
        self.relists = 0

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    @property
    def last_sync_resource_version(self) -> str:
        return self._last_version

    def get(self, namespace: str, name: str) -> KubeObject | None:
        """A deep copy of the cached object, or None (readers may mutate what they get)."""
        obj = self._cache.get(f"{namespace}/{name}")
        return clone(obj) if obj is not None else None

    def peek(self, namespace: str, name: str) -> KubeObject | None:
        """The cached object itself, not a copy, or None: for a reader that only looks (as client-go's store
        hands out its own pointers); it must not be changed."""
        return self._cache.get(f"{namespace}/{name}")

    def keys(self) -> list[str]:
        return sorted(self._cache)

    def _notify(self, change: Change, obj: KubeObject) -> None:
        for handler in self._handlers:
            handler(change, obj)

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            try:
                await self._list()
                await self._watch_until_gone()
            except GoneError:
                log.info("watch of %s expired at %s; relisting", self._resource.plural, self._last_version)
            except KubeApiError as error:
                log.warning("list/watch of %s failed: %s; relisting", self._resource.plural, error)
                await self._runtime.sleep(self._error_backoff)
            self.relists += 1

    async def _list(self) -> None:
        listed = await self._api.list(self._resource, self._namespace)
        self.replace(listed.items, listed.resource_version)

    def replace(self, items: list[KubeObject], resource_version: str) -> None:
        """A relist: the cache becomes exactly what was listed (as client-go's `DeltaFIFO.Replace`): objects
        not listed were deleted meanwhile, and are reported so."""
        fresh = {object_key(item): item for item in items}
        stale = self._cache
        self._cache = fresh
        self._last_version = resource_version
        for key, obj in stale.items():
            if key not in fresh:
                self._notify("DELETED", obj)
        for key, obj in fresh.items():
            self._notify("MODIFIED" if key in stale else "ADDED", obj)
        self.synced.set()

    async def _watch_until_gone(self) -> None:
        """Watch from the last version; after a disconnect, watch again from where it stopped."""
        while True:
            stream = self._api.watch(
                self._resource, self._namespace, self._last_version, timeout_seconds=self._watch_timeout
            )
            async for event in stream:
                self._apply(event)

    def _apply(self, event: WatchEvent) -> None:
        obj = event.object
        version = resource_version(obj)
        if version:
            self._last_version = version
        if event.type == "BOOKMARK":
            return
        key = object_key(obj)
        if event.type == "DELETED":
            self._cache.pop(key, None)
        else:
            self._cache[key] = obj
        self._notify(event.type, obj)

    async def resync(self) -> None:
        """Every resync period, report every cached object again, until cancelled."""
        if self._resync_period <= 0:
            return
        while True:
            await self._runtime.sleep(self._resync_period)
            for key in sorted(self._cache):
                self._notify("RESYNC", self._cache[key])
