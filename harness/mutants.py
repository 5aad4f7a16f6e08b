"""The bug zoo: each known bug of the Go controller, and each quirk we fixed, as a mutant for one run.

A mutant replaces declared seams of the controller (`notifier.assembly.Seams`: the status writer, the planner,
the decision, the claim policy, the Lease, the auditor, routing, the reconcile's hold) before the production
assembly builds a replica, or wraps the whole reconciler behind the manager's public `Reconciler` port; it
never reads or writes a private attribute of a production object (a test holds it to that), so a rename in the
controller cannot silently disarm it. Each names the invariant (or expected outcome) that should catch it and
a bundled scenario where it shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from notifier import (
    LEASES,
    NOTIFICATIONS,
    AttemptClaimedError,
    Informer,
    KubeApi,
    KubeApiError,
    KubeObject,
    Reconciler,
    Request,
    Result,
    Runtime,
    format_time,
    object_key,
    parse_time,
)
from notifier.assembly import Auditor, AuditSink, CacheReader, DeliveryLock, LeaseClaimant, Router, Seams, Tenure
from notifier.model import DeliveryAttempt, Notification, Phase, Written, apply_status, update_status_with


@dataclass(frozen=True, slots=True, kw_only=True)
class Host:
    """What a replacement may need of the replica it is built for: its public ports."""

    api: KubeApi
    runtime: Runtime
    cache: CacheReader


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutant:
    name: str
    bug: str
    caught_by: str
    scenario: str
    #: The seams with the bug in them, from the production ones.
    seams: Callable[[Seams, Host], Seams] | None = None
    #: The reconciler with the bug around it (behind the manager's `Reconciler` port).
    wrap: Callable[[Reconciler, Host], Reconciler] | None = None
    #: Other invariants that may catch it first, when what it breaks depends on what ran before in the process.
    also: tuple[str, ...] = ()
    #: The manager's informer with the bug in it.
    informer: type[Informer] | None = None

    @property
    def catchers(self) -> tuple[str, ...]:
        return (self.caught_by, *self.also)


def _no_lease(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, delivery_lock=lambda *args: None, claim_attempts=False)


class _Unfenced(DeliveryLock):
    async def fence(self, tenure: Any) -> bool:
        return True


def _no_fencing(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, delivery_lock=lambda api, runtime, identity, duration: _Unfenced(
        api, runtime, identity=identity, duration=duration))


class _EarlyObserver(LeaseClaimant):
    """The lock bug of 2026-11: the claimant read its clock before the GET of the Lease and dated what the GET
    returned with that earlier time, so a replica paused during the GET counted the pause as the holder's
    silence and took over a live Lease."""

    def __init__(self, api: KubeApi, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(api, runtime, **kwargs)
        self.reader, self.clock = api, runtime

    async def observe(self, namespace: str, name: str) -> tuple[KubeObject, float]:
        before = self.clock.now()
        return await self.reader.get(LEASES, namespace, name), before


class _EpochRollback(LeaseClaimant):
    """A claimant that writes its tenure back with the epoch it took over from: a fencing token reused."""

    def __init__(self, api: KubeApi, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(api, runtime, **kwargs)
        self.writer = api

    async def claim(self, namespace: str, name: str, *, owner: KubeObject | None = None) -> Tenure | None:
        tenure = await super().claim(namespace, name, owner=owner)
        if tenure is None or tenure.transitions == 0:
            return tenure
        try:
            lease = await self.writer.get(LEASES, namespace, name)
            lease["spec"]["leaseTransitions"] = tenure.transitions - 1
            await self.writer.update(LEASES, namespace, lease)
        except KubeApiError:
            return tenure
        return dataclasses.replace(tenure, transitions=tenure.transitions - 1)


def _lease_epoch_rolled_back(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, delivery_lock=lambda api, runtime, identity, duration: DeliveryLock(
        api, runtime, identity=identity, duration=duration, claimant=_EpochRollback))


def _lease_observed_before_read(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, delivery_lock=lambda api, runtime, identity, duration: DeliveryLock(
        api, runtime, identity=identity, duration=duration, claimant=_EarlyObserver))


def _double_recording(s: Seams, host: Host) -> Seams:
    inner = s.write_status

    async def write(*args: Any, attempts: Any = (), **change: Any) -> Written:
        doubled = [*attempts, *(dataclasses.replace(a, attempt=a.attempt + 100) for a in attempts
                                if a.status.value in ("success", "failed"))]
        return await inner(*args, attempts=doubled, **change)
    return dataclasses.replace(s, write_status=write)


def _cache_before_status_write(s: Seams, host: Host) -> Seams:
    """DD-STATUS-001: the status write starts from the informer cache, not a fresh API read."""

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, uid: str | None = None,
                    **change: Any) -> Written:
        def from_cache(latest: KubeObject) -> dict[str, Any]:
            base = host.cache(namespace, name) or latest
            return apply_status(base, now=runtime.now(), **change)
        return await update_status_with(api, runtime, namespace, name, from_cache, uid=uid)
    return dataclasses.replace(s, write_status=write)


def _status_by_name_only(s: Seams, host: Host) -> Seams:
    """A status write that finds its object by name alone: the attempts of a notification deleted in the middle
    of a delivery land on the new notification that took its name."""
    inner = s.write_status

    async def write(*args: Any, uid: str | None = None, **change: Any) -> Written:
        return await inner(*args, **change)
    return dataclasses.replace(s, write_status=write)


def _no_backoff_gate(s: Seams, host: Host) -> Seams:
    """NT-BUG-007: the planner never waits for a failed attempt's retryAt."""
    inner = s.plan_batch

    def plan(n: Notification, *args: Any, **kwargs: Any) -> Any:
        ungated = dataclasses.replace(n, attempts=tuple(dataclasses.replace(a, retry_at="") for a in n.attempts))
        return inner(ungated, *args, **kwargs)
    return dataclasses.replace(s, plan_batch=plan)


