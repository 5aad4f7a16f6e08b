"""An open watch, and the event a change makes on it: what the watch cache's `cacheWatcher` sends.

A watch with a selector sees an object enter and leave it (`convertToWatchEvent` in apiserver's
`storage/cacher/cache_watcher.go`): a change whose new object matches and whose previous one did not is
ADDED; both matching, MODIFIED; the previous one matching and the new one not (or deleted), DELETED with the
*previous* object at the change's resourceVersion; neither, nothing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes.apiserver._select import Selector
from notifier import KubeObject, ResourceType, WatchEvent, WatchEventType, clone


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the history: a write, the object as it stood after it, and before it (None on create)."""

    revision: int
    type: WatchEventType
    resource: ResourceType
    namespace: str
    object: KubeObject
    previous: KubeObject | None = None


@dataclass(eq=False)
class Watcher:
    """An open watch: the server appends matching changes to `pending` and calls `on_event`."""

    resource: ResourceType
    namespace: str | None
    bookmarks: bool
    pending: deque[WatchEvent] = field(default_factory=deque)
    on_event: Callable[[WatchEvent], None] | None = None
    closed: bool = False
    selector: Selector = field(default_factory=Selector)
    #: The field labels of an object of this resource (`metadata.name`, selectable fields), for the selector.
    fields: Callable[[KubeObject], Mapping[str, str]] = lambda obj: {}

    def push(self, event: WatchEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
        else:
            self.pending.append(event)

    def wants(self, change: Change) -> bool:
        return change.resource == self.resource and self.namespace in (None, change.namespace)

    def passes(self, obj: KubeObject | None) -> bool:
        if obj is None:
            return False
        return self.selector.matches(obj.get("metadata", {}).get("labels") or {}, self.fields(obj))

    def event(self, change: Change) -> WatchEvent | None:
        """The event this watch sees of a change it `wants` (a copy of the object of its own), or none."""
        if not self.selector:
            return WatchEvent(type=change.type, object=clone(change.object))
        now = change.type != "DELETED" and self.passes(change.object)
        before = self.passes(change.previous)
        if now:
            return WatchEvent(type="MODIFIED" if before else "ADDED", object=clone(change.object))
        if before:
            assert change.previous is not None
            gone: dict[str, Any] = clone(change.previous)
            gone["metadata"]["resourceVersion"] = str(change.revision)
            return WatchEvent(type="DELETED", object=gone)
        return None
