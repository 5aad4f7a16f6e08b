"""Catalogue B (spec 7.2): retry logic and backoff, in virtual time.

Where the Go expectation depends on a quirk we fixed, the docstring says what differs and why.
"""

from __future__ import annotations

import itertools

from harness._simfixture import Sim
from notifier import parse_time
from tests.sim.catalogue._kit import deliver, policy


def test_retries_with_exponential_backoff_up_to_max_attempts(sim: Sim) -> None:
    """7.2 B8: should retry with exponential backoff up to max attempts (console ok, file always failing).

    Differs: PartiallySent is written with the fifth file failure, not one backoff later (DESIGN §4), so it
    lands at 1+2+4+8 s (each ±10%) of virtual time instead of the Go suite's 20-40 s window.
    """
    run = deliver(sim, "console-file", retry=policy(5), faults={"file.write-error": {"probability": 1.0}})
    status = run.status("alert")
    assert (status["phase"], status["totalAttempts"], status["successfulDeliveries"], status["failedDeliveries"]) \
        == ("PartiallySent", 6, 1, 1)
    assert 1 + 1.8 + 3.6 + 7.2 <= run.completed_after("alert") <= 1.1 + 2.2 + 4.4 + 8.8


def test_stops_retrying_after_first_success(sim: Sim) -> None:
    """7.2 B9: should stop retrying after first success (fails twice, then succeeds): Sent, 3 attempts."""
    run = deliver(sim, "slack-only", backends={"slack:slack-only": {"default": 200, "script": [503, 503]}},
                  retry=policy(5))
    status = run.status("alert")
    assert (status["phase"], status["totalAttempts"], status["failedDeliveries"]) == ("Sent", 3, 0)
    assert len(run.receipts("alert")) == 3 and run.completed_after("alert") < 10


def test_successful_console_delivery(sim: Sim) -> None:
    """7.2 B10: should successfully deliver notification via Console: Sent, 1/0."""
    status = deliver(sim).status("alert")
    assert (status["phase"], status["successfulDeliveries"], status["failedDeliveries"]) == ("Sent", 1, 0)


def test_partial_channel_failure_is_handled(sim: Sim) -> None:
    """7.2 B11: should handle partial channel failure gracefully (Slack 503 always, console ok, policy 3/1/2/60)."""
    run = deliver(sim, "console-slack", slack=503, retry=policy(3))
    status = run.status("alert")
    assert (status["phase"], status["totalAttempts"], status["successfulDeliveries"], status["failedDeliveries"]) \
        == ("PartiallySent", 4, 1, 1)
    assert run.completed_after("alert") < 20


def test_all_channels_failing_is_handled(sim: Sim) -> None:
    """7.2 B12: should handle all channels failing gracefully (slack-only 503, MaxAttempts 3): Failed, 3 attempts."""
    status = deliver(sim, "slack-only", slack=503, retry=policy(3)).status("alert")
    assert (status["phase"], status["totalAttempts"], status["successfulDeliveries"], status["failedDeliveries"]) \
        == ("Failed", 3, 0, 1)


def test_error_messages_are_recorded(sim: Sim) -> None:
    """7.2 B13: should handle special characters in error messages (Slack 500 always, MaxAttempts 5)."""
    run = deliver(sim, "slack-only", slack=500, retry=policy(5))
    status = run.status("alert")
    assert (status["phase"], status["totalAttempts"], status["failedDeliveries"]) == ("Failed", 5, 1)
    assert "500" in run.attempts("alert")[0]["error"] and run.completed_after("alert") < 45


def test_large_delivery_attempts_array(sim: Sim) -> None:
    """7.2 B14: should handle large deliveryAttempts array (Slack 503, MaxAttempts 7): 7 attempts, < 1 MB."""
    import json

    run = deliver(sim, "slack-only", slack=503, retry=policy(7), quiet=600)
    status = run.status("alert")
    assert (status["phase"], status["totalAttempts"]) == ("Failed", 7)
    assert len(json.dumps(status)) < 1_000_000 and run.completed_after("alert") < 90


def test_attempts_of_a_failing_channel_follow_the_backoff_schedule(sim: Sim) -> None:
    """7.2 B8 (timing part): recorded attempts of a failing channel are 1, 2, 4, 8 s apart (±10% jitter)."""
    run = deliver(sim, "slack-only", slack=503, retry=policy(5))
    times = [parse_time(a["timestamp"]) for a in run.attempts("alert")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    for gap, nominal in zip(gaps, [1, 2, 4, 8], strict=True):
        assert max(1.0, nominal * 0.9) <= gap <= nominal * 1.1 + 0.01
