"""The status manager (spec section 4): one status write per batch, always from a fresh API read.

`apply_status` is the pure core: conditions with SetStatusCondition semantics, the validated phase change
and its timestamps, an exact merge of attempts by identity (uid, channel, attempt), counters derived from the
attempts, observedGeneration. `write_status` is the effect: read through the API (never the cache), apply,
compare-and-swap, and on Conflict read again and retry, as `retry.RetryOnConflict(DefaultRetry)` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from notifier._errors import AttemptClaimedError, ConflictError, NotFoundError
from notifier._model import NOT_ATTEMPTS, TERMINAL, AttemptStatus, DeliveryAttempt, Phase, count_deliveries
from notifier._phase import check_transition
from notifier._ports import KubeApi, KubeObject, Runtime
from notifier._resources import NOTIFICATIONS, clone, format_time

CONFLICT_RETRIES = 5
CONFLICT_DELAY = 0.010

#: Outcomes a send really had; they replace an intent or an unknown outcome of the same attempt.
_OUTCOMES = frozenset({AttemptStatus.SUCCESS, AttemptStatus.FAILED, AttemptStatus.TIMEOUT, AttemptStatus.INVALID})


def set_condition(conditions: list[dict[str, Any]], new: dict[str, Any], now: float) -> None:
    """SetStatusCondition: replace the condition of the same type; the transition time moves only on a
    status flip. Pure on its arguments."""
    for existing in conditions:
        if existing.get("type") == new["type"]:
            if existing.get("status") != new["status"]:
                existing["lastTransitionTime"] = format_time(now)
            existing.update({k: v for k, v in new.items() if k != "lastTransitionTime"})
            return
    conditions.append({**new, "lastTransitionTime": format_time(now)})


def merge_attempts(existing: Sequence[DeliveryAttempt], new: Sequence[DeliveryAttempt]) -> list[DeliveryAttempt]:
    """Exact merge by identity. Pure.

    Anything replaces an intent (`pending`); a real outcome also replaces `unknown` (the truth arrived after a
    takeover guessed). Otherwise the persisted record stands: an outcome is never overwritten, and a late
    intent, unknown or withdrawal is dropped. Nothing persisted ever disappears.
    """
    merged = list(existing)
    index = {attempt.identity: i for i, attempt in enumerate(merged)}
    for attempt in new:
        at = index.get(attempt.identity)
        if at is None:
            index[attempt.identity] = len(merged)
            merged.append(attempt)
        elif merged[at].status is AttemptStatus.PENDING or (
                merged[at].status is AttemptStatus.UNKNOWN and attempt.status in _OUTCOMES):
            merged[at] = attempt
    return merged


def apply_status(
    obj: KubeObject,
    *,
    phase: Phase | None,
    reason: str = "",
    message: str = "",
    attempts: Sequence[DeliveryAttempt] = (),
    conditions: Sequence[dict[str, Any]] = (),
    now: float,
    require_change: bool = False,
    claim: Sequence[DeliveryAttempt] = (),
) -> dict[str, Any]:
    """The status `obj` should have after this write. Pure; raises IllegalTransition.

    Args:
        obj: the freshly read object.
        phase: the phase to move to (None or the same phase: stay, keeping reason and message).
        attempts: this batch's attempts (intents or outcomes) to merge.
        conditions: conditions to set.
        now: the writer's clock, for timestamps.
        require_change: fail on a same-phase write (UpdatePhase semantics: how a concurrent
            initializer is detected).
        claim: intents that must be new: if one of their identities is already recorded (another sender
            claimed that attempt first), if their channel has a recorded success, or if the notification has
            ended, AttemptClaimedError is raised.
    """
    status: dict[str, Any] = clone(obj.get("status") or {})
    meta = obj.get("metadata", {})
    generation = int(meta.get("generation", 0) or 0)
    uid = str(meta.get("uid", ""))
    current = Phase(status.get("phase", "") or "")
    listed = status.setdefault("conditions", [])
    for condition in conditions:
        set_condition(listed, {**condition, "observedGeneration": generation}, now)
    if phase is not None and (phase is not current or require_change):
        check_transition(current, phase)
        status.update(phase=phase.value, reason=reason, message=message)
        if phase is Phase.PENDING:
            status.setdefault("queuedAt", format_time(now))
        if phase is Phase.SENDING:
            status.setdefault("processingStartedAt", format_time(now))
        if phase in TERMINAL:
            status["completionTime"] = format_time(now)
    persisted = [DeliveryAttempt.from_json({"uid": uid, **raw}) for raw in status.get("deliveryAttempts") or ()]
    taken = {attempt.identity for attempt in persisted}
    delivered = {attempt.channel for attempt in persisted if attempt.status is AttemptStatus.SUCCESS}
    for intent in claim:
        if intent.identity in taken:
            raise AttemptClaimedError(f"attempt {intent.attempt} of {intent.channel!r} is already recorded")
        # A claim is checked against the status it lands on, not the one it was planned from: a sender planned
        # from an older read (a slow one) must not send to a channel delivered meanwhile, nor for a notification
        # that ended meanwhile.
        if current in TERMINAL:
            raise AttemptClaimedError(f"the notification ended ({current.value}) before attempt {intent.attempt} "
                                      f"of {intent.channel!r} could be claimed")
        if intent.channel in delivered:
            raise AttemptClaimedError(f"{intent.channel!r} was delivered before attempt {intent.attempt} could be "
                                      f"claimed")
    merged = merge_attempts(persisted, attempts)
    status["deliveryAttempts"] = [attempt.to_json() for attempt in merged]
    status["totalAttempts"] = sum(1 for attempt in merged if attempt.status not in NOT_ATTEMPTS)
    status["successfulDeliveries"], status["failedDeliveries"] = count_deliveries(merged)
    status["observedGeneration"] = generation
    if not listed:
        del status["conditions"]
    return status


@dataclass(frozen=True, slots=True)
class Written:
    """A status write's result: the object as written, and the phase it had just before this write."""

    object: KubeObject
    previous_phase: Phase

    @property
    def phase(self) -> Phase:
        return Phase((self.object.get("status") or {}).get("phase", "") or "")

    @property
    def moved(self) -> bool:
        """Whether this write changed the phase (another writer may have got there first)."""
        return self.phase is not self.previous_phase


