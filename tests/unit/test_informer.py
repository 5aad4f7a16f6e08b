"""The informer: list then watch, relist after Gone, rewatch after a disconnect, bookmarks, resync."""

from __future__ import annotations

from typing import Any

import simpy

from fakes.apiserver import ApiServer, FakeKubeApi, NoFaults
from harness import EPOCH, SimRuntime
from notifier import NOTIFICATIONS, Informer, KubeObject, ResourceType
from tests.conftest import notification


class World:
    def __init__(self, faults: Any = None, **informer: Any) -> None:
        self.env = simpy.Environment()
        self.runtime = SimRuntime(self.env)
        self.server = ApiServer(clock=lambda: EPOCH + self.env.now)
        self.api = FakeKubeApi(self.server, self.runtime, faults=faults)
        self.informer = Informer(self.api, self.runtime, NOTIFICATIONS, namespace="default", **informer)
        self.seen: list[tuple[str, str]] = []
        self.informer.add_handler(lambda change, obj: self.seen.append((change, obj["metadata"]["name"])))
        self.task = self.runtime.spawn(self.informer.run(), name="informer")

    def write(self, at: float, fn: Any) -> None:
        async def later() -> None:
            await self.runtime.sleep(at)
            fn()
        self.runtime.spawn(later(), name="write")

    def create(self, name: str) -> KubeObject:
        return self.server.create(NOTIFICATIONS, "default", notification(name))

    def run(self, until: float) -> None:
        self.env.run(until=until)
        self.runtime.cancel_all()
        self.env.run()


def test_list_fills_the_cache_and_reports_adds() -> None:
    world = World()
    world.create("a")
    world.run(1)
    assert world.informer.keys() == ["default/a"] and world.seen == [("ADDED", "a")]
    assert world.informer.synced.is_set()


def test_get_hands_out_a_copy_to_change_and_peek_the_cached_object_to_look_at() -> None:
    world = World()
    world.create("a")
    world.run(1)
    copy = world.informer.get("default", "a")
    assert copy is not None
    copy["metadata"]["labels"] = {"changed": "by a reader"}
    peeked = world.informer.peek("default", "a")
    assert peeked is not None and "labels" not in peeked["metadata"]  # the change stayed in the copy
    assert world.informer.peek("default", "a") is peeked and world.informer.get("default", "a") is not peeked
    assert world.informer.peek("default", "b") is None


def test_watch_keeps_the_cache_current() -> None:
    world = World()
    world.write(1, lambda: world.create("a"))
    world.write(2, lambda: world.server.delete(NOTIFICATIONS, "default", "a"))
    world.run(3)
    assert world.seen == [("ADDED", "a"), ("DELETED", "a")] and world.informer.keys() == []


def test_gone_makes_the_informer_relist_and_miss_nothing() -> None:
    class DropEveryEvent(NoFaults):
        def watch_disconnect(self, resource: ResourceType, name: str) -> bool:
            return True

    world = World(faults=DropEveryEvent())
    world.write(1, lambda: world.create("a"))
    world.write(1, lambda: world.server.compact())
    world.write(1, lambda: world.create("b"))
    world.write(1, lambda: world.server.compact())
    world.run(5)
    assert world.informer.keys() == ["default/a", "default/b"]
    assert world.informer.relists >= 1


def test_disconnect_rewatches_from_the_last_version_without_relisting() -> None:
    class DropOnce(NoFaults):
        def __init__(self) -> None:
            self.dropped = False

        def watch_disconnect(self, resource: ResourceType, name: str) -> bool:
            if self.dropped:
                return False
            self.dropped = True
            return True

    world = World(faults=DropOnce())
    world.write(1, lambda: world.create("a"))
    world.write(2, lambda: world.create("b"))
    world.run(3)
    assert world.seen == [("ADDED", "a"), ("ADDED", "b")] and world.informer.relists == 0


def test_bookmark_advances_the_version_to_watch_from() -> None:
    world = World()
    world.write(1, lambda: world.server.create(NOTIFICATIONS, "elsewhere", notification("x", namespace="elsewhere")))
    world.write(2, lambda: world.server.bookmark())
    world.run(3)
    assert world.informer.last_sync_resource_version == "2"


def test_resync_reports_every_cached_object_again() -> None:
    world = World(resync_period=10)
    world.create("b")
    world.create("a")
    world.runtime.spawn(world.informer.resync(), name="resync")
    world.run(25)
    assert world.seen == [("ADDED", "a"), ("ADDED", "b"), ("RESYNC", "a"), ("RESYNC", "b"),
                          ("RESYNC", "a"), ("RESYNC", "b")]
