"""What the garbage collector of the fake server looks at, kept as the store changes: the uids stored, the
objects that name owners, and the order they were created in. A pass then costs what the dependents are
(a notification's delivery Leases), not the whole store (thousands of Events in a big world)."""

from __future__ import annotations

from typing import Any

Key = tuple[str, str, str]


class Owners:
    def __init__(self) -> None:
        #: Every uid the store holds.
        self.uids: set[str] = set()
        self._owning: set[Key] = set()
        self._born: dict[Key, int] = {}

    def stored(self, key: Key, obj: dict[str, Any], *, new: bool, revision: int) -> None:
        """`obj` is stored at `key` now (`new`: created, at `revision`)."""
        if new:
            self._born[key] = revision
            self.uids.add(obj["metadata"]["uid"])
        if obj["metadata"].get("ownerReferences"):
            self._owning.add(key)
        else:
            self._owning.discard(key)

    def removed(self, key: Key, obj: dict[str, Any]) -> None:
        del self._born[key]
        self.uids.discard(obj["metadata"]["uid"])
        self._owning.discard(key)

    def dependents(self) -> list[Key]:
        """The stored objects that name owners, in the store's order (the order of creation)."""
        return sorted(self._owning, key=self._born.__getitem__)
