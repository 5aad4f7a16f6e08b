"""The resources the controller touches, object keys, and Kubernetes time formats.

Pure: no I/O, no clock. Times are passed in as seconds since the epoch (from `Runtime.now()`).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from notifier._ports import KubeObject, ResourceType

J = TypeVar("J")

NOTIFICATIONS = ResourceType(
    group="kubernaut.ai", version="v1alpha1", plural="notificationrequests", kind="NotificationRequest"
)
LEASES = ResourceType(group="coordination.k8s.io", version="v1", plural="leases", kind="Lease")
EVENTS = ResourceType(group="events.k8s.io", version="v1", plural="events", kind="Event")


def clone(value: J) -> J:
    """A deep copy of a JSON value (what API objects are), several times faster than `copy.deepcopy`.

    Anything that is not a JSON type falls back to `copy.deepcopy`, so a caller that stores a tuple or a
    datetime still gets an independent copy.
    """
    return cast(J, _clone(value))


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: _clone(item) for key, item in value.items()}
    if kind is list:
        return [_clone(item) for item in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def object_key(obj: KubeObject) -> str:
    """`namespace/name` of an object, the workqueue's key."""
    meta = obj.get("metadata", {})
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def split_key(key: str) -> tuple[str, str]:
    """The inverse of `object_key`."""
    namespace, _, name = key.partition("/")
    return namespace, name


def resource_version(obj: KubeObject) -> str:
    return str(obj.get("metadata", {}).get("resourceVersion", ""))


def format_time(epoch_seconds: float) -> str:
    """RFC 3339 with second precision, as `metav1.Time` serialises."""
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(epoch_seconds: float) -> str:
    """RFC 3339 with microseconds, as `metav1.MicroTime` (Lease times) serialises."""
    micros = round(epoch_seconds * 1_000_000)
    stamp = datetime.fromtimestamp(micros // 1_000_000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{micros % 1_000_000:06d}Z"


def parse_time(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time (`Z` or an offset, with or without fraction)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
