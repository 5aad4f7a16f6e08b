"""Catalogue N and P (spec 7.2): observability through status, and priorities."""

from __future__ import annotations

import pytest

from harness._simfixture import Sim
from notifier import parse_time
from tests.sim.catalogue._kit import deliver, policy


def test_status_fields_carry_delivery_metrics(sim: Sim) -> None:
    """7.2 N109: should populate status fields with observable delivery metrics."""
    status = deliver(sim).status("alert")
    assert (status["phase"], status["successfulDeliveries"], status["failedDeliveries"]) == ("Sent", 1, 0)
    assert status["totalAttempts"] >= 1 and status["completionTime"]


def test_retry_attempts_are_tracked_in_status(sim: Sim) -> None:
    """7.2 N110: should track retry attempts through status fields (console-slack, MaxAttempts 3)."""
    run = deliver(sim, "console-slack", backends={"slack:console-slack": {"default": 200, "script": [503]}},
                  retry=policy(3))
    status = run.status("alert")
    assert status["phase"] == "Sent" and status["totalAttempts"] == 3
    assert [a["status"] for a in run.attempts("alert", "slack")] == ["failed", "success"]


def test_timing_is_observable_through_status_timestamps(sim: Sim) -> None:
    """7.2 N111: should provide observable timing information through status timestamps."""
    run = deliver(sim)
    obj = run.object("alert")
    latency = parse_time(obj["status"]["completionTime"]) - parse_time(obj["metadata"]["creationTimestamp"])
    assert -1 < latency < 30
    assert obj["status"]["queuedAt"] <= obj["status"]["processingStartedAt"] <= obj["status"]["completionTime"]


def test_per_channel_outcomes_are_observable(sim: Sim) -> None:
    """7.2 N112: should provide per-channel delivery observability through status."""
    run = deliver(sim, "console-file-log")
    assert sorted(a["channel"] for a in run.attempts("alert")) == ["console", "file", "log"]
    assert {a["status"] for a in run.attempts("alert")} == {"success"}


def test_lifecycle_transitions_are_observable(sim: Sim) -> None:
    """7.2 N113: should make notification lifecycle state transitions observable (polling sees Sent)."""
    assert deliver(sim).phases("alert") == ["Pending", "Sending", "Sent"]


@pytest.mark.parametrize("priority", ["Critical", "High", "Medium", "Low"])
def test_all_four_priority_levels_are_accepted(sim: Sim, priority: str) -> None:
    """7.2 P118-121: should accept all 4 priority levels (BR-NOT-057): accepted, preserved, Sent."""
    run = deliver(sim, priority=priority)
    assert run.object("alert")["spec"]["priority"] == priority and run.status("alert")["phase"] == "Sent"


def test_priority_is_always_set(sim: Sim) -> None:
    """7.2 P122: should require priority field to be set (default Medium when omitted by the API)."""
    assert deliver(sim).object("alert")["spec"]["priority"] in ("Critical", "High", "Medium", "Low")


def test_priority_is_preserved_through_the_lifecycle(sim: Sim) -> None:
    """7.2 P123: should preserve priority value throughout notification lifecycle."""
    run = deliver(sim, priority="Low")
    assert all(c.object["spec"]["priority"] == "Low" for c in run.world.changes
               if c.object["metadata"]["name"] == "alert")


def test_critical_priority_for_outages(sim: Sim) -> None:
    """7.2 P124: should accept Critical priority for production outage notifications (Slack header emoji)."""
    run = deliver(sim, "slack-only", priority="Critical")
    assert run.receipts("alert")[0].payload["blocks"][0]["text"]["text"].startswith("\U0001f6a8")


def test_low_priority_for_information(sim: Sim) -> None:
    """7.2 P125: should accept Low priority for informational notifications."""
    assert deliver(sim, priority="Low").status("alert")["phase"] == "Sent"


def test_all_priorities_are_processed_without_queue_priority(sim: Sim) -> None:
    """7.2 P126: should process all priorities (no priority queueing exists in this version)."""
    runs = [deliver(sim, priority=p) for p in ("Low", "Critical")]
    assert [r.status("alert")["phase"] for r in runs] == ["Sent", "Sent"]
