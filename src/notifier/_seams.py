"""The reconciler's replaceable decisions, declared in one frozen value.

The reconciler takes a `Seams` at construction and consults it for every decision it could make otherwise:
how a status is written, how a batch is planned, how a phase is decided, whether attempts are claimed first,
whether reconciles of one notification exclude each other, which Lease fences sends, how audit events are
remembered and which outcomes a reconcile audits, how channels resolve and where their senders live, and
whether a reconcile must first wait. Production passes `Seams()`, the defaults below. The simulator's bug zoo
builds its known-bad controllers by replacing fields of this value (`dataclasses.replace`), so a renamed
method or field of the reconciler can never silently disarm a mutant: the seams are the whole interface.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifier._channels import Channel
from notifier._lease import DeliveryLock
from notifier._model import DeliveryAttempt, Notification
from notifier._observe import Auditor, AuditSink
from notifier._phase import decide_transition
from notifier._plan import after_batch, plan_batch
from notifier._ports import KubeApi, Runtime
from notifier._routing import Resolution, Router
from notifier._status import Written, write_status

StatusWriter = Callable[..., Awaitable[Written]]


def lease_lock(api: KubeApi, runtime: Runtime, identity: str, duration: float) -> DeliveryLock | None:
    """The per-notification delivery Lease (DESIGN section 4)."""
    return DeliveryLock(api, runtime, identity=identity, duration=duration)


def persisted_outcomes(n: Notification, landed: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    """A reconcile audits the outcomes it found persisted that it had not audited yet: no more."""
    return landed


def router_resolve(router: Router, n: Notification) -> Resolution:
    return router.resolve(n)


def router_channels(router: Router) -> Mapping[str, Channel]:
    """The external channels of this replica's router (rebuilt on each routing reload)."""
    return router.channels


def no_hold(n: Notification, now: float) -> float | None:
    """Seconds the whole reconcile waits before delivering: none (each channel has its own backoff gate)."""
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Seams:
    """The decisions a reconciler delegates; `Seams()` is production."""

    #: Reads the object through the API, applies a status change, writes it (compare-and-swap, retried).
    write_status: StatusWriter = write_status
    #: Plans one batch (see `notifier.model.plan_batch`).
    plan_batch: Callable[..., Any] = plan_batch
    #: The phase after a batch (see `notifier.model.decide_transition`).
    decide_transition: Callable[..., Any] = decide_transition
    #: The channels' states once a batch's outcomes count.
    after_batch: Callable[..., Any] = after_batch
    #: Claim every attempt with a write-ahead intent before sending it.
    claim_attempts: bool = True
    #: One reconcile of a notification at a time in this process.
    exclusive: bool = True
    #: A reconcile works only on the object whose uid it locked (the cache's): when the API has another object
    #: under that name (the cached one was deleted and the name taken again), it looks again instead.
    same_uid: bool = True
    #: The Lease that fences external sends (api, runtime, identity, duration); None: no Lease.
    delivery_lock: Callable[[KubeApi, Runtime, str, float], DeliveryLock | None] = lease_lock
    #: The auditor, from the sink and the runtime.
    auditor: Callable[[AuditSink, Runtime], Auditor] = Auditor
    #: A message sent whose outcome could not be persisted before the notification was deleted is audited then.
    audit_when_gone: bool = True
    #: A reconcile that finds a notification done in the cache still asks the server when this process holds
    #: unpersisted outcomes of an earlier object of that name (deleted since, its name taken again), so that
    #: they are audited (`audit_when_gone`) rather than forgotten.
    settle_earlier: bool = True
    #: Which outcomes a reconcile audits when it finds outcomes it carried persisted.
    audited: Callable[[Notification, list[DeliveryAttempt]], list[DeliveryAttempt]] = persisted_outcomes
    #: The channels a notification routes to.
    resolve: Callable[[Router, Notification], Resolution] = router_resolve
    #: The external channels' senders, by channel key.
    channels: Callable[[Router], Mapping[str, Channel]] = router_channels
    #: A wait for the whole reconcile before delivering, or None.
    hold: Callable[[Notification, float], float | None] = no_hold


#: The production controller's seams.
PRODUCTION = Seams()

__all__ = ["PRODUCTION", "Seams", "StatusWriter", "lease_lock", "no_hold", "persisted_outcomes", "router_channels",
           "router_resolve"]
