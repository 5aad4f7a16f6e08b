"""The phase state machine and the transition decision (spec 1.7, 2.3, with DESIGN section 4's fixes).

Pure: no I/O, no clock, no randomness. The decision counts this batch's outcomes together with the persisted
ones, so exhaustion and permanence are decided in the same reconcile that observes them (the Go code saw them
one reconcile, and one backoff, late).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from notifier._backoff import format_duration
from notifier._errors import IllegalTransition
from notifier._model import Phase, Reason

#: Every allowed (from, to) pair; anything else is an IllegalTransition. Terminal phases lead nowhere.
TRANSITIONS: Final[Mapping[Phase, frozenset[Phase]]] = {
    Phase.NONE: frozenset({Phase.PENDING}),
    Phase.PENDING: frozenset({Phase.SENDING, Phase.FAILED}),
    Phase.SENDING: frozenset({Phase.SENT, Phase.RETRYING, Phase.PARTIALLY_SENT, Phase.FAILED}),
    Phase.RETRYING: frozenset({Phase.SENT, Phase.RETRYING, Phase.PARTIALLY_SENT, Phase.FAILED}),
    Phase.SENT: frozenset(),
    Phase.PARTIALLY_SENT: frozenset(),
    Phase.FAILED: frozenset(),
}


def check_transition(current: Phase, wanted: Phase) -> None:
    """Raise IllegalTransition unless `current -> wanted` is in the table. Pure."""
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(current.value, wanted.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelState:
    """What is known of one channel after this batch: persisted attempts plus the batch's outcomes."""

    succeeded: bool = False
    permanent: bool = False
    attempts: int = 0
    #: The outcome of a send is unknown and the channel is at-most-once: it must not be sent again.
    abandoned: bool = False

    def done(self, max_attempts: int) -> bool:
        return self.succeeded or self.permanent or self.abandoned or self.attempts >= max_attempts


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Where a notification goes next, and the reason and message to write with it."""

    phase: Phase
    reason: str
    message: str

    @property
    def terminal(self) -> bool:
        return self.phase.terminal


def decide_transition(
    current: Phase,
    channels: Sequence[str],
    states: Mapping[str, ChannelState],
    max_attempts: int,
    *,
    retry_in: float = 0.0,
) -> Decision:
    """The next phase after a delivery batch. Pure.

    Args:
        current: the persisted phase (Sending or Retrying when a batch ran).
        channels: the resolved channel keys, de-duplicated.
        states: each channel's state including this batch.
        max_attempts: the per-channel attempt limit.
        retry_in: seconds until the next retry is due, for the Retrying message.
    """
    total = len(channels)
    if total == 0:
        return Decision(phase=Phase.FAILED, reason=Reason.NO_CHANNELS,
                        message="All delivery attempts failed or exhausted retries")
    empty = ChannelState()
    succeeded = sum(1 for channel in channels if states.get(channel, empty).succeeded)
    if succeeded == total:
        return Decision(phase=Phase.SENT, reason=Reason.ALL_SUCCEEDED,
                        message=f"Successfully delivered to {succeeded} channel(s)")
    if all(states.get(channel, empty).done(max_attempts) for channel in channels):
        if succeeded > 0:
            return Decision(phase=Phase.PARTIALLY_SENT, reason=Reason.PARTIAL_SUCCESS,
                            message=f"Delivered to {succeeded}/{total} channel(s), others failed")
        every_permanent = all(states.get(channel, empty).permanent for channel in channels)
        return Decision(phase=Phase.FAILED, reason=Reason.ALL_FAILED if every_permanent else Reason.EXHAUSTED,
                        message="All delivery attempts failed or exhausted retries")
    retrying = any(not state.done(max_attempts) and state.attempts > 0
                   for state in (states.get(channel, empty) for channel in channels))
    if succeeded > 0 and retrying:
        return Decision(phase=Phase.RETRYING, reason=Reason.RETRYING,
                        message=f"Delivered to {succeeded}/{total} channel(s), retrying failed channels with "
                        f"backoff {format_duration(retry_in)}")
    return Decision(phase=current if current in (Phase.SENDING, Phase.RETRYING) else Phase.SENDING,
                    reason=Reason.PROCESSING, message="Processing delivery channels")
