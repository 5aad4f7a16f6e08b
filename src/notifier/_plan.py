"""Planning a delivery batch: which channel gets which attempt now, and when the rest are due.

Pure: it reads the persisted attempts, the time and what this process recalls of the notification (its
sends in flight, its own intents, when it first saw each failure and each foreign intent), and returns a plan
with the next state of those first sightings; it writes nothing. The
backoff gate is per channel and applies in Sending and Retrying alike: a channel whose last attempt failed
retryably waits until that attempt's `retryAt`. A pending intent of another sender is left alone while its
sender may still be sending, and becomes an unknown outcome once it is stale; an unknown outcome is sent again
under at-least-once (marked as a redelivery) and abandoned under at-most-once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from notifier._model import NOT_ATTEMPTS, AttemptStatus, DeliveryAttempt, Notification
from notifier._phase import ChannelState
from notifier._resources import parse_time

_GATED = frozenset({AttemptStatus.FAILED, AttemptStatus.UNKNOWN})
AT_LEAST_ONCE = "at-least-once"
AT_MOST_ONCE = "at-most-once"


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    channel: str
    attempt: int
    redelivery: bool = False


#: An attempt's identity: (notification uid, channel key, attempt number).
Identity = tuple[str, str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Recall:
    """What this process remembers of a notification, as far as planning needs it."""

    #: This replica (the `replica` its own attempts carry).
    identity: str
    #: Seconds a foreign intent may stay pending, watched by this process, before its sender counts as gone.
    intent_timeout: float
    #: Intents this process holds the truth of (outcomes it carries, intents it knows unsent): never stale.
    mine: frozenset[Identity] = frozenset()
    #: This process's sends of the notification in flight, by channel.
    reserved: Mapping[str, int] = field(default_factory=dict)
    #: When this process first saw each failed attempt.
    seen_failed: Mapping[Identity, float] = field(default_factory=dict)
    #: When this process first saw each foreign pending intent.
    seen_pending: Mapping[Identity, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What to send now, the channels' states before the batch, intents found stale, the next due time, and
    the first sightings to remember from now on (the next state of `Recall.seen_failed` and `seen_pending`)."""

    send: tuple[Planned, ...] = ()
    states: dict[str, ChannelState] = field(default_factory=dict)
    unknown: tuple[DeliveryAttempt, ...] = ()
    next_due: float | None = None
    in_progress: tuple[str, ...] = ()
    seen_failed: Mapping[Identity, float] = field(default_factory=dict)
    seen_pending: Mapping[Identity, float] = field(default_factory=dict)


def channel_state(attempts: Sequence[DeliveryAttempt], *, abandon_unknown: bool) -> ChannelState:
    """The state of one channel from its attempts (pending intents do not count). Pure."""
    settled = [a for a in attempts if a.status not in NOT_ATTEMPTS]
    succeeded = any(a.status is AttemptStatus.SUCCESS for a in settled)
    unknown = any(a.status is AttemptStatus.UNKNOWN for a in settled)
    return ChannelState(succeeded=succeeded, permanent=any(a.permanent for a in settled), attempts=len(settled),
                        abandoned=abandon_unknown and unknown and not succeeded)


def plan_batch(
    n: Notification,
    channels: Sequence[str],
    *,
    now: float,
    guarantee: Callable[[str], str],
    recall: Recall,
) -> Plan:
    """Plan one batch. Pure.

    A failed attempt's retry is due at its `retryAt`, and never sooner after this process first saw the
    failure than the backoff (the sender's clock may be skewed against ours). A foreign pending intent is stale
    once this process has watched it pending for `intent_timeout` by its own clock; our own, from an earlier
    life of this process, is stale at once; one this process holds the truth of never is.

    Args:
        n: the notification as freshly read.
        channels: resolved channel keys, de-duplicated.
        now: the planner's clock.
        guarantee: a channel key's delivery guarantee (`at-least-once` or `at-most-once`).
        recall: what this process remembers of the notification.
    """
    seen_failed = dict(recall.seen_failed)
    seen_pending = dict(recall.seen_pending)

    def stale(intent: DeliveryAttempt) -> bool:
        if intent.identity in recall.mine:
            return False
        if intent.replica == recall.identity:
            return True
        return now - seen_pending.setdefault(intent.identity, now) >= recall.intent_timeout

    def due(failed: DeliveryAttempt) -> float:
        written = parse_time(failed.timestamp)
        retry_at = parse_time(failed.retry_at)
        seen = seen_failed.setdefault(failed.identity, now)
        if failed.replica == recall.identity:
            seen = min(seen, written)
        return max(retry_at, seen + (retry_at - written))

    limit = n.retry_policy.max_attempts
    send: list[Planned] = []
    states: dict[str, ChannelState] = {}
    unknown: list[DeliveryAttempt] = []
    in_progress: list[str] = []
    next_due: float | None = None
    for channel in channels:
        attempts = n.attempts_for(channel)
        pending = [(a, stale(a)) for a in attempts if a.status is AttemptStatus.PENDING]
        live = [a for a, gone in pending if not gone]
        expired = [replace(a, status=AttemptStatus.UNKNOWN, error="outcome unknown: the sender stopped before "
                           "recording it") for a, gone in pending if gone]
        unknown.extend(expired)
        merged = [next((e for e in expired if e.identity == a.identity), a) for a in attempts]
        state = channel_state(merged, abandon_unknown=guarantee(channel) == AT_MOST_ONCE)
        states[channel] = state
        if live:
            in_progress.append(channel)
            continue
        if state.done(limit):
            continue
        settled = [a for a in merged if a.status not in NOT_ATTEMPTS]
        last = settled[-1] if settled else None
        if last is not None and last.status in _GATED and last.retry_at:
            ready_at = due(last)
            if ready_at > now:
                next_due = ready_at if next_due is None else min(next_due, ready_at)
                continue
        if state.attempts + recall.reserved.get(channel, 0) + 1 > limit:
            continue
        number = max([a.attempt for a in attempts], default=0) + 1
        send.append(Planned(channel=channel, attempt=number,
                            redelivery=any(a.status is AttemptStatus.UNKNOWN for a in settled)))
    return Plan(send=tuple(send), states=states, unknown=tuple(unknown), next_due=next_due,
                in_progress=tuple(in_progress), seen_failed=seen_failed, seen_pending=seen_pending)


def after_batch(states: Mapping[str, ChannelState], outcomes: Sequence[DeliveryAttempt]) -> dict[str, ChannelState]:
    """The channels' states once this batch's outcomes count too. Pure."""
    out = dict(states)
    for attempt in outcomes:
        old = out.get(attempt.channel, ChannelState())
        out[attempt.channel] = ChannelState(
            succeeded=old.succeeded or attempt.status is AttemptStatus.SUCCESS,
            permanent=old.permanent or attempt.permanent,
            attempts=old.attempts + 1,
            abandoned=old.abandoned,
        )
    return out