async def write_status(
    api: KubeApi,
    runtime: Runtime,
    namespace: str,
    name: str,
    *,
    uid: str | None = None,
    **change: Any,
) -> Written:
    """Read through the API, apply `change` (see `apply_status`), write; retry on Conflict. With `uid`, only to
    that object: a name deleted and created again is another notification (NotFoundError).

    Raises:
        ConflictError: still conflicting after 5 tries.
        IllegalTransition: the fresh object's phase does not allow the change (not retried).
        KubeApiError: any other API failure (not retried).
    """
    return await update_status_with(api, runtime, namespace, name,
                                    lambda fresh: apply_status(fresh, now=runtime.now(), **change), uid=uid)


async def update_status_with(
    api: KubeApi,
    runtime: Runtime,
    namespace: str,
    name: str,
    status: Callable[[KubeObject], dict[str, Any]],
    *,
    uid: str | None = None,
) -> Written:
    """The compare-and-swap loop of every status write: read through the API, compute the new status from what
    was read, write it; on Conflict read again (5 tries, 10 ms apart).

    With `uid`, the object read must be that one: a status meant for a notification that was deleted must
    never land on a new object that took its name (the attempts would be another notification's).

    Raises:
        ConflictError: still conflicting after 5 tries.
        NotFoundError: the object is gone, or its name now belongs to another uid.
        KubeApiError: any other API failure (not retried), and whatever `status` raises.
    """
    last: ConflictError | None = None
    for attempt in range(CONFLICT_RETRIES):
        if attempt:
            await runtime.sleep(CONFLICT_DELAY)
        fresh = await api.get(NOTIFICATIONS, namespace, name)
        found = str(fresh.get("metadata", {}).get("uid", ""))
        if uid is not None and found != uid:
            raise NotFoundError(f"{namespace}/{name} with uid {uid} is gone; the name now belongs to uid {found}")
        before = Phase((fresh.get("status") or {}).get("phase", "") or "")
        fresh["status"] = status(fresh)
        try:
            return Written(await api.update_status(NOTIFICATIONS, namespace, fresh), before)
        except ConflictError as error:
            last = error
    assert last is not None
    raise last