class _Forgetful(dict[str, dict[str, None]]):
    """An idempotency record that keeps nothing."""

    def setdefault(self, key: str, default: Any = None) -> dict[str, None]:
        return {}


def _reconcile_other_uid(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, same_uid=False)


def _claim_by_identity_only(s: Seams, host: Host) -> Seams:
    """A claim is checked only against the attempt numbers already recorded, not against what happened to the
    channel since the claim was planned."""
    inner = s.write_status

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, uid: str | None = None,
                    claim: Any = (), **change: Any) -> Written:
        if not claim:
            return await inner(api, runtime, namespace, name, uid=uid, **change)

        def claimed(latest: KubeObject) -> dict[str, Any]:
            taken = {a.identity for a in Notification.from_object(latest).attempts}
            for intent in claim:
                if intent.identity in taken:
                    raise AttemptClaimedError(f"attempt {intent.attempt} of {intent.channel!r} is recorded")
            return apply_status(latest, now=runtime.now(), **change)
        return await update_status_with(api, runtime, namespace, name, claimed, uid=uid)
    return dataclasses.replace(s, write_status=write)


def _unaudited_when_gone(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, audit_when_gone=False)


def _done_hides_earlier(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, settle_earlier=False)


class _RelistKeepsDeleted(Informer):
    """A relist merges what it listed into the cache: an object deleted while the watch was down stays."""

    def replace(self, items: list[KubeObject], resource_version: str) -> None:
        listed = {object_key(item) for item in items}
        kept = [obj for key in self.keys() if key not in listed
                for obj in [self.get(*key.split("/", 1))] if obj is not None]
        super().replace([*items, *kept], resource_version)


class _ByName(dict[str, dict[str, None]]):
    """An audit idempotency record keyed by `namespace/name`, not by uid."""

    def __getitem__(self, key: str) -> dict[str, None]:
        return super().__getitem__(key.partition("@")[0])

    def __setitem__(self, key: str, value: dict[str, None]) -> None:
        super().__setitem__(key.partition("@")[0], value)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(str(key).partition("@")[0])

    def setdefault(self, key: str, default: Any = None) -> dict[str, None]:
        return super().setdefault(key.partition("@")[0], default)


def _audit_by_name(s: Seams, host: Host) -> Seams:
    return dataclasses.replace(s, auditor=lambda sink, runtime: Auditor(sink, runtime, memory=_ByName()))


