"""What the controller tells the world besides status: audit events, Kubernetes Events, metrics.

Audit (spec 6.1) goes to an `AuditSink` port with the per-process idempotency the spec describes: each event
key is emitted at most once per notification, and marked only when the sink accepted it. Kubernetes Events
(spec 6.2) are created through the `KubeApi`; failures are logged, never fatal. Metrics (spec 6.3) live on an
injected prometheus registry, with the breaker-state help text corrected.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from notifier._errors import KubeApiError, NotFoundError, NotifierError
from notifier._model import Notification, flatten_context
from notifier._ports import KubeApi, KubeObject, Runtime
from notifier._resources import EVENTS, format_micro_time, format_time

log = logging.getLogger("notifier.observe")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One audit record (ADR-034 fields)."""

    event_type: str
    action: str
    outcome: str
    resource_id: str
    correlation_id: str
    namespace: str
    cluster_id: str
    timestamp: str
    payload: dict[str, Any] = field(default_factory=dict)
    #: The notification's uid: names are reused after a delete, uids never are.
    resource_uid: str = ""
    category: str = "notification"
    actor_type: str = "service"
    actor_id: str = "notification-controller"
    resource_type: str = "NotificationRequest"


class AuditSink(Protocol):
    """Buffers audit events; raises `AuditBufferError` when it cannot take one."""

    def emit(self, event: AuditEvent) -> None: ...


class AuditBufferError(NotifierError):
    """The audit sink could not buffer an event (logged and ignored: fire and forget)."""


