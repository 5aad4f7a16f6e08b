"""Catalogue G, I and R (spec 7.2): routing attributes, error propagation, and graceful shutdown."""

from __future__ import annotations

from typing import Any

from harness._simfixture import Sim
from notifier._model import Notification, flatten_context
from notifier._routing import routing_attributes
from tests.sim.catalogue._kit import deliver, policy

REVIEW = {"lineage": {"remediationRequest": "rr-9", "aiAnalysis": "aia-3"},
          "review": {"reason": "low-confidence", "subReason": "no-match"},
          "workflow": {"workflowId": "wf-1", "selectedWorkflow": "wf-1"}, "analysis": {"rootCause": "oom"}}


def test_typed_review_source_produces_routing_attributes(sim: Sim) -> None:
    """7.2 G38: should persist typed ReviewSource and produce correct routing attributes."""
    run = deliver(sim, reviewSource="AIAnalysis", type="ManualReview", severity="critical", priority="High")
    attrs = routing_attributes(Notification.from_object(run.object("alert")))
    assert {k: attrs[k] for k in ("review-source", "type", "severity", "priority")} == {
        "review-source": "AIAnalysis", "type": "ManualReview", "severity": "critical", "priority": "High"}


def test_typed_enums_round_trip_through_create_and_status(sim: Sim) -> None:
    """7.2 G39: should preserve typed enum field values through Create and status update."""
    run = deliver(sim, "console-slack", backends={"slack:console-slack": {"default": 200, "script": [503]}},
                  retry=policy(3), type="Escalation", priority="Critical")
    obj = run.object("alert")
    assert (obj["spec"]["type"], obj["spec"]["priority"], obj["status"]["phase"]) == ("Escalation", "Critical", "Sent")
    assert "Retrying" in run.phases("alert")


def test_attributes_come_from_the_context_and_the_extensions(sim: Sim) -> None:
    """7.2 G40: should produce routing attributes from Context.FlattenToMap and Extensions."""
    run = deliver(sim, context=REVIEW, extensions={"environment": "prod", "skip-reason": "ResourceBusy"})
    attrs = routing_attributes(Notification.from_object(run.object("alert")))
    for key in ("remediationRequest", "aiAnalysis", "reason", "subReason", "environment", "skip-reason"):
        assert key in attrs


def test_audit_metadata_keeps_the_context_keys_but_not_spec_fields(sim: Sim) -> None:
    """7.2 G41: should preserve all metadata keys for audit correlation after the Context migration."""
    run = deliver(sim, context=REVIEW, severity="critical")
    (sent,) = [e for e in run.audit("alert") if e.event_type.endswith(".sent")]
    metadata = sent.payload["metadata"]
    assert {"remediationRequest", "workflowId", "rootCause"} <= set(metadata)
    assert "severity" not in metadata and "source" not in metadata


def test_log_output_carries_context_and_extensions(sim: Sim) -> None:
    """7.2 G42: should include Context and Extensions data in structured log output."""
    n = Notification.from_object(deliver(sim, context=REVIEW, extensions={"environment": "prod"}).object("alert"))
    metadata = {**flatten_context(n.context), **n.extensions}
    assert {"remediationRequest", "workflowId", "environment"} <= set(metadata)


def test_delivery_errors_reach_the_status(sim: Sim) -> None:
    """7.2 I57: should propagate delivery errors to CRD status for operator visibility."""
    status = deliver(sim, "console-slack", slack=503, retry=policy(2)).status("alert")
    assert status["phase"] == "PartiallySent" and status["successfulDeliveries"] + status["failedDeliveries"] >= 1


def test_large_error_bodies_do_not_break_the_status(sim: Sim) -> None:
    """7.2 I58: should truncate large error messages (an 8 KB error body is cut to 256 characters)."""
    run = deliver(sim, "slack-only", slack={"status": 500}, retry=policy(1))
    assert run.status("alert")["phase"] == "Failed"
    assert all(len(a.get("error", "")) < 600 for a in run.attempts("alert"))


def test_timeouts_during_delivery_end_in_a_terminal_phase(sim: Sim) -> None:
    """7.2 I59-60: context cancellation and deadline exceeded: the notification still ends."""
    run = deliver(sim, "slack-only", retry=policy(3), faults={"http.timeout-after-receive": {"probability": 0.5}})
    assert run.status("alert")["phase"] in ("Sent", "Failed")


