"""A Lease record is dated by when its read returned, not by when the read began (the lock bug of 2026-11).

client-go's `tryAcquireOrRenew` stamps `observedTime` after its GET; a claimant that dated the record with a
clock read taken before a slow GET (or a pause during it) counted the wait as the holder's silence and took
over a live Lease. The `lease-observed-before-read` mutant puts that bug back; this test must fail with it.
"""

from __future__ import annotations

from typing import Any

import pytest
import simpy

from fakes.apiserver import ApiServer, FakeKubeApi, NoFaults
from harness import EPOCH, SimRuntime
from harness.mutants import MUTANTS
from notifier import LEASES, ResourceType
from notifier.assembly import PRODUCTION, DeliveryLock, delivery_lease_name

NR = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
      "metadata": {"name": "n1", "namespace": "default", "uid": "uid-1"}}
NAME = delivery_lease_name("uid-1")


class FirstGetIsSlow(NoFaults):
    """The first GET of a Lease takes 35 s to reach the server (a slow API server, or a pause in the call)."""

    def __init__(self) -> None:
        self.slowed = False

    def latency(self, verb: str, resource: ResourceType, name: str) -> float:
        if verb == "get" and resource == LEASES and not self.slowed:
            self.slowed = True
            return 35.0
        return 0.0


def takeover_after_a_slow_read(mutant: str | None) -> tuple[Any, str]:
    """b starts a claim at 0 whose GET returns at 35; a takes the Lease at 10; b claims again at 37."""
    env = simpy.Environment()
    server = ApiServer(clock=lambda: EPOCH + env.now)
    runtime_a, runtime_b = SimRuntime(env), SimRuntime(env)
    lock_a = DeliveryLock(FakeKubeApi(server, runtime_a), runtime_a, identity="a")
    seams = PRODUCTION
    if mutant is not None:
        chosen = MUTANTS[mutant].seams
        assert chosen is not None
        seams = chosen(seams, None)  # type: ignore[arg-type]  # this mutant needs nothing of a host
    lock_b = seams.delivery_lock(FakeKubeApi(server, runtime_b, faults=FirstGetIsSlow()), runtime_b, "b", 30.0)
    assert lock_b is not None
    outcomes: dict[str, Any] = {}

    async def b() -> None:
        outcomes["first"] = await lock_b.acquire(NR)
        await runtime_b.sleep(2.0)
        outcomes["second"] = await lock_b.acquire(NR)

    async def a() -> None:
        await runtime_a.sleep(10.0)
        outcomes["a"] = await lock_a.acquire(NR)

    runtime_b.spawn(b(), name="b")
    runtime_a.spawn(a(), name="a")
    env.run(until=60)
    assert outcomes["a"] is not None and outcomes["first"] is None
    return outcomes["second"], server.get(LEASES, "default", NAME)["spec"]["holderIdentity"]


def test_a_record_read_slowly_is_dated_when_the_read_returned() -> None:
    """a renewed 27 s before b's second claim: its tenure is live, so b must not take the Lease."""
    second, holder = takeover_after_a_slow_read(None)
    assert second is None and holder == "a"


def test_the_mutant_dating_the_record_before_the_read_takes_over_a_live_lease() -> None:
    second, holder = takeover_after_a_slow_read("lease-observed-before-read")
    assert second is not None and holder == "b"


@pytest.mark.parametrize("seed", [50])
def test_the_bundled_scenario_catches_the_mutant_and_passes_the_fixed_controller(seed: int) -> None:
    from harness._run import run
    from harness._scenario import bundled_dir, load_scenario

    scenario = load_scenario(bundled_dir() / "paused-past-lease.yaml")
    broken = run(scenario, seed, mutant="lease-observed-before-read")
    assert "lock-safety" in {v.invariant for v in broken.violations}
    assert run(scenario, seed).ok
