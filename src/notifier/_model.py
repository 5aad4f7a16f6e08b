"""The NotificationRequest model: enums, the spec and retry policy, delivery attempts, conditions.

Pure: no I/O, no clock. Objects cross the API as JSON dicts; these types are read from and written back to
that JSON, so what the controller reasons about is typed while what it stores stays what the CRD says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, Final

from notifier._ports import KubeObject


class Phase(enum.StrEnum):
    NONE = ""
    PENDING = "Pending"
    SENDING = "Sending"
    RETRYING = "Retrying"
    SENT = "Sent"
    PARTIALLY_SENT = "PartiallySent"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL: Final = frozenset({Phase.SENT, Phase.PARTIALLY_SENT, Phase.FAILED})


class Priority(enum.StrEnum):
    CRITICAL = "Critical"
    HIGH = "High"
    MEDIUM = "Medium"
    LOW = "Low"


class AttemptStatus(enum.StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INVALID = "invalid"
    #: Written ahead of a send (the intent); replaced by the outcome in the same batch's final write.
    PENDING = "pending"
    #: An intent found after a crash or a pause: the send may or may not have happened.
    UNKNOWN = "unknown"
    #: An intent its own writer withdrew because it knows the send never happened (its lease was lost first).
    CANCELLED = "cancelled"


class Reason:
    """`status.reason` values (spec 1.7)."""

    INITIALIZED: Final = "Initialized"
    PROCESSING: Final = "ProcessingDeliveries"
    RETRYING: Final = "PartialFailureRetrying"
    ALL_SUCCEEDED: Final = "AllDeliveriesSucceeded"
    PARTIAL_SUCCESS: Final = "PartialDeliverySuccess"
    NO_CHANNELS: Final = "NoChannelsResolved"
    ALL_FAILED: Final = "AllDeliveriesFailed"
    EXHAUSTED: Final = "MaxRetriesExhausted"


PERMANENT_MARKER: Final = "permanent failure"

#: Statuses that are not (yet, or ever) an attempt: they count toward no counter and no limit.
NOT_ATTEMPTS: Final = frozenset({AttemptStatus.PENDING, AttemptStatus.CANCELLED})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Per-channel attempt limit and backoff (spec 1.3); the defaults are the CRD's and the code's."""

    max_attempts: int = 5
    initial_backoff_seconds: int = 30
    backoff_multiplier: int = 2
    max_backoff_seconds: int = 480

    @classmethod
    def from_spec(cls, raw: Any) -> RetryPolicy:
        if not isinstance(raw, dict):
            return cls()
        default = cls()
        return cls(
            max_attempts=int(raw.get("maxAttempts", default.max_attempts)),
            initial_backoff_seconds=int(raw.get("initialBackoffSeconds", default.initial_backoff_seconds)),
            backoff_multiplier=int(raw.get("backoffMultiplier", default.backoff_multiplier)),
            max_backoff_seconds=int(raw.get("maxBackoffSeconds", default.max_backoff_seconds)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One try of one channel. Its identity is (uid, channel, attempt): merging is exact on it.

    `replica` and `fencing_token` say who sent it under which lease; `redelivery` marks a send made again
    after an earlier intent's outcome was unknown (at-least-once).
    """

    uid: str
    channel: str
    attempt: int
    timestamp: str
    status: AttemptStatus
    error: str = ""
    duration_seconds: float = 0.0
    replica: str = ""
    fencing_token: str = ""
    redelivery: bool = False
    #: For a retryable failure: when the next attempt of this channel may start (backoff, jitter drawn once).
    retry_at: str = ""

    @property
    def identity(self) -> tuple[str, str, int]:
        return (self.uid, self.channel, self.attempt)

    @property
    def permanent(self) -> bool:
        return self.status is AttemptStatus.FAILED and PERMANENT_MARKER in self.error

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uid": self.uid,
            "channel": self.channel,
            "attempt": self.attempt,
            "timestamp": self.timestamp,
            "status": self.status.value,
            "durationSeconds": self.duration_seconds,
        }
        if self.error:
            out["error"] = self.error
        if self.replica:
            out["replica"] = self.replica
        if self.fencing_token:
            out["fencingToken"] = self.fencing_token
        if self.redelivery:
            out["redelivery"] = True
        if self.retry_at:
            out["retryAt"] = self.retry_at
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DeliveryAttempt:
        return cls(
            uid=str(raw.get("uid", "")),
            channel=str(raw.get("channel", "")),
            attempt=int(raw.get("attempt", 0)),
            timestamp=str(raw.get("timestamp", "")),
            status=AttemptStatus(raw.get("status", "failed")),
            error=str(raw.get("error", "")),
            duration_seconds=float(raw.get("durationSeconds", 0.0)),
            replica=str(raw.get("replica", "")),
            fencing_token=str(raw.get("fencingToken", "")),
            redelivery=bool(raw.get("redelivery", False)),
            retry_at=str(raw.get("retryAt", "")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """What the controller reads of a NotificationRequest: identity, spec and persisted status."""

    namespace: str
    name: str
    uid: str
    generation: int
    resource_version: str
    type: str
    priority: str
    subject: str
    body: str
    severity: str = ""
    phase_hint: str = ""
    review_source: str = ""
    cluster_id: str = ""
    remediation_ref: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    action_links: tuple[dict[str, str], ...] = ()
    retry_policy: RetryPolicy = RetryPolicy()
    phase: Phase = Phase.NONE
    attempts: tuple[DeliveryAttempt, ...] = ()
    successful_deliveries: int = 0
    observed_generation: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    #: The object as read, for channels that write the whole resource (file).
    raw: KubeObject = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_object(cls, obj: KubeObject) -> Notification:
        meta = obj.get("metadata", {})
        spec = obj.get("spec", {})
        status = obj.get("status") or {}
        uid = str(meta.get("uid", ""))
        return cls(
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            uid=uid,
            generation=int(meta.get("generation", 0) or 0),
            resource_version=str(meta.get("resourceVersion", "")),
            type=str(spec.get("type", "")),
            priority=str(spec.get("priority", "")),
            subject=str(spec.get("subject", "")),
            body=str(spec.get("body", "")),
            severity=str(spec.get("severity", "")),
            phase_hint=str(spec.get("phase", "")),
            review_source=str(spec.get("reviewSource", "")),
            cluster_id=str(spec.get("clusterID", "")),
            remediation_ref=str((spec.get("remediationRequestRef") or {}).get("name", "")),
            context=dict(spec.get("context") or {}),
            extensions={str(k): str(v) for k, v in (spec.get("extensions") or {}).items()},
            action_links=tuple(dict(link) for link in spec.get("actionLinks") or ()),
            retry_policy=RetryPolicy.from_spec(spec.get("retryPolicy")),
            phase=Phase(status.get("phase", "") or ""),
            attempts=tuple(
                DeliveryAttempt.from_json({"uid": uid, **raw}) for raw in status.get("deliveryAttempts") or ()
            ),
            successful_deliveries=int(status.get("successfulDeliveries", 0) or 0),
            observed_generation=int(status.get("observedGeneration", 0) or 0),
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
            raw=obj,
        )

    def attempts_for(self, channel: str) -> list[DeliveryAttempt]:
        return [a for a in self.attempts if a.channel == channel]


def flatten_context(context: dict[str, Any]) -> dict[str, str]:
    """`FlattenToMap` (spec 1.2): the context's routing and audit attributes, in a fixed order."""
    out: dict[str, str] = {}
    plain = {
        "lineage": ("remediationRequest", "aiAnalysis"),
        "workflow": ("selectedWorkflow", "confidence", "workflowId", "executionEngine"),
        "analysis": ("approvalReason", "rootCause", "outcome"),
        "review": ("reason", "subReason", "humanReviewReason", "rootCauseAnalysis", "alignmentVerdict"),
        "execution": ("retryCount", "maxRetries", "lastExitCode", "previousExecution", "timeoutPhase", "phaseTimeout"),
        "dedup": ("duplicateCount",),
        "target": ("targetResource",),
    }
    for section, keys in plain.items():
        values = context.get(section) or {}
        for key in keys:
            value = values.get(key)
            if isinstance(value, str) and value and key not in out:
                out[key] = value
    if (context.get("review") or {}).get("circuitBreakerActivated") is True:
        out["circuitBreakerActivated"] = "true"
    verification = context.get("verification")
    if isinstance(verification, dict):
        out["verificationAssessed"] = "true" if verification.get("assessed") else "false"
        out["verificationDegraded"] = "true" if verification.get("degraded") else "false"
        for key, name in (("outcome", "verificationOutcome"), ("reason", "verificationReason"),
                          ("degradedReason", "verificationDegradedReason")):
            value = verification.get(key)
            if isinstance(value, str) and value:
                out[name] = value
    return out


def count_deliveries(attempts: list[DeliveryAttempt] | tuple[DeliveryAttempt, ...]) -> tuple[int, int]:
    """(successful, failed) distinct-channel counters (spec 1.4): a later success clears a failure.

    Pending intents count as neither; an unknown outcome counts as a failure until a success is recorded.
    """
    succeeded: dict[str, None] = {}
    failed: dict[str, None] = {}
    for attempt in attempts:
        if attempt.status is AttemptStatus.SUCCESS:
            succeeded[attempt.channel] = None
            failed.pop(attempt.channel, None)
        elif attempt.status not in NOT_ATTEMPTS and attempt.channel not in succeeded:
            failed[attempt.channel] = None
    return len(succeeded), len(failed)


def enrich(n: Notification) -> Notification:
    """Replace the workflow id in the body with the workflow's name (spec 3.3 step 2). Pure.

    The id is `context.workflow.workflowId`, else `selectedWorkflow`; nothing changes if it or the name is empty.
    """
    workflow = n.context.get("workflow") or {}
    workflow_id = workflow.get("workflowId") or workflow.get("selectedWorkflow") or ""
    name = workflow.get("workflowName") or ""
    if not workflow_id or not name or workflow_id not in n.body:
        return n
    return replace(n, body=n.body.replace(workflow_id, name))
