"""The status manager's pure core: counters, exact merge, timestamps, conditions (spec 1.4, 4)."""

from __future__ import annotations

from typing import Any

import pytest

from notifier import AttemptClaimedError, IllegalTransition
from notifier._model import AttemptStatus, DeliveryAttempt, Phase, count_deliveries
from notifier._status import apply_status, merge_attempts, set_condition

S, F, P, U = AttemptStatus.SUCCESS, AttemptStatus.FAILED, AttemptStatus.PENDING, AttemptStatus.UNKNOWN


def attempt(channel: str, number: int, status: AttemptStatus, error: str = "") -> DeliveryAttempt:
    return DeliveryAttempt(uid="u", channel=channel, attempt=number, timestamp="2026-01-01T00:00:00Z",
                           status=status, error=error)


def obj(status: dict[str, Any] | None = None, generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"uid": "u", "generation": generation}, "status": status or {}}


@pytest.mark.parametrize(("attempts", "expected"), [
    ([attempt("console", 1, S)] + [attempt("file", i, F) for i in range(1, 6)], (1, 1)),
    ([attempt("slack", i, F) for i in range(1, 6)], (0, 1)),
    ([attempt("slack", 1, F), attempt("slack", 2, S)], (1, 0)),
    ([attempt("slack", 1, S), attempt("slack", 2, F)], (1, 0)),
    ([attempt("slack", 1, P)], (0, 0)),
    ([attempt("slack", 1, U)], (0, 1)),
    ([], (0, 0)),
])
def test_counters_are_distinct_channels(attempts: list[DeliveryAttempt], expected: tuple[int, int]) -> None:
    assert count_deliveries(attempts) == expected


def test_total_attempts_counts_every_settled_attempt() -> None:
    attempts = [attempt("console", 1, S)] + [attempt("file", i, F) for i in range(1, 6)]
    status = apply_status(obj(), phase=None, attempts=attempts, now=0)
    assert (status["totalAttempts"], status["successfulDeliveries"], status["failedDeliveries"]) == (6, 1, 1)


def test_merge_appends_new_identities_in_order() -> None:
    merged = merge_attempts([attempt("a", 1, F)], [attempt("a", 2, S), attempt("b", 1, S)])
    assert [(m.channel, m.attempt) for m in merged] == [("a", 1), ("a", 2), ("b", 1)]


def test_merge_of_the_same_identity_twice_keeps_one() -> None:
    merged = merge_attempts([attempt("a", 1, F, "boom")], [attempt("a", 1, F, "boom")])
    assert len(merged) == 1


def test_identical_failures_in_the_same_second_are_both_kept_when_their_numbers_differ() -> None:
    merged = merge_attempts([attempt("a", 1, F, "503")], [attempt("a", 2, F, "503")])
    assert len(merged) == 2


def test_outcome_replaces_its_intent() -> None:
    merged = merge_attempts([attempt("a", 1, P)], [attempt("a", 1, S)])
    assert [m.status for m in merged] == [S]


def test_intent_never_replaces_an_outcome() -> None:
    merged = merge_attempts([attempt("a", 1, S)], [attempt("a", 1, P)])
    assert [m.status for m in merged] == [S]


def test_claiming_a_recorded_attempt_fails() -> None:
    with pytest.raises(AttemptClaimedError, match=r"^attempt 1 of 'a' is already recorded$"):
        apply_status(obj({"deliveryAttempts": [attempt("a", 1, P).to_json()]}), phase=None,
                     attempts=[attempt("a", 1, P)], claim=[attempt("a", 1, P)], now=0)


def test_a_claim_is_judged_by_the_status_it_lands_on() -> None:
    """The bug the sites strategy found (lease-held-across-retries, a pause at a send and a slow Lease read): a
    replica planned attempt 5 from a read 20 s old, took the freed Lease, and claimed attempt 5 on a status that
    already had attempt 4 delivered and the notification Sent. Mutant claim-ignores-delivered keeps it caught."""
    delivered = obj({"phase": "Sending", "deliveryAttempts": [attempt("a", 4, S).to_json()]})
    with pytest.raises(AttemptClaimedError, match=r"^'a' was delivered before attempt 5 could be claimed$"):
        apply_status(delivered, phase=None, attempts=[attempt("a", 5, P)], claim=[attempt("a", 5, P)], now=0)
    ended = obj({"phase": "Failed", "deliveryAttempts": [attempt("b", 1, F).to_json()]})
    with pytest.raises(AttemptClaimedError, match=r"^the notification ended \(Failed\) before attempt 2"):
        apply_status(ended, phase=None, attempts=[attempt("b", 2, P)], claim=[attempt("b", 2, P)], now=0)
    stale_intent = obj({"phase": "Sending", "deliveryAttempts": [attempt("a", 4, P).to_json()]})
    status = apply_status(stale_intent, phase=None, attempts=[attempt("a", 5, P)], claim=[attempt("a", 5, P)], now=0)
    assert [a["attempt"] for a in status["deliveryAttempts"]] == [4, 5]  # an intent of unknown outcome: allowed


