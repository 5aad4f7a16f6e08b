"""The NotificationRequest reconciler: the effectful caller around the pure plan and decision.

One reconcile: read the cache; initialise (Pending, then Sending); read through the API (never the cache)
before deciding anything; resolve channels; plan the batch; hold the notification's Lease for external sends;
persist the batch as intents (one compare-and-swap); send each attempt, fenced; persist the outcomes with the
phase decision in one write; then audit, events, metrics. Outcomes not yet persisted stay in memory and are
written again by the next reconcile, so a failed status write loses nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from notifier._backoff import backoff_seconds
from notifier._breaker import Breakers
from notifier._channels import Channel, SendContext, error_text
from notifier._errors import (
    AttemptClaimedError,
    BackendError,
    BackendOutcomeUnknownError,
    BackendRejectedError,
    BackendUnavailableError,
    IllegalTransition,
    KubeApiError,
    NotFoundError,
)
from notifier._lease import Tenure
from notifier._manager import Request, Result
from notifier._memory import DeliveryMemory
from notifier._model import AttemptStatus, DeliveryAttempt, Notification, Phase, Reason, enrich
from notifier._observe import Auditor, EventRecorder, Metrics
from notifier._plan import AT_LEAST_ONCE, Plan, Planned, Recall
from notifier._ports import KubeApi, KubeObject, Runtime
from notifier._resources import NOTIFICATIONS, format_micro_time, parse_time
from notifier._routing import Router
from notifier._sanitize import sanitize
from notifier._seams import PRODUCTION, Seams
from notifier._status import merge_attempts

log = logging.getLogger("notifier.reconciler")

LockMode = Literal["lease", "none"]
CacheReader = Callable[[str, str], KubeObject | None]
READY = {
    Phase.SENT: ("True", "Ready", "Notification delivered"),
    Phase.PARTIALLY_SENT: ("True", "Ready", "Notification partially delivered"),
    Phase.FAILED: ("False", "NotReady", "Notification delivery failed"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ControllerConfig:
    """How this replica delivers.

    Attributes:
        identity: the replica's name (Lease holder, attempt `replica`).
        lock: `lease` to send external channels only under the notification's Lease; `none` otherwise.
        guarantees: delivery guarantee per channel kind (`at-least-once` by default).
        lease_duration: seconds a delivery Lease is good for without renewal.
        intent_timeout: with no lock, seconds after which another sender's pending intent counts as unknown.
        lock_retry: seconds to wait when another replica holds the Lease.
    """

    identity: str = "notifier"
    lock: LockMode = "lease"
    guarantees: Mapping[str, str] = field(default_factory=dict)
    lease_duration: float = 30.0
    intent_timeout: float = 30.0
    lock_retry: float = 2.0


class NotificationReconciler:
    """Delivers NotificationRequests; see the module docstring for one reconcile's steps."""

    def __init__(self, *, api: KubeApi, runtime: Runtime, cache: CacheReader, router: Router,
                 local_channels: Mapping[str, Channel], breakers: Breakers, auditor: Auditor,
                 events: EventRecorder, metrics: Metrics, rng: random.Random, config: ControllerConfig,
                 seams: Seams = PRODUCTION) -> None:
        self.api = api
        self.runtime = runtime
        self.cache = cache
        self.router = router
        self.local_channels = dict(local_channels)
        self.breakers = breakers
        self.auditor = auditor
        self.events = events
        self.metrics = metrics
        self.rng = rng
        self.config = config
        #: The replaceable decisions (production: `Seams()`); see `notifier._seams`.
        self.seams = seams
        self.lock = seams.delivery_lock(api, runtime, config.identity, config.lease_duration) \
            if config.lock == "lease" else None
        #: What this process knows of each notification beyond the server, by uid (see `notifier._memory`).
        self.memories: dict[str, DeliveryMemory] = {}

    # -- the reconcile ----------------------------------------------------------------------------

    async def reconcile(self, request: Request) -> Result:
        cached = self.cache(request.namespace, request.name)
        if cached is None:
            await self._gone(request.key)
            self.auditor.forget(request.key)
            return Result()
        await self.events.record(cached, "Normal", "ReconcileStarted", "Reconciliation started")
        uid = str(cached["metadata"].get("uid", ""))
        if Notification.from_object(cached).phase.terminal and not self._carried(uid) \
                and not self._earlier(request.key, uid):
            await self._finish(uid)
            return Result()
        memory = self._memory(uid, request.key)
        mutex = memory.mutex if self.seams.exclusive else self.runtime.lock()
        async with mutex:
            return await self._reconcile_locked(request, cached)

    async def _reconcile_locked(self, request: Request, cached: KubeObject) -> Result:
        ns, name = request.namespace, request.name
        cached_uid = str(cached["metadata"].get("uid", ""))
        phase = Notification.from_object(cached).phase
        if phase is Phase.NONE:
            try:
                await self.seams.write_status(self.api, self.runtime, ns, name, uid=cached_uid, phase=Phase.PENDING,
                                              reason=Reason.INITIALIZED, message="Notification request received",
                                              require_change=True)
            except IllegalTransition:
                pass  # a concurrent initializer won: go on from the API
            except NotFoundError:
                await self._gone(request.key, uid=cached_uid)  # deleted, perhaps its name taken again: look again
                return Result(requeue=True)
            self.metrics.phase.labels(phase="Pending").set(1)
        try:
            fresh = await self.api.get(NOTIFICATIONS, ns, name)
        except NotFoundError:
            await self._gone(request.key)  # deleted while we looked: nothing of it is kept
            return Result()
        n = Notification.from_object(fresh)
        if n.uid != cached_uid and self.seams.same_uid:
            # The cache still shows an object of this name that was deleted since (another uid took the name):
            # this reconcile holds that uid's mutex, not this one's, so working on it would race the reconcile
            # that holds this one's. The cache will show the new object; look again then.
            await self._gone(request.key, uid=cached_uid)
            return Result(requeue=True)
        for other in [u for u, memory in self.memories.items() if memory.key == request.key and u != n.uid]:
            await self._gone(request.key, uid=other)  # earlier objects of this name: deleted since
        if n.phase is Phase.PENDING:
            sending = await self.seams.write_status(self.api, self.runtime, ns, name, uid=n.uid, phase=Phase.SENDING,
                                                    reason=Reason.PROCESSING, message="Processing delivery channels")
            fresh = sending.object
            n = Notification.from_object(fresh)
            self.metrics.phase.labels(phase="Sending").set(1)
            await self.events.record(fresh, "Normal", "PhaseTransition", "Transitioned to Sending phase")
        await self._settle_carried(n)
        if n.phase.terminal:
            await self._finish(n.uid)
            return Result()
        return await self._deliver(fresh, n)

    async def _settle_carried(self, n: Notification) -> None:
        """Outcomes whose write seemed to fail but did land (a timeout after apply) are audited now."""
        carried = self._carried(n.uid)
        persisted = {(a.identity, a.status) for a in n.attempts}
        landed = [a for a in carried if (a.identity, a.status) in persisted]
        if landed:
            self._memory(n.uid, n.key).unpersisted = [a for a in carried if a not in landed]
        audited = self.seams.audited(n, landed)
        if audited:
            await self._audit_outcomes(n, audited)

    def _withdrawals(self, n: Notification) -> list[DeliveryAttempt]:
        """Our own intents that we know were never sent (the fence failed, or the intent write timed out):
        they are withdrawn as `cancelled`, which is no attempt at all, rather than left to look unknown."""
        memory = self.memories.get(n.uid)
        unsent = memory.unsent if memory is not None else None
        if not unsent:
            return []
        out = [replace(a, status=AttemptStatus.CANCELLED, error="withdrawn: never sent")
               for a in n.attempts if a.status is AttemptStatus.PENDING and a.identity in unsent
               and a.replica == self.config.identity]
        return out

    async def _deliver(self, fresh: KubeObject, n: Notification) -> Result:
        wait = self.seams.hold(n, self.runtime.now())
        if wait is not None:
            return Result(requeue_after=wait)
        n = enrich(n)
        withdrawn = self._withdrawals(n)
        memory = self._memory(n.uid, n.key)
        memory.last = n
        carried = list(memory.unpersisted)  # outcomes an earlier write failed to persist
        if withdrawn or carried:
            # Plan from what this process knows, not only from what the server has: an outcome we hold but
            # could not write yet (a success above all) must stop the channel being sent again.
            n = replace(n, attempts=tuple(merge_attempts(n.attempts, [*withdrawn, *carried])))
        resolution = self.seams.resolve(self.router, n)
        channels, condition = resolution.channels, resolution.condition()
        plan = self.seams.plan_batch(n, channels, now=self.runtime.now(), guarantee=self._guarantee,
                                     recall=self._recall(memory))
        memory.seen_failed, memory.seen_pending = dict(plan.seen_failed), dict(plan.seen_pending)
        send = list(plan.send)
        tenure: Tenure | None = None
        lease_busy = False
        if self.lock is not None and any(self._is_external(p.channel) for p in send):
            tenure = await self._hold_lease(fresh)
            if tenure is None:
                lease_busy = True
                send = [p for p in send if not self._is_external(p.channel)]
        # Every attempt is claimed before it is sent (one compare-and-swap for the batch), so two senders can
        # never both send the same attempt; external ones also carry the Lease tenure that fences them.
        intents = [self._intent(n, p, tenure if self._is_external(p.channel) else None) for p in send] \
            if self.seams.claim_attempts else []
        if plan.unknown or intents or withdrawn:
            try:
                await self.seams.write_status(self.api, self.runtime, n.namespace, n.name, uid=n.uid, phase=None,
                                              attempts=[*carried, *withdrawn, *plan.unknown, *intents],
                                              conditions=[condition], claim=intents)
            except AttemptClaimedError as error:
                log.info("%s: %s", n.key, error)
                return Result(requeue_after=self.config.lock_retry)
            except KubeApiError:
                memory.unsent.update(a.identity for a in intents)
                raise  # the intents may have landed; either way nothing was sent
            memory.unsent.clear()
            memory.unpersisted = []
            await self._audit_outcomes(n, carried)
            carried = []
        outcomes: list[DeliveryAttempt] = []
        for index, planned in enumerate(send):
            outcome = await self._send(n, planned, tenure)
            if outcome is None:  # the fence failed: this and the rest of the batch were never sent
                memory.unsent.update((n.uid, p.channel, p.attempt) for p in send[index:])
                lease_busy = True
                break
            outcomes.append(outcome)
            memory.unpersisted.append(outcome)
        waiting = bool(plan.in_progress) or lease_busy
        return await self._conclude(n, plan, channels, outcomes, [*carried, *outcomes], condition, tenure, waiting)

    async def _conclude(self, n: Notification, plan: Plan, channels: tuple[str, ...],
                        outcomes: list[DeliveryAttempt], to_write: list[DeliveryAttempt],
                        condition: dict[str, str], tenure: Tenure | None, waiting: bool) -> Result:
        states = self.seams.after_batch(plan.states, outcomes)
        due = self._next_due(plan, outcomes)
        now = self.runtime.now()
        retry_in = max(0.0, due - now) if due is not None else 0.0
        decision = self.seams.decide_transition(n.phase, channels, states, n.retry_policy.max_attempts,
                                                retry_in=retry_in)
        if plan.in_progress and decision.terminal:
            decision = replace(decision, phase=n.phase)  # someone else is mid-send: no verdict before theirs
        conditions = [condition]
        if decision.terminal:
            status, reason, message = READY[decision.phase]
            conditions.append({"type": "Ready", "status": status, "reason": reason, "message": message})
        changes = decision.phase is not n.phase or bool(to_write)
        if changes:
            try:
                written = await self.seams.write_status(
                    self.api, self.runtime, n.namespace, n.name, uid=n.uid, phase=decision.phase,
                    reason=decision.reason, message=decision.message, attempts=to_write, conditions=conditions)
            except IllegalTransition:
                return Result(requeue=True)  # someone moved it meanwhile; look again
            self._memory(n.uid, n.key).unpersisted = []
            await self._audit_outcomes(n, to_write)
            if written.moved:
                await self._announce(written.object, n, decision.phase, retry_in)
        if decision.terminal:
            if tenure is not None and self.lock is not None:
                await self.lock.release(tenure)
            self._clear(n.uid)
            return Result()
        if waiting:
            return Result(requeue_after=self.config.lock_retry)
        if due is None:
            return Result(requeue=True)
        return Result(requeue_after=max(0.001, due - self.runtime.now()))  # now: the writes above took time

    # -- sending ----------------------------------------------------------------------------------

    async def _send(self, n: Notification, planned: Planned, tenure: Tenure | None) -> DeliveryAttempt | None:
        channel = self._channel(planned.channel)
        kind = planned.channel.split(":", 1)[0]
        breaker = self.breakers.for_kind(kind)
        if channel is not None and channel.external and not breaker.allow():
            error = BackendUnavailableError(f"{kind} circuit breaker is open (too many failures, preventing "
                                            f"cascading failures)")
            rejected = self._attempt(n, planned, tenure, self.runtime.now())
            await self.events.record(n.raw, "Warning", "CircuitBreakerOpen", str(error))
            return self._failed(n, rejected, error, 0.0)
        if channel is not None and channel.external and tenure is not None and self.lock is not None \
                and not await self.lock.fence(tenure):
            log.warning("%s lost the lease of %s before sending %s", self.config.identity, n.key, planned.channel)
            self._memory(n.uid, n.key).tenure = None
            return None
        start = self.runtime.now()  # after the fence: the attempt's time is when it really goes out
        base = self._attempt(n, planned, tenure, start)
        reserved = self._memory(n.uid, n.key).reserved  # this record's, even if the record is dropped meanwhile
        reserved[planned.channel] = reserved.get(planned.channel, 0) + 1
        try:
            if channel is None:
                raise BackendRejectedError(f"channel not registered: {planned.channel}")
            context = SendContext(channel=planned.channel, attempt=planned.attempt, replica=self.config.identity,
                                  fencing_token=base.fencing_token)
            await channel.deliver(replace(n, subject=sanitize(n.subject), body=sanitize(n.body)), context)
        except BackendError as error:
            if channel is not None and channel.external:
                breaker.record(False)
            return self._failed(n, base, error, self.runtime.now() - start)
        finally:
            reserved[planned.channel] -= 1
            if not reserved[planned.channel]:
                del reserved[planned.channel]
        if channel.external:
            breaker.record(True)
        self.metrics.attempts.labels(channel=planned.channel, status="success").inc()
        return replace(base, duration_seconds=round(self.runtime.now() - start, 3))

    def _attempt(self, n: Notification, planned: Planned, tenure: Tenure | None, at: float) -> DeliveryAttempt:
        return DeliveryAttempt(uid=n.uid, channel=planned.channel, attempt=planned.attempt,
                               timestamp=format_micro_time(at), status=AttemptStatus.SUCCESS,
                               replica=self.config.identity, fencing_token=tenure.token if tenure else "",
                               redelivery=planned.redelivery)

    def _failed(self, n: Notification, base: DeliveryAttempt, error: BackendError, took: float) -> DeliveryAttempt:
        text = error_text(error)
        retry_at = ""
        if error.retryable:
            wait = backoff_seconds(n.retry_policy, base.attempt, self.rng.random() * 2.0 - 1.0)
            retry_at = format_micro_time(parse_time(base.timestamp) + wait)
        self.metrics.attempts.labels(channel=base.channel, status="failed").inc()
        status = AttemptStatus.UNKNOWN if isinstance(error, BackendOutcomeUnknownError) else AttemptStatus.FAILED
        return replace(base, status=status, error=text, duration_seconds=round(took, 3), retry_at=retry_at)

    # -- helpers ----------------------------------------------------------------------------------

    async def _audit_outcomes(self, n: Notification, persisted: list[DeliveryAttempt]) -> None:
        """Audit outcomes once they are persisted, so a crash before the write audits nothing twice."""
        for attempt in persisted:
            if attempt.status is AttemptStatus.SUCCESS and self.auditor.sent(n, attempt.channel):
                await self.events.record(n.raw, "Normal", "NotificationSent", f"Delivered to {attempt.channel}")
            elif attempt.status in (AttemptStatus.FAILED, AttemptStatus.UNKNOWN):
                self.auditor.failed(n, attempt.channel, attempt.attempt, attempt.error)

    def _channel(self, key: str) -> Channel | None:
        return self.local_channels.get(key) or self.seams.channels(self.router).get(key)

    def _is_external(self, key: str) -> bool:
        channel = self._channel(key)
        return channel is None or channel.external

    def _guarantee(self, key: str) -> str:
        return self.config.guarantees.get(key.split(":", 1)[0], AT_LEAST_ONCE)

    def _recall(self, memory: DeliveryMemory) -> Recall:
        """What the planner may know of this process's memory (a read-only view)."""
        return Recall(identity=self.config.identity, intent_timeout=self.config.intent_timeout,
                      mine=frozenset({a.identity for a in memory.unpersisted} | memory.unsent),
                      reserved=memory.reserved, seen_failed=memory.seen_failed, seen_pending=memory.seen_pending)

    def _intent(self, n: Notification, planned: Planned, tenure: Tenure | None) -> DeliveryAttempt:
        return DeliveryAttempt(uid=n.uid, channel=planned.channel, attempt=planned.attempt,
                               timestamp=format_micro_time(self.runtime.now()), status=AttemptStatus.PENDING,
                               replica=self.config.identity, fencing_token=tenure.token if tenure else "",
                               redelivery=planned.redelivery)

    async def _hold_lease(self, fresh: KubeObject) -> Tenure | None:
        if self.lock is None:
            return None
        tenure = await self.lock.acquire(fresh)
        meta = fresh["metadata"]
        self._memory(str(meta.get("uid", "")), f"{meta.get('namespace', '')}/{meta.get('name', '')}").tenure = tenure
        return tenure

    def _next_due(self, plan: Plan, outcomes: list[DeliveryAttempt]) -> float | None:
        dues = [parse_time(a.retry_at) for a in outcomes if a.retry_at]
        if plan.next_due is not None:
            dues.append(plan.next_due)
        return min(dues) if dues else None

    async def _announce(self, written: KubeObject, n: Notification, phase: Phase, retry_in: float) -> None:
        self.metrics.phase.labels(phase=phase.value).set(1)
        fresh = Notification.from_object(written)
        if phase is Phase.SENT:
            self.auditor.acknowledged(fresh)
        elif phase is Phase.FAILED:
            self.auditor.escalated(fresh)
            await self.events.record(written, "Warning", "NotificationFailed", "Notification delivery failed")
        elif phase is Phase.PARTIALLY_SENT:
            await self.events.record(written, "Normal", "NotificationPartiallySent", "Notification partially delivered")
        elif phase is Phase.RETRYING:
            await self.events.record(written, "Normal", "NotificationRetrying",
                                     f"Retrying failed channels with backoff {retry_in:.0f}s")

    async def _finish(self, uid: str) -> None:
        """The notification is terminal: give its Lease back if we hold it, and forget it."""
        memory = self.memories.get(uid)
        tenure = memory.tenure if memory is not None else None
        if tenure is not None and self.lock is not None:
            await self.lock.release(tenure)
        self._clear(uid)

    def _clear(self, uid: str) -> None:
        """The notification is done: this process forgets it."""
        self.memories.pop(uid, None)

    async def _gone(self, key: str, *, uid: str | None = None) -> None:
        """The notification `key` (any uid of that name, or just `uid`) was deleted: this process forgets it.

        A message it sent whose outcome it could not persist before the deletion was still sent: it is
        audited now (there is no status left to persist it to), so the audit trail has every delivery.
        """
        for gone in [u for u, memory in self.memories.items() if memory.key == key and uid in (None, u)]:
            memory = self.memories.pop(gone, None)  # None: another reconcile forgot it while we audited
            if memory is not None and memory.unpersisted and memory.last is not None and self.seams.audit_when_gone:
                await self._audit_outcomes(memory.last, memory.unpersisted)

    def _memory(self, uid: str, key: str) -> DeliveryMemory:
        """This process's record of a notification, created on first use."""
        memory = self.memories.get(uid)
        if memory is None:
            memory = self.memories[uid] = DeliveryMemory(key=key, mutex=self.runtime.lock())
        return memory

    def _earlier(self, key: str, uid: str) -> bool:
        """Whether this process remembers another object of this name than `uid` with outcomes it could not
        persist: the cache may show a newer one, done already, while an older one, deleted since, still owes
        its audit. Only the full reconcile, which asks the server, may conclude that the older one is gone."""
        return self.seams.settle_earlier and any(
            memory.key == key and u != uid and memory.unpersisted for u, memory in self.memories.items())

    def _carried(self, uid: str) -> list[DeliveryAttempt]:
        memory = self.memories.get(uid)
        return memory.unpersisted if memory is not None else []


__all__ = ["ControllerConfig", "KubeApiError", "NotificationReconciler"]