class MemoryAuditSink:
    """Keeps every event in order: for tests, the simulator and `notifier run` without an audit store."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        self.events.append(event)


class Auditor:
    """Builds the four audit events and emits each event key once per notification, per process."""

    def __init__(self, sink: AuditSink, runtime: Runtime, *,
                 memory: MutableMapping[str, dict[str, None]] | None = None) -> None:
        self._sink = sink
        self._runtime = runtime
        #: What was emitted, by `namespace/name@uid` then event key: the idempotency record.
        self._emitted: MutableMapping[str, dict[str, None]] = {} if memory is None else memory

    def forget(self, key: str) -> None:
        """Drop the idempotency records of a deleted notification (`namespace/name`, any uid)."""
        for recorded in [k for k in self._emitted if k.partition("@")[0] == key]:
            del self._emitted[recorded]

    def _emit(self, n: Notification, event_key: str, event_type: str, action: str, outcome: str,
              payload: dict[str, Any]) -> bool:
        seen = self._emitted.setdefault(f"{n.key}@{n.uid}", {})
        if event_key in seen:
            return False
        event = AuditEvent(event_type=event_type, action=action, outcome=outcome, resource_id=n.name,
                           correlation_id=n.remediation_ref or n.uid, namespace=n.namespace, cluster_id=n.cluster_id,
                           timestamp=format_time(self._runtime.now()), payload=payload, resource_uid=n.uid)
        try:
            self._sink.emit(event)
        except AuditBufferError as error:
            log.warning("audit event %s for %s not buffered: %s", event_type, n.key, error)
            return False
        seen[event_key] = None
        return True

    def _message(self, n: Notification, channel: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"notification_id": n.name, "channel": channel, "subject": n.subject,
                                   "body": n.body, "priority": n.priority, "type": n.type}
        metadata = flatten_context(n.context)
        if metadata:
            payload["metadata"] = metadata
        return payload

    def sent(self, n: Notification, channel: str) -> bool:
        return self._emit(n, f"message.sent:{channel}", "notification.message.sent", "sent", "success",
                          self._message(n, channel))

    def failed(self, n: Notification, channel: str, attempt: int, error: str) -> bool:
        payload = {**self._message(n, channel), "error": error, "error_type": "transient"}
        return self._emit(n, f"message.failed:{channel}:attempt{attempt}", "notification.message.failed", "sent",
                          "failure", payload)

    def acknowledged(self, n: Notification) -> bool:
        return self._emit(n, "message.acknowledged", "notification.message.acknowledged", "acknowledged",
                          "success", {"notification_id": n.name})

    def escalated(self, n: Notification) -> bool:
        return self._emit(n, "message.escalated", "notification.message.escalated", "escalated", "success",
                          {"notification_id": n.name})


#: client-go's events library finishes a series, writing its last count, once it has been quiet this long
#: (`finishTime`, 6 minutes, in `tools/events`); a single Event leaves the cache after it too.
SERIES_FINISH_SECONDS = 6 * 60


@dataclass(slots=True)
class _Series:
    """One Event this recorder created, and how often it has happened since."""

    body: KubeObject
    observed: float
    count: int = 1
    #: The count the server holds.
    written: int = 1


class EventRecorder:
    """Creates `events.k8s.io/v1` Events about a notification; best effort.

    Repeats are aggregated as client-go's events library (`k8s.io/client-go/tools/events`) aggregates them:
    the first occurrence is created, the second turns it into a series (`series.count` 2, written as a
    patch), later ones only count here, and `finish_series` writes a series' last count once it has been
    quiet for `SERIES_FINISH_SECONDS`. client-go calls two Events the same when their action, reason,
    reporting controller and object are; here their type and note must match too, so that no message is
    folded into another's count.
    """

    def __init__(self, api: KubeApi, runtime: Runtime, *, component: str, instance: str) -> None:
        self._api = api
        self._runtime = runtime
        self._component = component
        self._instance = instance
        self._count = 0
        self.recorded: list[tuple[str, str, str]] = []
        #: The Events created and not yet finished, by what makes two of them the same.
        self._series: dict[tuple[str, ...], _Series] = {}

    async def record(self, obj: KubeObject, kind: str, reason: str, note: str) -> None:
        meta = obj.get("metadata", {})
        now = self._runtime.now()
        self.recorded.append((kind, reason, note))
        regarding = {"apiVersion": obj.get("apiVersion", ""), "kind": obj.get("kind", ""),
                     "name": meta.get("name", ""), "namespace": meta.get("namespace", ""),
                     "uid": meta.get("uid", "")}
        key = (kind, reason, note[:1024], *regarding.values())
        seen = self._series.get(key)
        if seen is not None:
            seen.count += 1
            seen.observed = now
            if seen.count == 2:
                await self._write_series(seen)
            return
        self._count += 1
        body: KubeObject = {
            "apiVersion": EVENTS.api_version, "kind": EVENTS.kind,
            # client-go names an Event after when it was made (`<object>.<UnixNano hex>`), so a restarted
            # process, whose pod name is the same, never reuses its predecessor's names; the instance and a count
            # keep apart the Events several replicas, or one, make in the same instant
            "metadata": {"name": f"{meta.get('name', '')}.{self._instance}.{round(now * 1e9):x}.{self._count:x}",
                         "namespace": meta.get("namespace", "")},
            "eventTime": format_micro_time(now), "type": kind, "reason": reason, "note": note[:1024],
            "action": reason, "reportingController": self._component, "reportingInstance": self._instance,
            "regarding": regarding,
        }
        self._series[key] = _Series(body, now)
        try:
            await self._api.create(EVENTS, str(body["metadata"]["namespace"]), body)
        except KubeApiError as error:
            log.info("event %s for %s not recorded: %s", reason, meta.get("name"), error)

    async def _write_series(self, seen: _Series) -> None:
        """Write the series' count: a patch of the Event, or the Event itself if it is gone (client-go's
        `recordEvent` creates it when the patch finds nothing)."""
        count, series = seen.count, {"count": seen.count, "lastObservedTime": format_micro_time(seen.observed)}
        meta = seen.body["metadata"]
        try:
            try:
                await self._api.patch(EVENTS, meta["namespace"], meta["name"], {"series": series})
            except NotFoundError:
                await self._api.create(EVENTS, meta["namespace"], {**seen.body, "series": series})
        except KubeApiError as error:
            log.info("event series %s not recorded: %s", meta["name"], error)
        else:
            seen.written = max(seen.written, count)

    async def finish(self) -> None:
        """Write the last count of every series quiet for `SERIES_FINISH_SECONDS`, and forget it."""
        now = self._runtime.now()
        for key, seen in list(self._series.items()):
            if now - seen.observed < SERIES_FINISH_SECONDS:
                continue
            if seen.count > seen.written:
                await self._write_series(seen)
            if self._series.get(key) is seen and seen.count <= seen.written:
                del self._series[key]

    async def finish_series(self) -> None:
        """`finish` every `SERIES_FINISH_SECONDS`, for ever (client-go's `finishSeries` ticker)."""
        while True:
            await self._runtime.sleep(SERIES_FINISH_SECONDS)
            await self.finish()


class Metrics:
    """The controller's collectors (spec 6.3) on the given registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.phase = Gauge("kubernaut_notification_reconciler_active",
                           "Set to 1 once a notification has entered the phase", ["phase"], registry=registry)
        self.attempts = Counter("kubernaut_notification_delivery_attempts_total",
                                "Delivery attempts by channel key and outcome", ["channel", "status"],
                                registry=registry)
        self.duration = Histogram("kubernaut_notification_delivery_duration_seconds",
                                  "Time taken by each delivery call", ["channel"], registry=registry)
        self.breaker = Gauge("kubernaut_notification_channel_circuit_breaker_state",
                             "Circuit breaker state per channel type: 0=closed, 1=half-open, 2=open",
                             ["channel"], registry=registry)
        self.phase.labels(phase="Pending").set(0)
