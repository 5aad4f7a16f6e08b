"""Audit idempotency (spec 6.1), Kubernetes Events (6.2) and metrics (6.3)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from notifier._model import Notification
from notifier._observe import AuditBufferError, AuditEvent, Auditor, MemoryAuditSink, Metrics
from tests.conftest import Cluster, notification


class Clock:
    def now(self) -> float:
        return 1_767_225_600.0


def n(**spec: object) -> Notification:
    body = notification("n1", **spec)
    body["metadata"]["uid"] = "uid-1"
    return Notification.from_object(body)


def test_message_sent_is_emitted_once_per_channel() -> None:
    sink = MemoryAuditSink()
    auditor = Auditor(sink, Clock())  # type: ignore[arg-type]
    assert auditor.sent(n(), "slack") and not auditor.sent(n(), "slack") and auditor.sent(n(), "console")
    assert [e.payload["channel"] for e in sink.events] == ["slack", "console"]


def test_message_failed_is_once_per_channel_and_attempt() -> None:
    sink = MemoryAuditSink()
    auditor = Auditor(sink, Clock())  # type: ignore[arg-type]
    auditor.failed(n(), "slack", 1, "503")
    auditor.failed(n(), "slack", 1, "503")
    auditor.failed(n(), "slack", 2, "503")
    assert [(e.event_type, e.payload["error_type"]) for e in sink.events] == [
        ("notification.message.failed", "transient")] * 2


def test_acknowledged_and_escalated_are_once_per_notification() -> None:
    sink = MemoryAuditSink()
    auditor = Auditor(sink, Clock())  # type: ignore[arg-type]
    for _ in range(3):
        auditor.acknowledged(n())
        auditor.escalated(n())
    assert [e.action for e in sink.events] == ["acknowledged", "escalated"]


def test_forget_resets_the_idempotency_record() -> None:
    sink = MemoryAuditSink()
    auditor = Auditor(sink, Clock())  # type: ignore[arg-type]
    auditor.acknowledged(n())
    auditor.forget("default/n1")
    auditor.acknowledged(n())
    assert len(sink.events) == 2


def test_an_event_the_sink_refused_is_not_marked_emitted() -> None:
    class Flaky:
        def __init__(self) -> None:
            self.calls = 0
            self.events: list[AuditEvent] = []

        def emit(self, event: AuditEvent) -> None:
            self.calls += 1
            if self.calls == 1:
                raise AuditBufferError("buffer full")
            self.events.append(event)

    sink = Flaky()
    auditor = Auditor(sink, Clock())  # type: ignore[arg-type]
    assert not auditor.acknowledged(n())
    assert auditor.acknowledged(n()) and len(sink.events) == 1


def test_audit_fields_follow_adr_034() -> None:
    sink = MemoryAuditSink()
    Auditor(sink, Clock()).sent(n(remediationRequestRef={"name": "rr-1"}, clusterID="c1"), "slack")  # type: ignore[arg-type]
    event = sink.events[0]
    assert (event.category, event.actor_type, event.actor_id, event.resource_type, event.resource_id) == (
        "notification", "service", "notification-controller", "NotificationRequest", "n1")
    assert (event.correlation_id, event.cluster_id, event.namespace) == ("rr-1", "c1", "default")


def test_correlation_falls_back_to_the_uid() -> None:
    sink = MemoryAuditSink()
    Auditor(sink, Clock()).acknowledged(n())  # type: ignore[arg-type]
    assert sink.events[0].correlation_id == "uid-1"


def test_event_recorder_creates_an_event_regarding_the_object(cluster: Cluster) -> None:
    from notifier import EVENTS
    from notifier._observe import EventRecorder

    created = cluster.create(notification())
    recorder = EventRecorder(cluster.api, cluster.runtime, component="notification-controller", instance="r0")
    cluster.run(recorder.record(created, "Warning", "NotificationFailed", "Notification delivery failed"))
    (event,) = cluster.server.list_objects(EVENTS, "default")[0]
    assert (event["type"], event["reason"], event["regarding"]["name"]) == ("Warning", "NotificationFailed", "n1")


def test_metrics_use_the_documented_names_and_a_correct_breaker_help() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.attempts.labels(channel="slack:sre", status="success").inc()
    assert registry.get_sample_value("kubernaut_notification_delivery_attempts_total",
                                     {"channel": "slack:sre", "status": "success"}) == 1
    assert registry.get_sample_value("kubernaut_notification_reconciler_active", {"phase": "Pending"}) == 0
    helps = {m.name: m.documentation for m in registry.collect()}
    assert helps["kubernaut_notification_channel_circuit_breaker_state"].endswith("0=closed, 1=half-open, 2=open")


def test_metrics_registries_are_independent() -> None:
    first, second = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    first.attempts.labels(channel="c", status="success").inc()
    assert second.attempts.labels(channel="c", status="success")._value.get() == 0


@pytest.mark.parametrize("kind", ["sent", "failed"])
def test_payload_carries_subject_and_body(kind: str) -> None:
    sink = MemoryAuditSink()
    auditor = Auditor(sink, Clock())  # type: ignore[arg-type]
    auditor.sent(n(), "c") if kind == "sent" else auditor.failed(n(), "c", 1, "e")
    assert (sink.events[0].payload["subject"], sink.events[0].payload["body"]) == ("disk full", "node-1 disk 95%")


def test_repeated_events_become_one_series_as_client_gos_recorder_makes_them(cluster: Cluster) -> None:
    """k8s.io/client-go/tools/events: the first occurrence is created, the second turns it into a series of
    count 2 (a patch), later ones only count, and the last count is written once the series has been quiet
    for 6 minutes (`finishSeries`)."""
    from notifier import EVENTS
    from notifier._observe import SERIES_FINISH_SECONDS, EventRecorder

    created = cluster.create(notification())
    recorder = EventRecorder(cluster.api, cluster.runtime, component="notification-controller", instance="r0")
    writes = lambda: [c.type for c in cluster.server.history() if c.resource == EVENTS]  # noqa: E731
    for _ in range(4):
        cluster.run(recorder.record(created, "Normal", "ReconcileStarted", "Reconciliation started"))
    (event,) = cluster.server.list_objects(EVENTS, "default")[0]
    assert writes() == ["ADDED", "MODIFIED"] and event["series"]["count"] == 2
    cluster.run(recorder.finish())  # not quiet long enough yet: nothing written
    assert writes() == ["ADDED", "MODIFIED"]

    async def later() -> None:
        await cluster.runtime.sleep(SERIES_FINISH_SECONDS)
        await recorder.finish()
    cluster.run(later())
    (event,) = cluster.server.list_objects(EVENTS, "default")[0]
    assert writes() == ["ADDED", "MODIFIED", "MODIFIED"] and event["series"]["count"] == 4
    cluster.run(recorder.record(created, "Normal", "ReconcileStarted", "Reconciliation started"))
    assert len(cluster.server.list_objects(EVENTS, "default")[0]) == 2  # a finished series starts anew


def test_events_that_say_different_things_are_never_folded_together(cluster: Cluster) -> None:
    from notifier import EVENTS
    from notifier._observe import EventRecorder

    created = cluster.create(notification())
    recorder = EventRecorder(cluster.api, cluster.runtime, component="notification-controller", instance="r0")
    cluster.run(recorder.record(created, "Normal", "NotificationSent", "Delivered to console"))
    cluster.run(recorder.record(created, "Normal", "NotificationSent", "Delivered to slack:alerts"))
    events = cluster.server.list_objects(EVENTS, "default")[0]
    assert sorted(e["note"] for e in events) == ["Delivered to console", "Delivered to slack:alerts"]
    assert not any("series" in e for e in events)


def test_a_series_whose_event_is_gone_is_created_with_its_count(cluster: Cluster) -> None:
    """client-go's `recordEvent` creates the Event when the series patch finds nothing."""
    from notifier import EVENTS
    from notifier._observe import EventRecorder

    created = cluster.create(notification())
    recorder = EventRecorder(cluster.api, cluster.runtime, component="notification-controller", instance="r0")
    cluster.run(recorder.record(created, "Normal", "ReconcileStarted", "Reconciliation started"))
    (event,) = cluster.server.list_objects(EVENTS, "default")[0]
    cluster.server.delete(EVENTS, "default", event["metadata"]["name"])
    cluster.run(recorder.record(created, "Normal", "ReconcileStarted", "Reconciliation started"))
    (again,) = cluster.server.list_objects(EVENTS, "default")[0]
    assert again["metadata"]["name"] == event["metadata"]["name"] and again["series"]["count"] == 2