def test_nothing_persisted_disappears() -> None:
    before = obj({"deliveryAttempts": [attempt("a", 1, F).to_json(), attempt("b", 1, S).to_json()]})
    status = apply_status(before, phase=None, attempts=[attempt("a", 2, S)], now=0)
    assert [(a["channel"], a["attempt"]) for a in status["deliveryAttempts"]] == [("a", 1), ("b", 1), ("a", 2)]


def test_pending_sets_queued_at_and_sending_sets_processing_started_at_once() -> None:
    status = apply_status(obj(), phase=Phase.PENDING, reason="Initialized", message="m", now=10)
    assert status["queuedAt"] == "1970-01-01T00:00:10Z"
    status = apply_status(obj(status), phase=Phase.SENDING, reason="r", message="m", now=20)
    assert status["processingStartedAt"] == "1970-01-01T00:00:20Z" and status["queuedAt"] == "1970-01-01T00:00:10Z"


@pytest.mark.parametrize("phase", [Phase.SENT, Phase.PARTIALLY_SENT, Phase.FAILED])
def test_terminal_phase_sets_completion_time(phase: Phase) -> None:
    status = apply_status(obj({"phase": "Sending"}), phase=phase, reason="r", message="m", now=30)
    assert status["completionTime"] == "1970-01-01T00:00:30Z"


def test_same_phase_keeps_reason_and_message() -> None:
    status = apply_status(obj({"phase": "Retrying", "reason": "old", "message": "kept"}), phase=Phase.RETRYING,
                          reason="new", message="new", now=0)
    assert (status["reason"], status["message"]) == ("old", "kept")


def test_same_phase_with_require_change_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        apply_status(obj({"phase": "Pending"}), phase=Phase.PENDING, require_change=True, now=0)


def test_illegal_transition_from_terminal_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        apply_status(obj({"phase": "Sent"}), phase=Phase.SENDING, now=0)


def test_observed_generation_follows_the_object() -> None:
    assert apply_status(obj(generation=3), phase=None, now=0)["observedGeneration"] == 3


def test_condition_transition_time_moves_only_when_status_flips() -> None:
    conditions: list[dict[str, Any]] = []
    set_condition(conditions, {"type": "Ready", "status": "False", "reason": "a", "message": "m"}, 1)
    set_condition(conditions, {"type": "Ready", "status": "False", "reason": "b", "message": "m"}, 2)
    assert conditions[0]["lastTransitionTime"] == "1970-01-01T00:00:01Z" and conditions[0]["reason"] == "b"
    set_condition(conditions, {"type": "Ready", "status": "True", "reason": "c", "message": "m"}, 3)
    assert conditions[0]["lastTransitionTime"] == "1970-01-01T00:00:03Z" and len(conditions) == 1


def test_conditions_carry_the_observed_generation() -> None:
    status = apply_status(obj(generation=2), phase=None, now=0,
                          conditions=[{"type": "RoutingResolved", "status": "True", "reason": "r", "message": "m"}])
    assert status["conditions"][0]["observedGeneration"] == 2


def test_a_withdrawal_never_overwrites_an_outcome() -> None:
    merged = merge_attempts([attempt("a", 1, S)], [attempt("a", 1, AttemptStatus.CANCELLED)])
    assert [m.status for m in merged] == [S]


def test_a_real_outcome_replaces_an_unknown_one() -> None:
    merged = merge_attempts([attempt("a", 1, U)], [attempt("a", 1, S)])
    assert [m.status for m in merged] == [S]


def test_an_unknown_never_overwrites_an_outcome() -> None:
    merged = merge_attempts([attempt("a", 1, F)], [attempt("a", 1, U)])
    assert [m.status for m in merged] == [F]


def test_withdrawn_intents_are_no_attempts() -> None:
    status = apply_status(obj(), phase=None, attempts=[attempt("a", 1, AttemptStatus.CANCELLED)], now=0)
    assert (status["totalAttempts"], status["failedDeliveries"]) == (0, 0)
