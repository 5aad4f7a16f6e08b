"""The phase state machine (every pair) and the transition decision (spec 1.7, 2.3, 7.3)."""

from __future__ import annotations

import itertools

import pytest

from notifier import IllegalTransition
from notifier._model import TERMINAL, Phase, Reason
from notifier._phase import TRANSITIONS, ChannelState, check_transition, decide_transition

ALLOWED = {
    (Phase.NONE, Phase.PENDING),
    (Phase.PENDING, Phase.SENDING), (Phase.PENDING, Phase.FAILED),
    (Phase.SENDING, Phase.SENT), (Phase.SENDING, Phase.RETRYING), (Phase.SENDING, Phase.PARTIALLY_SENT),
    (Phase.SENDING, Phase.FAILED),
    (Phase.RETRYING, Phase.SENT), (Phase.RETRYING, Phase.RETRYING), (Phase.RETRYING, Phase.PARTIALLY_SENT),
    (Phase.RETRYING, Phase.FAILED),
}
PAIRS = list(itertools.product(list(Phase), repeat=2))


@pytest.mark.parametrize(("current", "wanted"), [p for p in PAIRS if p in ALLOWED],
                         ids=lambda p: p.value or "none")
def test_allowed_transition_passes(current: Phase, wanted: Phase) -> None:
    check_transition(current, wanted)


@pytest.mark.parametrize(("current", "wanted"), [p for p in PAIRS if p not in ALLOWED],
                         ids=lambda p: p.value or "none")
def test_rejected_transition_raises_naming_both_phases(current: Phase, wanted: Phase) -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, wanted)
    assert (caught.value.current, caught.value.wanted) == (current.value, wanted.value)


def test_pending_to_sent_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(IllegalTransition, match=r"^invalid phase transition from 'Pending' to 'Sent'$"):
        check_transition(Phase.PENDING, Phase.SENT)


def test_terminal_phases_lead_nowhere() -> None:
    assert {Phase.SENT, Phase.PARTIALLY_SENT, Phase.FAILED} == TERMINAL
    assert all(not TRANSITIONS[phase] for phase in TERMINAL)


OK = ChannelState(succeeded=True, attempts=1)
RETRYABLE = ChannelState(attempts=1)
PERMANENT = ChannelState(permanent=True, attempts=1)
EXHAUSTED = ChannelState(attempts=5)


def decide(states: dict[str, ChannelState], current: Phase = Phase.SENDING, limit: int = 5) -> tuple[Phase, str]:
    decision = decide_transition(current, list(states), states, limit)
    return decision.phase, decision.reason


def test_all_channels_succeed_is_sent() -> None:
    assert decide({"console": OK, "slack": OK}) == (Phase.SENT, Reason.ALL_SUCCEEDED)


def test_one_succeeds_and_another_fails_with_retries_left_is_retrying() -> None:
    assert decide({"console": OK, "slack": RETRYABLE}) == (Phase.RETRYING, Reason.RETRYING)


def test_slack_fails_but_console_succeeds_is_retrying_from_sending() -> None:
    assert decide({"slack": RETRYABLE, "console": OK}, Phase.SENDING)[0] is Phase.RETRYING


def test_partially_sent_only_once_retries_are_exhausted() -> None:
    assert decide({"console": OK, "slack": EXHAUSTED}) == (Phase.PARTIALLY_SENT, Reason.PARTIAL_SUCCESS)
    assert decide({"console": OK, "slack": ChannelState(attempts=4)})[0] is Phase.RETRYING


def test_all_fail_with_retries_left_stays_in_the_current_phase() -> None:
    assert decide({"slack": RETRYABLE}, Phase.SENDING)[0] is Phase.SENDING
    assert decide({"slack": RETRYABLE}, Phase.RETRYING)[0] is Phase.RETRYING


def test_all_exhausted_with_no_success_is_failed_max_retries() -> None:
    assert decide({"slack": EXHAUSTED, "teams": EXHAUSTED}) == (Phase.FAILED, Reason.EXHAUSTED)


def test_all_permanent_is_failed_all_deliveries_failed() -> None:
    assert decide({"slack": PERMANENT, "teams": PERMANENT}) == (Phase.FAILED, Reason.ALL_FAILED)


def test_permanent_mixed_with_exhausted_is_failed_max_retries() -> None:
    assert decide({"slack": PERMANENT, "teams": EXHAUSTED}) == (Phase.FAILED, Reason.EXHAUSTED)


def test_permanent_with_a_success_is_partially_sent() -> None:
    assert decide({"console": OK, "slack": PERMANENT}) == (Phase.PARTIALLY_SENT, Reason.PARTIAL_SUCCESS)


def test_no_channels_is_failed_no_channels_resolved() -> None:
    assert decide({}) == (Phase.FAILED, Reason.NO_CHANNELS)


def test_no_channels_is_never_sent_even_with_attempts() -> None:
    assert decide_transition(Phase.SENDING, [], {"console": OK}, 5).phase is Phase.FAILED


def test_counts_every_resolved_channel() -> None:
    decision = decide_transition(Phase.SENDING, ["console", "slack", "file"], {"console": OK, "slack": OK}, 5)
    assert decision.phase is Phase.SENDING  # file not tried yet: no verdict, and nothing to retry


def test_no_failure_yet_keeps_the_phase() -> None:
    assert decide({"console": OK, "slack": ChannelState()}, Phase.SENDING)[0] is Phase.SENDING


def test_abandoned_unknown_channel_counts_as_done() -> None:
    assert decide({"console": OK, "slack": ChannelState(abandoned=True, attempts=1)})[0] is Phase.PARTIALLY_SENT


def test_max_attempts_one_exhausts_after_one_failure() -> None:
    assert decide({"slack": RETRYABLE}, limit=1) == (Phase.FAILED, Reason.EXHAUSTED)


@pytest.mark.parametrize(("states", "message"), [
    ({"a": OK, "b": OK}, "Successfully delivered to 2 channel(s)"),
    ({"a": OK, "b": EXHAUSTED}, "Delivered to 1/2 channel(s), others failed"),
    ({"a": EXHAUSTED}, "All delivery attempts failed or exhausted retries"),
])
def test_decision_messages(states: dict[str, ChannelState], message: str) -> None:
    assert decide_transition(Phase.SENDING, list(states), states, 5).message == message


def test_retrying_message_counts_this_batch_and_names_the_backoff() -> None:
    states = {"a": OK, "b": RETRYABLE}
    decision = decide_transition(Phase.SENDING, ["a", "b"], states, 5, retry_in=60)
    assert decision.message == "Delivered to 1/2 channel(s), retrying failed channels with backoff 1m0s"
