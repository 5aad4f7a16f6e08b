"""Leader election on a Lease: acquire, renew, expiry takeover by the candidate's own clock, release."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import simpy

from fakes.apiserver import ApiServer, FakeKubeApi
from harness import EPOCH, SimRuntime
from notifier import LEASES, LeaderElectionConfig, LeaderElector

CONFIG = LeaderElectionConfig(namespace="default")


class Pair:
    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.server = ApiServer(clock=lambda: EPOCH + self.env.now)
        self.a = self.elector("a")
        self.b = self.elector("b")

    def elector(self, identity: str, offset: float = 0.0) -> LeaderElector:
        runtime = SimRuntime(self.env, clock_offset=offset)
        return LeaderElector(FakeKubeApi(self.server, runtime), runtime, CONFIG, identity)

    def run(self, main: Coroutine[Any, Any, Any]) -> Any:
        runtime = SimRuntime(self.env)
        task = runtime.spawn(main, name="main")
        self.env.run(until=task)
        return task.result()

    def holder(self) -> str:
        return str(self.server.get(LEASES, "default", CONFIG.name)["spec"]["holderIdentity"])


def test_first_candidate_creates_the_lease_and_leads() -> None:
    pair = Pair()
    assert pair.run(pair.a.try_acquire_or_renew()) is True
    assert pair.holder() == "a"
    lease = pair.server.get(LEASES, "default", CONFIG.name)
    assert lease["spec"]["leaseDurationSeconds"] == 15 and lease["spec"]["leaseTransitions"] == 0


def test_second_candidate_cannot_take_a_live_lease() -> None:
    pair = Pair()
    pair.run(pair.a.try_acquire_or_renew())
    assert pair.run(pair.b.try_acquire_or_renew()) is False
    assert pair.holder() == "a"


def test_holder_renews_its_own_lease() -> None:
    pair = Pair()
    pair.run(pair.a.try_acquire_or_renew())
    before = pair.server.get(LEASES, "default", CONFIG.name)["spec"]["renewTime"]

    async def later() -> bool:
        await pair.a._runtime.sleep(5)
        return await pair.a.try_acquire_or_renew()
    assert pair.run(later()) is True
    assert pair.server.get(LEASES, "default", CONFIG.name)["spec"]["renewTime"] != before


def test_takeover_only_after_a_whole_lease_duration_of_silence_by_the_candidates_clock() -> None:
    pair = Pair()
    pair.run(pair.a.try_acquire_or_renew())

    async def contend() -> list[tuple[float, bool]]:
        results = []
        for _ in range(9):
            results.append((pair.env.now, await pair.b.try_acquire_or_renew()))
            await pair.b._runtime.sleep(2)
        return results
    results = pair.run(contend())
    assert [won for _, won in results] == [False] * 8 + [True]
    assert results[-1][0] == 16
    assert pair.holder() == "b"
    assert pair.server.get(LEASES, "default", CONFIG.name)["spec"]["leaseTransitions"] == 1


def test_a_skewed_candidate_clock_does_not_shorten_the_lease() -> None:
    pair = Pair()
    pair.run(pair.a.try_acquire_or_renew())
    fast = pair.elector("fast", offset=3600.0)
    assert pair.run(fast.try_acquire_or_renew()) is False


def test_leader_that_cannot_renew_gives_up_after_the_renew_deadline() -> None:
    pair = Pair()

    async def main() -> tuple[float, bool]:
        await pair.a.acquire()
        holding = pair.a._runtime.spawn(pair.a.hold(), name="hold")
        await pair.a._runtime.sleep(1)
        lease = pair.server.get(LEASES, "default", CONFIG.name)
        lease["spec"]["holderIdentity"] = "intruder"
        pair.server.update(LEASES, "default", lease)
        await holding
        return pair.env.now, pair.a.is_leader
    ended, leader = pair.run(main())
    assert leader is False and 10 <= ended <= 14


def test_release_clears_the_holder_so_another_candidate_leads_at_once() -> None:
    pair = Pair()

    async def main() -> bool:
        await pair.a.acquire()
        await pair.a.release()
        return await pair.b.try_acquire_or_renew()
    assert pair.run(main()) is True and pair.holder() == "b"
