"""The controller's domain model, public for the tools that judge the controller from outside (the harness's
invariants, reports and tests): phases and their legal transitions, delivery attempts and their identity, the
retry policy and its backoff bounds, the status a write applies, the batch plan, the routing of a notification
to its channels.

Everything here is pure: no I/O, no clock.
"""

from notifier._backoff import backoff_bounds
from notifier._model import (
    NOT_ATTEMPTS,
    TERMINAL,
    AttemptStatus,
    DeliveryAttempt,
    Notification,
    Phase,
    Reason,
    RetryPolicy,
    count_deliveries,
)
from notifier._phase import TRANSITIONS, ChannelState, decide_transition
from notifier._plan import Plan, Planned, after_batch, plan_batch
from notifier._routing import CHANNEL_KINDS, EXTERNAL_KINDS, ChannelKind, ExternalKind, RoutingConfig
from notifier._routing import resolve as resolve_routing
from notifier._status import Written, apply_status, merge_attempts, update_status_with, write_status

__all__ = [
    "CHANNEL_KINDS",
    "EXTERNAL_KINDS",
    "NOT_ATTEMPTS",
    "TERMINAL",
    "TRANSITIONS",
    "AttemptStatus",
    "ChannelKind",
    "ChannelState",
    "DeliveryAttempt",
    "ExternalKind",
    "Notification",
    "Phase",
    "Plan",
    "Planned",
    "Reason",
    "RetryPolicy",
    "RoutingConfig",
    "Written",
    "after_batch",
    "apply_status",
    "backoff_bounds",
    "count_deliveries",
    "decide_transition",
    "merge_attempts",
    "plan_batch",
    "resolve_routing",
    "update_status_with",
    "write_status",
]
