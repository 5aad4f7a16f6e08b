"""The bug zoo: each known bug of the Go controller, and each quirk we fixed, as a mutant for one run.

A mutant is applied to a reconciler through its seams (the status writer, the planner, the decision, the
lock, the auditor, the attempt claims) after the production assembly built it; the production code path
never contains it. Each names the invariant (or expected outcome) that should catch it and a bundled scenario
where it shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from notifier import LEASES
from notifier.assembly import Auditor, NotificationReconciler
from notifier.model import DeliveryAttempt, Phase, Plan, Written, apply_status


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutant:
    name: str
    bug: str
    caught_by: str
    scenario: str
    apply: Callable[[NotificationReconciler], None]
    #: Other invariants that may catch it first, when what it breaks depends on what ran before in the process.
    also: tuple[str, ...] = ()

    @property
    def catchers(self) -> tuple[str, ...]:
        return (self.caught_by, *self.also)


def _no_lease(r: NotificationReconciler) -> None:
    r.lock = None
    r.claim_attempts = False


def _no_fencing(r: NotificationReconciler) -> None:
    lock = r.lock
    if lock is not None:
        async def always_held(tenure: Any) -> bool:
            return True
        lock.fence = always_held  # type: ignore[method-assign]


def _lease_observed_before_read(r: NotificationReconciler) -> None:
    """The lock bug of 2026-11: the claimant read its clock before the GET of the Lease and dated what the GET
    returned with that earlier time, so a replica paused during the GET counted the pause as the holder's
    silence and took over a live Lease."""
    lock = r.lock
    if lock is None:
        return
    claimant = lock.claimant

    async def observe_early(namespace: str, name: str) -> tuple[Any, float]:
        before = claimant._runtime.now()
        return await claimant._api.get(LEASES, namespace, name), before
    claimant.observe = observe_early  # type: ignore[method-assign]


def _double_recording(r: NotificationReconciler) -> None:
    inner = r.write_status

    async def write(*args: Any, attempts: Any = (), **change: Any) -> Written:
        doubled = [*attempts, *(dataclasses.replace(a, attempt=a.attempt + 100) for a in attempts
                                if a.status.value in ("success", "failed"))]
        return await inner(*args, attempts=doubled, **change)
    r.write_status = write


def _cache_before_status_write(r: NotificationReconciler) -> None:
    """DD-STATUS-001: the status write starts from the informer cache, not a fresh API read."""
    from notifier import NOTIFICATIONS, ConflictError

    async def write(api: Any, runtime: Any, namespace: str, name: str, **change: Any) -> Written:
        for _ in range(5):
            base = r.cache(namespace, name) or await api.get(NOTIFICATIONS, namespace, name)
            latest = await api.get(NOTIFICATIONS, namespace, name)
            base["metadata"]["resourceVersion"] = latest["metadata"]["resourceVersion"]
            before = Phase((latest.get("status") or {}).get("phase", "") or "")
            base["status"] = apply_status(base, now=runtime.now(), **change)
            try:
                return Written(await api.update_status(NOTIFICATIONS, namespace, base), before)
            except ConflictError:
                await runtime.sleep(0.01)
        raise ConflictError("still conflicting")
    r.write_status = write


def _no_backoff_gate(r: NotificationReconciler) -> None:
    inner = r.plan_batch

    def plan(*args: Any, **kwargs: Any) -> Plan:
        kwargs["due"] = lambda attempt: 0.0
        return inner(*args, **kwargs)
    r.plan_batch = plan


class _ForgetfulAuditor(Auditor):
    """NT-BUG-001: no idempotency record; every reconcile emits again."""

    def _emit(self, n: Any, event_key: str, *rest: Any) -> bool:
        self._emitted.clear()
        return super()._emit(n, event_key, *rest)


def _no_audit_idempotency(r: NotificationReconciler) -> None:
    """NT-BUG-001: audit events are emitted from what each reconcile sees, with no idempotency record."""
    r.auditor = _ForgetfulAuditor(r.auditor._sink, r.runtime)
    settle = r._settle_carried

    async def settle_and_reaudit(n: Any) -> None:
        await settle(n)
        await r._audit_outcomes(n, [a for a in n.attempts if a.status.value == "success"])
    r._settle_carried = settle_and_reaudit  # type: ignore[method-assign]


def _duplicate_channels(r: NotificationReconciler) -> None:
    """NT-BUG-004: channels from several receivers are concatenated without de-duplication, and the decision
    counts successes by distinct channel against the length of that list: "Delivered to 1/2"."""
    router = r.router
    resolve = router.resolve
    decide = r.decide_transition

    def doubled(n: Any) -> Any:
        resolution = resolve(n)
        return dataclasses.replace(resolution, channels=(*resolution.channels, "console"))

    def go_decision(current: Any, channels: Any, states: Any, max_attempts: int, **kw: Any) -> Any:
        distinct = list(dict.fromkeys(channels))
        decision = decide(current, distinct, states, max_attempts, **kw)
        if decision.phase is Phase.SENT and len(distinct) < len(channels):
            return dataclasses.replace(decision, phase=Phase.PARTIALLY_SENT, reason="PartialDeliverySuccess",
                                       message=f"Delivered to {len(distinct)}/{len(channels)} channel(s), "
                                               f"others failed")
        return decision
    router.resolve = doubled  # type: ignore[method-assign]
    r.decide_transition = go_decision


def _lost_requeue(r: NotificationReconciler) -> None:
    inner = r._conclude

    async def conclude(*args: Any, **kwargs: Any) -> Any:
        from notifier import Result

        result = await inner(*args, **kwargs)
        return Result() if result.requeue_after > 0 else result
    r._conclude = conclude  # type: ignore[method-assign]


def _counted_counters(r: NotificationReconciler) -> None:
    """Counters incremented per attempt instead of derived from the attempts."""
    inner = r.write_status

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, attempts: Any = (),
                    **change: Any) -> Written:
        written = await inner(api, runtime, namespace, name, attempts=attempts, **change)
        failures = [a for a in attempts if isinstance(a, DeliveryAttempt) and a.status.value == "failed"]
        if not failures:
            return written
        from notifier import NOTIFICATIONS

        obj = written.object
        obj["status"]["failedDeliveries"] = obj["status"].get("failedDeliveries", 0) + len(failures)
        return Written(await api.update_status(NOTIFICATIONS, namespace, obj), written.previous_phase)
    r.write_status = write


def _pending_to_sent(r: NotificationReconciler) -> None:
    """NT-BUG-008: the Sending write is lost to a stale read and the phase jumps Pending -> Sent unchecked."""
    from notifier import NOTIFICATIONS, format_time

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, phase: Any = None,
                    reason: str = "", message: str = "", require_change: bool = False, **change: Any) -> Written:
        fresh = await api.get(NOTIFICATIONS, namespace, name)
        before = Phase((fresh.get("status") or {}).get("phase", "") or "")
        if phase is Phase.SENDING:
            return Written(fresh, before)
        fresh["status"] = apply_status(fresh, phase=None, now=runtime.now(), **change)
        if phase is not None and phase is not before:
            fresh["status"].update(phase=phase.value, reason=reason, message=message)
            if phase.terminal:
                fresh["status"]["completionTime"] = format_time(runtime.now())
        return Written(await api.update_status(NOTIFICATIONS, namespace, fresh), before)
    r.write_status = write


def _no_claims_no_mutex(r: NotificationReconciler) -> None:
    """DD-NOT-008: concurrent reconciles, no per-notification lock, and no claimed attempts: both read the
    same count and both send."""
    r.claim_attempts = False
    r.lock = None
    mutexes = r._mutex

    class Fresh(dict):  # type: ignore[type-arg]
        def setdefault(self, key: Any, default: Any = None) -> Any:
            return default  # a new lock every time: nothing is excluded
    r._mutex = Fresh(mutexes)


def _late_exhaustion(r: NotificationReconciler) -> None:
    """The Go quirk: the decision sees only the pre-batch attempts, and in Retrying a whole-reconcile gate waits
    out the last failure's backoff first, so exhaustion is decided one backoff late."""
    from notifier import Result, parse_time

    r.after_batch = lambda states, outcomes: dict(states)
    deliver = r._deliver

    async def gated(fresh: Any, n: Any) -> Any:
        if n.phase is Phase.RETRYING:
            failed = [a for a in n.attempts if a.status.value == "failed" and a.retry_at]
            if failed:
                due = parse_time(failed[-1].retry_at)
                if due > r.runtime.now():
                    return Result(requeue_after=due - r.runtime.now())
        return await deliver(fresh, n)
    r._deliver = gated  # type: ignore[method-assign]