def _no_audit_idempotency(s: Seams, host: Host) -> Seams:
    """NT-BUG-001: audit events are emitted from what each reconcile sees, with no idempotency record."""

    def auditor(sink: AuditSink, runtime: Runtime) -> Auditor:
        return Auditor(sink, runtime, memory=_Forgetful())

    def audited(n: Notification, landed: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
        return [*landed, *(a for a in n.attempts if a.status.value == "success" and a not in landed)]
    return dataclasses.replace(s, auditor=auditor, audited=audited)


def _duplicate_channels(s: Seams, host: Host) -> Seams:
    """NT-BUG-004: channels from several receivers are concatenated without de-duplication, and the decision
    counts successes by distinct channel against the length of that list: "Delivered to 1/2"."""
    resolve, decide = s.resolve, s.decide_transition

    def doubled(router: Router, n: Notification) -> Any:
        resolution = resolve(router, n)
        return dataclasses.replace(resolution, channels=(*resolution.channels, "console"))

    def go_decision(current: Any, channels: Any, states: Any, max_attempts: int, **kw: Any) -> Any:
        distinct = list(dict.fromkeys(channels))
        decision = decide(current, distinct, states, max_attempts, **kw)
        if decision.phase is Phase.SENT and len(distinct) < len(channels):
            return dataclasses.replace(decision, phase=Phase.PARTIALLY_SENT, reason="PartialDeliverySuccess",
                                       message=f"Delivered to {len(distinct)}/{len(channels)} channel(s), "
                                               f"others failed")
        return decision
    return dataclasses.replace(s, resolve=doubled, decide_transition=go_decision)


class _Around:
    """A reconciler behind the manager's port, with a bug around it."""

    def __init__(self, inner: Reconciler, after: Callable[[Request, Result], Any]) -> None:
        self.inner = inner
        self.after = after

    async def reconcile(self, request: Request) -> Result:
        result = await self.inner.reconcile(request)
        changed: Result = await self.after(request, result)
        return changed


def _lost_requeue(inner: Reconciler, host: Host) -> Reconciler:
    """A reconcile waiting for a backoff forgets to requeue itself."""
    async def forget(request: Request, result: Result) -> Result:
        return Result() if result.requeue_after > 0 else result
    return _Around(inner, forget)


def _counted_counters(s: Seams, host: Host) -> Seams:
    """Counters incremented per attempt instead of derived from the attempts."""
    inner = s.write_status

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, attempts: Any = (),
                    **change: Any) -> Written:
        written = await inner(api, runtime, namespace, name, attempts=attempts, **change)
        failures = [a for a in attempts if isinstance(a, DeliveryAttempt) and a.status.value == "failed"]
        if not failures:
            return written
        obj = written.object
        obj["status"]["failedDeliveries"] = obj["status"].get("failedDeliveries", 0) + len(failures)
        return Written(await api.update_status(NOTIFICATIONS, namespace, obj), written.previous_phase)
    return dataclasses.replace(s, write_status=write)


def _pending_to_sent(s: Seams, host: Host) -> Seams:
    """NT-BUG-008: the Sending write is lost to a stale read and the phase jumps Pending -> Sent unchecked."""

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, phase: Any = None, uid: Any = None,
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
    return dataclasses.replace(s, write_status=write)


def _no_claims_no_mutex(s: Seams, host: Host) -> Seams:
    """DD-NOT-008: concurrent reconciles, no per-notification lock, and no claimed attempts: both read the
    same count and both send."""
    return dataclasses.replace(s, claim_attempts=False, delivery_lock=lambda *args: None, exclusive=False)


def _late_exhaustion(s: Seams, host: Host) -> Seams:
    """The Go quirk: the decision sees only the pre-batch attempts, and in Retrying a whole-reconcile gate waits
    out the last failure's backoff first, so exhaustion is decided one backoff late."""

    def gate(n: Notification, now: float) -> float | None:
        if n.phase is Phase.RETRYING:
            failed = [a for a in n.attempts if a.status.value == "failed" and a.retry_at]
            if failed and parse_time(failed[-1].retry_at) > now:
                return parse_time(failed[-1].retry_at) - now
        return None
    return dataclasses.replace(s, after_batch=lambda states, outcomes: dict(states), hold=gate)


