"""The per-notification delivery Lease: acquire, renew, expiry takeover, release, fencing."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import simpy

from fakes.apiserver import ApiServer, FakeKubeApi
from harness import EPOCH, SimRuntime
from notifier import LEASES
from notifier._lease import DeliveryLock, Tenure, delivery_lease_name

NR = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
      "metadata": {"name": "n1", "namespace": "default", "uid": "uid-1"}}
NAME = delivery_lease_name("uid-1")


class Two:
    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.server = ApiServer(clock=lambda: EPOCH + self.env.now)
        self.runtimes = {name: SimRuntime(self.env) for name in ("a", "b")}
        self.locks = {name: DeliveryLock(FakeKubeApi(self.server, rt), rt, identity=name)
                      for name, rt in self.runtimes.items()}

    def run(self, coro: Coroutine[Any, Any, Any], *, at: float = 0.0) -> Any:
        runtime = SimRuntime(self.env)

        async def later() -> Any:
            await runtime.sleep(at - self.env.now)
            return await coro
        task = runtime.spawn(later(), name="t")
        self.env.run(until=task)
        return task.result()

    def lease(self) -> dict[str, Any]:
        return self.server.get(LEASES, "default", NAME)["spec"]


def test_lease_name_is_16_hex_of_the_uid_hash() -> None:
    assert NAME.startswith("notification-delivery-") and len(NAME) == len("notification-delivery-") + 16


def test_first_acquire_creates_the_lease_at_epoch_zero_owned_by_the_notification() -> None:
    two = Two()
    tenure = two.run(two.locks["a"].acquire(NR))
    assert tenure.token == "a@0" and two.lease()["holderIdentity"] == "a"
    owner = two.server.get(LEASES, "default", NAME)["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"]) == ("NotificationRequest", "uid-1")


def test_holder_renews_and_keeps_its_epoch() -> None:
    two = Two()
    first = two.run(two.locks["a"].acquire(NR))
    renewed = two.run(two.locks["a"].acquire(NR), at=10)
    assert renewed.token == first.token and renewed.renewed_at == first.renewed_at + 10


def test_other_replica_cannot_take_a_live_lease() -> None:
    two = Two()
    two.run(two.locks["a"].acquire(NR))
    assert two.run(two.locks["b"].acquire(NR), at=5) is None


def test_takeover_after_expiry_bumps_the_epoch() -> None:
    two = Two()
    two.run(two.locks["a"].acquire(NR))
    assert two.run(two.locks["b"].acquire(NR), at=1) is None  # b starts watching the record
    tenure = two.run(two.locks["b"].acquire(NR), at=31)
    assert tenure.token == "b@1" and two.lease()["leaseTransitions"] == 1


def test_fence_fails_after_a_takeover() -> None:
    two = Two()
    mine: Tenure = two.run(two.locks["a"].acquire(NR))
    two.run(two.locks["b"].acquire(NR), at=1)
    two.run(two.locks["b"].acquire(NR), at=32)
    assert two.run(two.locks["a"].fence(mine)) is False


def test_fence_fails_once_the_tenure_expired_by_the_holders_clock() -> None:
    two = Two()
    mine: Tenure = two.run(two.locks["a"].acquire(NR))
    assert two.run(two.locks["a"].fence(mine), at=29) is True
    assert two.run(two.locks["a"].fence(mine), at=30) is False


def test_release_frees_it_for_the_next_holder_at_a_higher_epoch() -> None:
    two = Two()
    mine = two.run(two.locks["a"].acquire(NR))
    two.run(two.locks["a"].release(mine))
    tenure = two.run(two.locks["b"].acquire(NR))
    assert tenure.token == "b@1"


def test_release_of_a_lost_tenure_leaves_the_new_holder_alone() -> None:
    two = Two()
    old = two.run(two.locks["a"].acquire(NR))
    two.run(two.locks["b"].acquire(NR), at=1)
    two.run(two.locks["b"].acquire(NR), at=32)
    two.run(two.locks["a"].release(old))
    assert two.lease()["holderIdentity"] == "b"
