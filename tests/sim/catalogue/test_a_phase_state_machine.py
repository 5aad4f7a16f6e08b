"""Catalogue A (spec 7.2): the phase state machine and terminal immutability, in virtual time."""

from __future__ import annotations

from typing import Any

from harness._simfixture import Sim

POLICY_1 = {"maxAttempts": 1, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}
CHANNELS = {"console-only": ["console"], "slack-only": ["slack"], "console-slack": ["console", "slack"]}


def one(sim: Sim, channels: str, *, slack: Any = 200, policy: dict[str, int] | None = None, quiet: float = 120,
        **extra: Any) -> Any:
    spec: dict[str, Any] = {"name": "alert", "channels": channels}
    if policy:
        spec["retryPolicy"] = policy
    backends = {"slack:slack-only": {"default": slack}, "slack:console-slack": {"default": slack}}
    return sim.run(sim.scenario(channels=CHANNELS, backends=backends, notifications=[spec],
                                phases={"fault": 0, "quiet": quiet, "bound": quiet}, **extra))


def test_pending_sending_sent_for_successful_delivery(sim: Sim) -> None:
    """7.2 A1: should transition Pending -> Sending -> Sent for successful delivery (BR-NOT-056)."""
    run = sim.check(one(sim, "console-only"))
    status = run.status("alert")
    assert run.phases("alert") == ["Pending", "Sending", "Sent"]
    assert (status["reason"], status["successfulDeliveries"], status["failedDeliveries"]) == (
        "AllDeliveriesSucceeded", 1, 0)
    assert status["completionTime"]


def test_pending_sending_failed_when_all_channels_fail_permanently(sim: Sim) -> None:
    """7.2 A2: should transition Pending -> Sending -> Failed when all channels fail permanently."""
    run = sim.check(one(sim, "slack-only", slack=401, policy=POLICY_1))
    status = run.status("alert")
    assert (status["phase"], status["reason"], status["successfulDeliveries"]) == ("Failed", "AllDeliveriesFailed", 0)
    assert status["failedDeliveries"] > 0 and status["completionTime"]


def test_pending_sending_partially_sent_when_some_channels_fail(sim: Sim) -> None:
    """7.2 A3: should transition Pending -> Sending -> PartiallySent when some channels succeed and some fail."""
    run = sim.check(one(sim, "console-slack", slack=401, policy=POLICY_1))
    status = run.status("alert")
    assert (status["phase"], status["reason"]) == ("PartiallySent", "PartialDeliverySuccess")
    assert (status["successfulDeliveries"], status["failedDeliveries"]) == (1, 1) and status["completionTime"]


def test_passes_through_pending_and_sending_before_terminal(sim: Sim) -> None:
    """7.2 A4: should pass through Pending and/or Sending phases before terminal state (slow Slack)."""
    run = sim.check(one(sim, "console-slack", slack={"status": 200, "latency": 2.0}))
    assert run.phases("alert") == ["Pending", "Sending", "Sent"]
    assert run.completed_after("alert") >= 2.0


def test_terminal_sent_is_immutable(sim: Sim) -> None:
    """7.2 A5: should keep terminal phase Sent immutable: phase, reason, completionTime unchanged after."""
    run = sim.check(one(sim, "console-only", quiet=300))
    sent = [c.object["status"] for c in run.world.changes
            if c.object["metadata"]["name"] == "alert" and (c.object.get("status") or {}).get("phase") == "Sent"]
    assert sent and all((s["reason"], s["completionTime"]) == (sent[0]["reason"], sent[0]["completionTime"])
                        for s in sent)
    assert run.status("alert")["phase"] == "Sent"


def test_terminal_failed_is_immutable(sim: Sim) -> None:
    """7.2 A6: should keep terminal phase Failed immutable for a 401-failed notification."""
    run = sim.check(one(sim, "slack-only", slack=401, policy=POLICY_1, quiet=300))
    assert run.phases("alert")[-1] == "Failed" and run.phases("alert").count("Failed") == 1
    assert len(run.attempts("alert")) == 1


def test_phase_transitions_are_recorded_in_status(sim: Sim) -> None:
    """7.2 A7: should record phase transitions in status (reason, message, attempts, completionTime, totals)."""
    run = sim.check(one(sim, "console-only"))
    status = run.status("alert")
    assert status["reason"] and status["message"] and status["deliveryAttempts"] and status["completionTime"]
    assert status["totalAttempts"] == status["successfulDeliveries"] + status["failedDeliveries"]
