"""Catalogue J and K (spec 7.2): audit emission and Kubernetes Events."""

from __future__ import annotations

from harness._simfixture import Sim
from notifier import EVENTS
from tests.sim.catalogue._kit import deliver, policy


def test_console_success_emits_message_sent_correlated_by_uid(sim: Sim) -> None:
    """7.2 J66: should emit notification.message.sent when Console delivery succeeds (correlation = UID)."""
    run = deliver(sim)
    (sent,) = [e for e in run.audit("alert") if e.event_type == "notification.message.sent"]
    assert sent.outcome == "success" and sent.correlation_id == run.object("alert")["metadata"]["uid"]


def test_slack_success_emits_message_sent_correlated_by_remediation(sim: Sim) -> None:
    """7.2 J67: should emit notification.message.sent when Slack delivery succeeds (found by RR name)."""
    run = deliver(sim, "slack-only")
    assert [e.payload["channel"] for e in run.audit("alert") if e.event_type.endswith(".sent")] == [
        "slack:slack-only"]


def test_remediation_request_name_is_the_correlation_id(sim: Sim) -> None:
    """7.2 J68: should include remediationRequestName as correlation_id in audit events."""
    sc = sim.scenario(channels={"c": ["console"]}, notifications=[{"name": "alert", "channels": "c"}],
                      phases={"fault": 0, "quiet": 60, "bound": 60})
    run = sim.check(sim.run(sc))
    assert {e.correlation_id for e in run.audit("alert")} == {run.object("alert")["metadata"]["uid"]}


def test_each_channel_delivery_has_its_own_audit_event(sim: Sim) -> None:
    """7.2 J69: should emit separate audit event for each channel delivery (console-slack: exactly 2)."""
    run = deliver(sim, "console-slack")
    assert sorted(e.payload["channel"] for e in run.audit("alert") if e.event_type.endswith(".sent")) == [
        "console", "slack:console-slack"]


def test_events_carry_the_adr_034_fields(sim: Sim) -> None:
    """7.2 J70: should emit events with all ADR-034 required fields."""
    (event, *_) = deliver(sim).audit("alert")
    assert (event.outcome, event.actor_type, event.actor_id, event.category, event.resource_type) == (
        "success", "service", "notification-controller", "notification", "NotificationRequest")
    assert event.resource_id == "alert" and event.namespace == "default" and event.timestamp


def test_slack_failure_emits_message_failed_with_the_error(sim: Sim) -> None:
    """7.2 J71: should emit notification.message.failed when Slack delivery fails (503)."""
    run = deliver(sim, "slack-only", slack=503, retry=policy(1))
    failed = [e for e in run.audit("alert") if e.event_type == "notification.message.failed"]
    assert failed and failed[0].outcome == "failure" and "503" in failed[0].payload["error"]


def reasons(run: object, name: str = "alert") -> list[str]:
    world = run.world  # type: ignore[attr-defined]
    return [c.object["reason"] for c in world.changes
            if c.resource == EVENTS and c.object["regarding"]["name"] == name]


def test_events_for_a_full_delivery(sim: Sim) -> None:
    """7.2 K72: should emit ReconcileStarted, PhaseTransition (Pending->Sending), NotificationSent."""
    seen = reasons(deliver(sim, "console-slack"))
    assert {"ReconcileStarted", "PhaseTransition", "NotificationSent"} <= set(seen)
    assert seen.count("NotificationSent") == 2


def test_events_for_a_partial_delivery_with_retries(sim: Sim) -> None:
    """7.2 K73: should emit ReconcileStarted, PhaseTransition, NotificationRetrying, NotificationPartiallySent."""
    seen = set(reasons(deliver(sim, "console-slack", slack=503, retry=policy(3))))
    assert {"ReconcileStarted", "PhaseTransition", "NotificationRetrying", "NotificationPartiallySent"} <= seen


def test_events_for_a_permanent_failure(sim: Sim) -> None:
    """7.2 K74: should emit ReconcileStarted, PhaseTransition, NotificationFailed when all channels fail (400)."""
    seen = set(reasons(deliver(sim, "slack-only", slack=400)))
    assert {"ReconcileStarted", "PhaseTransition", "NotificationFailed"} <= seen
