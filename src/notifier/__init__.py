"""notifier: a Kubernetes controller that delivers NotificationRequests.

The controller reaches time, concurrency and the Kubernetes API only through the ports of `notifier._ports`,
so the same code runs on asyncio against a real cluster and inside the deterministic simulator.
"""

from notifier._errors import (
    AlreadyExistsError,
    BadRequestError,
    ConfigError,
    ConflictError,
    ForbiddenError,
    ForeignAwaitError,
    GoneError,
    InvalidError,
    KubeApiError,
    KubeTimeoutError,
    KubeUnavailableError,
    LifecycleError,
    NotFoundError,
    NotifierError,
    error_from_status,
)
from notifier._informer import Informer
from notifier._leader import LeaderElectionConfig, LeaderElector
from notifier._manager import Manager, ManagerState, Reconciler, Request, Result
from notifier._ports import (
    Event,
    KubeApi,
    KubeObject,
    Lock,
    ObjectList,
    Queue,
    ResourceType,
    Runtime,
    Task,
    WatchEvent,
)
from notifier._resources import (
    EVENTS,
    LEASES,
    NOTIFICATIONS,
    format_micro_time,
    format_time,
    object_key,
    parse_time,
)
from notifier._workqueue import RateLimiter, WorkQueue

__all__ = [
    "EVENTS",
    "LEASES",
    "NOTIFICATIONS",
    "AlreadyExistsError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "Event",
    "ForbiddenError",
    "ForeignAwaitError",
    "GoneError",
    "Informer",
    "InvalidError",
    "KubeApi",
    "KubeApiError",
    "KubeObject",
    "KubeTimeoutError",
    "KubeUnavailableError",
    "LeaderElectionConfig",
    "LeaderElector",
    "LifecycleError",
    "Lock",
    "Manager",
    "ManagerState",
    "NotFoundError",
    "NotifierError",
    "ObjectList",
    "Queue",
    "RateLimiter",
    "Reconciler",
    "Request",
    "ResourceType",
    "Result",
    "Runtime",
    "Task",
    "WatchEvent",
    "WorkQueue",
    "error_from_status",
    "format_micro_time",
    "format_time",
    "object_key",
    "parse_time",
]
