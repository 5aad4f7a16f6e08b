"""Write-ahead intents: a crash between a send and its status write is explained, not silent."""

from __future__ import annotations

import pytest

from fakes.backends import Receipt
from harness import World
from harness._rig import Rig, routing_for
from notifier import NOTIFICATIONS, KubeObject
from tests.conftest import notification

ROUTING = routing_for(("slack-only", ["slack"]))
POLICY = {"maxAttempts": 3, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}


def crash_after_first_send(guarantee: str, lock: str = "lease") -> tuple[World, KubeObject, list[Receipt]]:
    rig = Rig(routing=ROUTING, lock=lock, guarantees={"slack": guarantee})  # type: ignore[arg-type]
    world = World(seed=5, reconciler=rig.reconciler, replicas=2)
    slack = world.backends.add("slack", "slack-only")
    rig.credentials["slack-slack-only"] = slack.url
    crashed: list[str] = []

    def crash(receipt: Receipt) -> None:
        if not crashed:
            crashed.append(receipt.replica)
            replica = next(r for r in world.replicas if r.name == receipt.replica)
            world.trace.record(replica.name, "crash")
            replica.runtime.crash()

    slack.on_receipt.append(crash)
    body = notification("n1", retryPolicy=POLICY)
    body["spec"]["extensions"] = {"test-channel-set": "slack-only"}
    world.at(0, lambda: world.client_api.create(NOTIFICATIONS, "default", body), name="create")
    world.run(until=200)
    return world, world.server.get(NOTIFICATIONS, "default", "n1"), slack.received


def test_at_least_once_sends_again_and_records_the_unknown_outcome_and_the_redelivery() -> None:
    _, obj, received = crash_after_first_send("at-least-once")
    attempts = obj["status"]["deliveryAttempts"]
    assert [(a["attempt"], a["status"], a.get("redelivery", False)) for a in attempts] == [
        (1, "unknown", False), (2, "success", True)]
    assert len(received) == 2 and received[0].replica != received[1].replica
    assert obj["status"]["phase"] == "Sent"
    assert received[1].fencing_token.endswith("@1")  # the second sender holds a later tenure


def test_at_most_once_does_not_send_again() -> None:
    _, obj, received = crash_after_first_send("at-most-once")
    assert [(a["attempt"], a["status"]) for a in obj["status"]["deliveryAttempts"]] == [(1, "unknown")]
    assert len(received) == 1
    assert obj["status"]["phase"] == "Failed"


def test_the_takeover_waits_for_the_lease_to_expire() -> None:
    _, _, received = crash_after_first_send("at-least-once")
    assert received[1].time - received[0].time >= 30


@pytest.mark.parametrize("guarantee", ["at-least-once", "at-most-once"])
def test_every_send_was_covered_by_a_persisted_intent(guarantee: str) -> None:
    world, _, received = crash_after_first_send(guarantee)
    intents = {(c.revision, a["attempt"]) for c in world.server.history()
               if c.resource == NOTIFICATIONS for a in (c.object.get("status") or {}).get("deliveryAttempts", [])
               if a["status"] == "pending"}
    for receipt in received:
        assert any(attempt == receipt.attempt for _, attempt in intents)