def _timestamp_window_dedup(r: NotificationReconciler) -> None:
    """The Jan 2026 de-dup rule: a new attempt is dropped if an existing one has the same channel, status and
    error within one (second-truncated) second, whatever its number; with concurrent reconciles that hides a
    second send instead of preventing it."""
    from notifier import NOTIFICATIONS, ConflictError, parse_time
    from notifier.model import apply_status as exact

    _no_claims_no_mutex(r)

    def window(obj: Any, *, attempts: Any = (), **change: Any) -> Any:
        persisted = [DeliveryAttempt.from_json({"uid": obj["metadata"].get("uid", ""), **raw})
                     for raw in (obj.get("status") or {}).get("deliveryAttempts") or ()]
        kept = [a for a in attempts if not any(
            p.channel == a.channel and p.status == a.status and p.error == a.error
            and abs(int(parse_time(p.timestamp)) - int(parse_time(a.timestamp))) < 1 for p in persisted)]
        return exact(obj, attempts=kept, **change)

    async def write(api: Any, runtime: Any, namespace: str, name: str, **change: Any) -> Written:
        for _ in range(5):
            fresh = await api.get(NOTIFICATIONS, namespace, name)
            before = Phase((fresh.get("status") or {}).get("phase", "") or "")
            fresh["status"] = window(fresh, now=runtime.now(), **change)
            try:
                return Written(await api.update_status(NOTIFICATIONS, namespace, fresh), before)
            except ConflictError:
                await runtime.sleep(0.01)
        raise ConflictError("still conflicting")
    r.write_status = write