def _timestamp_window_dedup(s: Seams, host: Host) -> Seams:
    """The Jan 2026 de-dup rule: a new attempt is dropped if an existing one has the same channel, status and
    error within one (second-truncated) second, whatever its number; with concurrent reconciles that hides a
    second send instead of preventing it."""

    def window(obj: Any, *, attempts: Any = (), **change: Any) -> Any:
        persisted = [DeliveryAttempt.from_json({"uid": obj["metadata"].get("uid", ""), **raw})
                     for raw in (obj.get("status") or {}).get("deliveryAttempts") or ()]
        kept = [a for a in attempts if not any(
            p.channel == a.channel and p.status == a.status and p.error == a.error
            and abs(int(parse_time(p.timestamp)) - int(parse_time(a.timestamp))) < 1 for p in persisted)]
        return apply_status(obj, attempts=kept, **change)

    async def write(api: Any, runtime: Any, namespace: str, name: str, *, uid: str | None = None,
                    **change: Any) -> Written:
        return await update_status_with(api, runtime, namespace, name,
                                        lambda fresh: window(fresh, now=runtime.now(), **change), uid=uid)
    return dataclasses.replace(_no_claims_no_mutex(s, host), write_status=write)


#: Shared by every reconciler of every world in this process: the Go suite's global mock registry.
_SHARED_CHANNELS: dict[str, Any] = {}


def _shared_state(s: Seams, host: Host) -> Seams:
    """Orchestrator state shared across worlds (NT test pollution): channels registered by one world's
    controller are used by the next one's, so its sends land in another world's backends."""

    def channels(router: Router) -> Mapping[str, Any]:
        for key, channel in router.channels.items():
            _SHARED_CHANNELS.setdefault(key, channel)
        return _SHARED_CHANNELS
    return dataclasses.replace(s, channels=channels)


def _touch_every_reconcile(inner: Reconciler, host: Host) -> Reconciler:
    """A reconciler that stamps an annotation on the object at every reconcile: each write is a watch event
    that queues the next reconcile, so it loops forever without virtual time passing."""
    touches = [0]

    async def touch(request: Request, result: Result) -> Result:
        touches[0] += 1
        patch = {"metadata": {"annotations": {"notifier.kubernaut.ai/last-reconcile": str(touches[0])}}}
        await host.api.patch(NOTIFICATIONS, request.namespace, request.name, patch)
        return result
    return _Around(inner, touch)


def _requeue_every_millisecond(inner: Reconciler, host: Host) -> Reconciler:
    """A reconciler that asks to be called again 1 ms later, forever, even once the notification is done."""
    async def again(request: Request, result: Result) -> Result:
        return Result(requeue_after=0.001)
    return _Around(inner, again)