def test_backend_resets_end_in_a_terminal_phase(sim: Sim) -> None:
    """7.2 I61: should recover from delivery failures without crashing the controller."""
    run = deliver(sim, "slack-only", retry=policy(3), faults={"http.reset": {"probability": 0.7}})
    assert run.status("alert")["phase"] in ("Sent", "Failed")


def test_a_plain_success_has_no_error(sim: Sim) -> None:
    """7.2 I62: should handle nil error conditions defensively: Sent, no error text."""
    run = deliver(sim, "slack-only")
    assert run.status("alert")["phase"] == "Sent" and "error" not in run.attempts("alert")[0]


def test_unusual_error_text_is_recorded(sim: Sim) -> None:
    """7.2 I63: should handle error serialization failures gracefully (a TLS failure is permanent)."""
    run = deliver(sim, "slack-only", faults={"http.tls-error": {"probability": 1.0}})
    (attempt,) = run.attempts("alert")
    assert attempt["error"].startswith("permanent failure: TLS certificate validation failed")


def test_nested_error_chains_still_classify(sim: Sim) -> None:
    """7.2 I64: should handle nested error chains correctly (429 is retryable, then Sent)."""
    run = deliver(sim, "slack-only", backends={"slack:slack-only": {"default": 200, "script": [429]}},
                  retry=policy(3))
    assert [a["status"] for a in run.attempts("alert")] == ["failed", "success"]


def test_concurrent_deliveries_with_errors_have_no_races(sim: Sim) -> None:
    """7.2 I65: should handle errors from concurrent deliveries without race conditions."""
    run = deliver(sim, "slack-only", count=8, every=0.01, retry=policy(3), world={"workers": 4},
                  faults={"http.status": {"probability": 0.3}})
    assert sum(run.status(f"alert-{i:02d}")["successfulDeliveries"] for i in range(8)) > 0


def shutdown(world: Any) -> Any:
    async def stop() -> None:
        for replica in world.replicas:
            replica.manager.stop()
    return stop


def test_in_flight_deliveries_complete_before_shutdown(sim: Sim) -> None:
    """7.2 R143: should complete in-flight deliveries before shutdown (BR-NOT-080)."""
    run = deliver(sim, "slack-only", slack={"status": 200, "latency": 2.0},
                  prepare=lambda w: w.at(1.0, shutdown(w), name="shutdown"))
    status = run.status("alert")
    assert (status["phase"], status["successfulDeliveries"]) == ("Sent", 1) and status["completionTime"]


def test_no_new_delivery_starts_after_shutdown(sim: Sim) -> None:
    """7.2 R144: should not start new deliveries after shutdown initiated (BR-NOT-080).

    With every replica stopped, the second notification is never handled: eventual-delivery says so, and
    that is the only violation.
    """
    scenario = sim.scenario(channels={"slack-only": ["slack"]},
                            notifications=[{"name": "alert", "count": 2, "every": 5.0, "channels": "slack-only"}],
                            phases={"fault": 0, "quiet": 60, "bound": 60})
    run = sim.run(scenario, prepare=lambda w: w.at(1.0, shutdown(w), name="shutdown"))
    assert [(v.invariant, v.notification) for v in run.violations] == [("eventual-delivery", "alert-01")]
    assert len(run.receipts("alert-00")) == 1 and run.receipts("alert-01") == []


def test_audit_is_flushed_for_completed_work(sim: Sim) -> None:
    """7.2 R145: should flush audit buffer before shutdown (BR-NOT-081): the Sent notification was audited."""
    run = deliver(sim, prepare=lambda w: w.at(1.0, shutdown(w), name="shutdown"))
    assert [e.event_type for e in run.audit("alert")][-1] == "notification.message.acknowledged"


def test_shutdown_is_bounded(sim: Sim) -> None:
    """7.2 R146: should handle shutdown timeout gracefully (completes in < 30 s of virtual time)."""
    run = deliver(sim, "slack-only", slack={"status": 200, "latency": 5.0},
                  prepare=lambda w: w.at(1.0, shutdown(w), name="shutdown"))
    assert run.completed_after("alert") < 30
