"""Building the controller: the production assembly of a reconciler and its router from ports, and the parts a
host (the `notifier run` command, or the simulator's worlds) wires: configuration, the audit sink, the delivery
Lease; and what deploys it (`manifests`, the Role of exactly the verbs it calls).
"""

from notifier._app import LocalChannels, assemble
from notifier._lease import DeliveryLock, LeaseClaimant, Tenure, delivery_lease_name
from notifier._manifests import ROLE_RULES, manifests, role
from notifier._observe import AuditEvent, Auditor, AuditSink, EventRecorder, MemoryAuditSink
from notifier._reconciler import CacheReader, ControllerConfig, LockMode, NotificationReconciler
from notifier._routing import Resolution, Router
from notifier._seams import PRODUCTION, Seams, StatusWriter
from notifier._webhooks import PAGERDUTY_URL

__all__ = [
    "PAGERDUTY_URL",
    "PRODUCTION",
    "ROLE_RULES",
    "AuditEvent",
    "AuditSink",
    "Auditor",
    "CacheReader",
    "ControllerConfig",
    "DeliveryLock",
    "EventRecorder",
    "LeaseClaimant",
    "LocalChannels",
    "LockMode",
    "MemoryAuditSink",
    "NotificationReconciler",
    "Resolution",
    "Router",
    "Seams",
    "StatusWriter",
    "Tenure",
    "assemble",
    "delivery_lease_name",
    "manifests",
    "role",
]