def _touch_every_reconcile(r: NotificationReconciler) -> None:
    """A reconciler that stamps an annotation on the object at every reconcile: each write is a watch event
    that queues the next reconcile, so it loops forever without virtual time passing."""
    from notifier import NOTIFICATIONS

    inner = r.reconcile
    touches = [0]

    async def reconcile(request: Any) -> Any:
        result = await inner(request)
        touches[0] += 1
        patch = {"metadata": {"annotations": {"notifier.kubernaut.ai/last-reconcile": str(touches[0])}}}
        await r.api.patch(NOTIFICATIONS, request.namespace, request.name, patch)
        return result
    r.reconcile = reconcile  # type: ignore[method-assign]


def _requeue_every_millisecond(r: NotificationReconciler) -> None:
    """A reconciler that asks to be called again 1 ms later, forever, even once the notification is done."""
    from notifier import Result

    inner = r.reconcile

    async def reconcile(request: Any) -> Any:
        await inner(request)
        return Result(requeue_after=0.001)
    r.reconcile = reconcile  # type: ignore[method-assign]


#: Shared by every reconciler of every world in this process: the Go suite's global mock registry.
_SHARED_CHANNELS: dict[str, Any] = {}


def _shared_state(r: NotificationReconciler) -> None:
    """Orchestrator state shared across worlds (NT test pollution): channels registered by one world's
    controller are used by the next one's, so its sends land in another world's backends."""
    for key, channel in r.router.channels.items():
        _SHARED_CHANNELS.setdefault(key, channel)
    r.router.channels = _SHARED_CHANNELS


