"""Planning a delivery batch: which channel gets which attempt now, and when the rest are due.

Pure: it reads the persisted attempts, the time and the in-memory reservations, and returns a plan. The
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What to send now, the channels' states before the batch, intents found stale, and the next due time."""

    send: tuple[Planned, ...] = ()
    states: dict[str, ChannelState] = field(default_factory=dict)
    unknown: tuple[DeliveryAttempt, ...] = ()
    next_due: float | None = None
    in_progress: tuple[str, ...] = ()


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
    stale: Callable[[DeliveryAttempt], bool],
    reserved: Mapping[str, int],
    due: Callable[[DeliveryAttempt], float] | None = None,
) -> Plan:
    """Plan one batch. Pure.

    Args:
        n: the notification as freshly read.
        channels: resolved channel keys, de-duplicated.
        now: the planner's clock.
        guarantee: a channel key's delivery guarantee (`at-least-once` or `at-most-once`).
        stale: whether a pending intent's sender can no longer be sending it.
        reserved: this process's sends of the notification in flight, by channel.
        due: when a failed attempt's retry may start by the planner's clock (default: its `retryAt`).
    """
    limit = n.retry_policy.max_attempts
    send: list[Planned] = []
    states: dict[str, ChannelState] = {}
    unknown: list[DeliveryAttempt] = []
    in_progress: list[str] = []
    next_due: float | None = None
    for channel in channels:
        attempts = n.attempts_for(channel)
        live = [a for a in attempts if a.status is AttemptStatus.PENDING and not stale(a)]
        expired = [replace(a, status=AttemptStatus.UNKNOWN, error="outcome unknown: the sender stopped before "
                           "recording it") for a in attempts if a.status is AttemptStatus.PENDING and stale(a)]
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
            ready_at = due(last) if due is not None else parse_time(last.retry_at)
            if ready_at > now:
                next_due = ready_at if next_due is None else min(next_due, ready_at)
                continue
        if state.attempts + reserved.get(channel, 0) + 1 > limit:
            continue
        number = max([a.attempt for a in attempts], default=0) + 1
        send.append(Planned(channel=channel, attempt=number,
                            redelivery=any(a.status is AttemptStatus.UNKNOWN for a in settled)))
    return Plan(send=tuple(send), states=states, unknown=tuple(unknown), next_due=next_due,
                in_progress=tuple(in_progress))


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
