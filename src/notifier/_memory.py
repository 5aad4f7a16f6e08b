"""What one replica knows of one notification beyond what the server holds: one record, one lifecycle.

A record is created by the first reconcile of a notification (by uid) in this process, and dropped when the
notification is done (a terminal phase) or deleted (its key is gone from the cache, or the API no longer has
it), including a deletion in the middle of a delivery: memory does not grow with churn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifier._lease import Tenure
from notifier._model import DeliveryAttempt, Notification
from notifier._ports import Lock

#: An attempt's identity: (notification uid, channel key, attempt number).
Identity = tuple[str, str, int]


@dataclass(slots=True, kw_only=True)
class DeliveryMemory:
    """One notification, as this process remembers it."""

    #: `namespace/name`: a deletion is seen by key (the cache no longer has it), not by uid.
    key: str
    #: Excludes a second reconcile of this notification in this process.
    mutex: Lock
    #: Outcomes sent but not yet persisted (a status write failed): written again, and never sent again.
    unpersisted: list[DeliveryAttempt] = field(default_factory=list)
    #: The notification as this process last delivered for it: what a message it sent is audited as if the
    #: notification is deleted before the outcome could be persisted.
    last: Notification | None = None
    #: Sends in flight, by channel key: the planner counts them against maxAttempts.
    reserved: dict[str, int] = field(default_factory=dict)
    #: The delivery Lease tenure this process holds for the notification, if any.
    tenure: Tenure | None = None
    #: When this process first saw each failed attempt (the backoff is measured from there too).
    seen_failed: dict[Identity, float] = field(default_factory=dict)
    #: When this process first saw each pending intent of another replica (stale after the intent timeout).
    seen_pending: dict[Identity, float] = field(default_factory=dict)
    #: Intents of this process known never sent (the fence failed, the intent write timed out): withdrawn.
    unsent: set[Identity] = field(default_factory=set)