MUTANTS: Final[Mapping[str, Mutant]] = {m.name: m for m in (
    Mutant(name="no-lease", bug="two replicas deliver with no Lease and no claimed attempts (the Go design)",
           caught_by="no-duplicate-delivery", scenario="two-replicas-no-lock", apply=_no_lease),
    Mutant(name="lease-without-fencing", bug="sends are not fenced: a paused holder sends after its Lease expired",
           caught_by="lock-safety", scenario="paused-past-lease", apply=_no_fencing),
    Mutant(name="lease-observed-before-read",
           bug="a Lease record is dated with the clock read before its GET: a claimant paused in the GET takes "
               "over a live Lease", caught_by="lock-safety", scenario="paused-past-lease",
           apply=_lease_observed_before_read),
    Mutant(name="double-recording", bug="the batch loop and the atomic write both record each attempt",
           caught_by="retry-policy-respected", scenario="slack-retries", apply=_double_recording),
    Mutant(name="cache-before-status-write", bug="DD-STATUS-001: the status write starts from the stale cache",
           caught_by="no-lost-attempts", scenario="stale-cache-retries", apply=_cache_before_status_write),
    Mutant(name="no-backoff-gate", bug="NT-BUG-007: status-triggered reconciles retry at once",
           caught_by="retry-policy-respected", scenario="slack-retries", apply=_no_backoff_gate),
    Mutant(name="no-audit-idempotency", bug="NT-BUG-001: every reconcile emits the audit events again",
           caught_by="audit-once", scenario="slack-retries", apply=_no_audit_idempotency),
    Mutant(name="duplicate-channels", bug="NT-BUG-004: duplicate channel keys are not de-duplicated",
           caught_by="expected-outcome", scenario="slack-retries", apply=_duplicate_channels),
    Mutant(name="lost-requeue", bug="a reconcile waiting for a backoff forgets to requeue itself",
           caught_by="eventual-delivery", scenario="slack-retries", apply=_lost_requeue),
    Mutant(name="counted-counters", bug="failedDeliveries incremented per failure instead of derived",
           caught_by="counters-consistent", scenario="slack-retries", apply=_counted_counters),
    Mutant(name="pending-to-sent", bug="NT-BUG-008: a stale read skips Sending and writes Pending -> Sent",
           caught_by="phase-transitions-legal", scenario="pending-to-sent-race", apply=_pending_to_sent),
    Mutant(name="max-attempts-without-reservation",
           bug="DD-NOT-008: concurrent reconciles check the attempt count without a reservation (6 of 5)",
           caught_by="retry-policy-respected", scenario="max-attempts-race", apply=_no_claims_no_mutex),
    Mutant(name="timestamp-window-dedup",
           bug="attempts de-duplicated by channel, status and error within one second, not by identity",
           caught_by="retry-policy-respected", scenario="max-attempts-race", apply=_timestamp_window_dedup),
    Mutant(name="shared-state-across-worlds",
           bug="orchestrator state (the channel registry) shared between worlds, as the Go suite's globals were",
           caught_by="lock-safety", scenario="two-replicas-lease", apply=_shared_state,
           also=("attempts-match-effects", "no-duplicate-delivery", "eventual-delivery", "expected-outcome")),
    Mutant(name="touch-every-reconcile",
           bug="each reconcile writes an annotation, whose watch event queues the next: a loop in zero virtual time",
           caught_by="no-progress", scenario="slack-retries", apply=_touch_every_reconcile),
    Mutant(name="requeue-every-millisecond", bug="every reconcile requeues itself 1 ms later, forever",
           caught_by="no-progress", scenario="slack-retries", apply=_requeue_every_millisecond),
    Mutant(name="exhaustion-one-reconcile-late",
           bug="exhaustion decided from pre-batch attempts: PartiallySent one backoff late",
           caught_by="expected-outcome", scenario="partial-failure-503", apply=_late_exhaustion),
)}