def test_a_restarted_replica_names_its_events_apart_from_those_of_its_previous_process(cluster: Cluster) -> None:
    """A restarted container keeps its pod name, so its recorder's instance is the same; its Events must not
    take the names of the previous process's (whose Events a series patch would then rewrite). client-go names
    an Event after the time it was made (`tools/events` makeEvent: `<object>.<UnixNano hex>`)."""
    from notifier import EVENTS
    from notifier._observe import EventRecorder

    created = cluster.create(notification())
    before = EventRecorder(cluster.api, cluster.runtime, component="notification-controller", instance="r0")
    cluster.run(before.record(created, "Normal", "NotificationSent", "Delivered to console"))

    async def restarted() -> None:
        await cluster.runtime.sleep(5.0)
        after = EventRecorder(cluster.api, cluster.runtime, component="notification-controller", instance="r0")
        for _ in range(2):
            await after.record(created, "Normal", "ReconcileStarted", "Reconciliation started")
    cluster.run(restarted())
    events = {e["note"]: e for e in cluster.server.list_objects(EVENTS, "default")[0]}
    assert sorted(events) == ["Delivered to console", "Reconciliation started"]
    assert "series" not in events["Delivered to console"]  # not rewritten by the other process's series
    assert events["Reconciliation started"]["series"]["count"] == 2