MUTANTS: Final[Mapping[str, Mutant]] = {m.name: m for m in (
    Mutant(name="no-lease", bug="two replicas deliver with no Lease and no claimed attempts (the Go design)",
           caught_by="no-duplicate-delivery", scenario="two-replicas-no-lock", seams=_no_lease),
    Mutant(name="lease-without-fencing", bug="sends are not fenced: a paused holder sends after its Lease expired",
           caught_by="lock-safety", scenario="paused-past-lease", seams=_no_fencing),
    Mutant(name="lease-observed-before-read",
           bug="a Lease record is dated with the clock read before its GET: a claimant paused in the GET takes "
               "over a live Lease", caught_by="lock-safety", scenario="paused-past-lease",
           seams=_lease_observed_before_read),
    Mutant(name="lease-epoch-rolled-back",
           bug="a new tenure writes the Lease back with the epoch it took over from: two tenures share a fencing "
               "epoch", caught_by="lock-safety", scenario="two-replicas-lease", seams=_lease_epoch_rolled_back),
    Mutant(name="double-recording", bug="the batch loop and the atomic write both record each attempt",
           caught_by="retry-policy-respected", scenario="slack-retries", seams=_double_recording),
    Mutant(name="cache-before-status-write", bug="DD-STATUS-001: the status write starts from the stale cache",
           caught_by="no-lost-attempts", scenario="stale-cache-retries", seams=_cache_before_status_write),
    Mutant(name="status-by-name-only",
           bug="a status write finds its object by name only: a notification deleted and created again under "
               "the same name gets the attempts of the old one", caught_by="attempts-match-effects",
           scenario="recreate-mid-delivery", seams=_status_by_name_only, also=("audit-once",)),
    Mutant(name="reconcile-other-uid",
           bug="a reconcile that locked the cached object works on whatever the API has under that name: after a "
               "re-creation, a stale cache lets two reconciles of the new notification run at once in one process",
           caught_by="audit-once", scenario="recreate-across-relist", seams=_reconcile_other_uid),
    Mutant(name="unaudited-when-gone",
           bug="a message sent whose status write timed out is audited only once the write is seen to have landed: "
               "a notification deleted before that leaves a delivery the audit trail never records",
           caught_by="audit-once", scenario="recreate-across-relist", seams=_unaudited_when_gone),
    Mutant(name="done-hides-earlier",
           bug="a reconcile that finds a notification already done in the cache stops there, though the process "
               "still holds the unpersisted success of an earlier notification of that name (deleted and created "
               "again while its status write timed out): that delivery is never audited",
           caught_by="audit-once", scenario="recreate-after-lost-write", seams=_done_hides_earlier),
    Mutant(name="relist-keeps-deleted",
           bug="an informer's relist merges what it listed into its cache: a notification deleted while the "
               "watch was down stays cached for ever", caught_by="caches-converge",
           scenario="recreate-across-relist", informer=_RelistKeepsDeleted),
    Mutant(name="audit-by-name",
           bug="the audit idempotency record is keyed by name: a notification created again under the same name "
               "is never audited", caught_by="audit-once", scenario="recreate-mid-delivery", seams=_audit_by_name),
    Mutant(name="claim-ignores-delivered",
           bug="an attempt's claim checks only that its number is free, not the status it lands on: a replica "
               "whose read was slow sends again to a channel delivered meanwhile", caught_by="no-duplicate-delivery",
           scenario="lease-held-across-retries", seams=_claim_by_identity_only),
    Mutant(name="no-backoff-gate", bug="NT-BUG-007: status-triggered reconciles retry at once",
           caught_by="retry-policy-respected", scenario="slack-retries", seams=_no_backoff_gate),
    Mutant(name="no-audit-idempotency", bug="NT-BUG-001: every reconcile emits the audit events again",
           caught_by="audit-once", scenario="slack-retries", seams=_no_audit_idempotency),
    Mutant(name="duplicate-channels", bug="NT-BUG-004: duplicate channel keys are not de-duplicated",
           caught_by="expected-outcome", scenario="slack-retries", seams=_duplicate_channels),
    Mutant(name="lost-requeue", bug="a reconcile waiting for a backoff forgets to requeue itself",
           caught_by="eventual-delivery", scenario="slack-retries", wrap=_lost_requeue),
    Mutant(name="counted-counters", bug="failedDeliveries incremented per failure instead of derived",
           caught_by="counters-consistent", scenario="slack-retries", seams=_counted_counters),
    Mutant(name="pending-to-sent", bug="NT-BUG-008: a stale read skips Sending and writes Pending -> Sent",
           caught_by="phase-transitions-legal", scenario="pending-to-sent-race", seams=_pending_to_sent),
    Mutant(name="max-attempts-without-reservation",
           bug="DD-NOT-008: concurrent reconciles check the attempt count without a reservation (6 of 5)",
           caught_by="retry-policy-respected", scenario="max-attempts-race", seams=_no_claims_no_mutex),
    Mutant(name="timestamp-window-dedup",
           bug="attempts de-duplicated by channel, status and error within one second, not by identity",
           caught_by="retry-policy-respected", scenario="max-attempts-race", seams=_timestamp_window_dedup),
    Mutant(name="shared-state-across-worlds",
           bug="orchestrator state (the channel registry) shared between worlds, as the Go suite's globals were",
           caught_by="lock-safety", scenario="two-replicas-lease", seams=_shared_state,
           also=("attempts-match-effects", "no-duplicate-delivery", "eventual-delivery", "expected-outcome")),
    Mutant(name="touch-every-reconcile",
           bug="each reconcile writes an annotation, whose watch event queues the next: a loop in zero virtual time",
           caught_by="no-progress", scenario="slack-retries", wrap=_touch_every_reconcile),
    Mutant(name="requeue-every-millisecond", bug="every reconcile requeues itself 1 ms later, forever",
           caught_by="no-progress", scenario="slack-retries", wrap=_requeue_every_millisecond),
    Mutant(name="exhaustion-one-reconcile-late",
           bug="exhaustion decided from pre-batch attempts: PartiallySent one backoff late",
           caught_by="expected-outcome", scenario="partial-failure-503", seams=_late_exhaustion),
)}

