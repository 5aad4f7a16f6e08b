"""The circuit breaker (spec 3.8): trips after 3 failures, half-opens after 30 s, closes after 2 successes."""

from __future__ import annotations

from notifier._breaker import Breakers, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker() -> tuple[CircuitBreaker, Clock, list[tuple[str, BreakerState]]]:
    clock, changes = Clock(), []
    return CircuitBreaker("slack", clock, on_change=lambda n, s: changes.append((n, s))), clock, changes


def test_three_consecutive_failures_open_it() -> None:
    b, _, changes = breaker()
    for _ in range(3):
        assert b.allow()
        b.record(False)
    assert b.state is BreakerState.OPEN and not b.allow()
    assert changes == [("slack", BreakerState.OPEN)]


def test_a_success_resets_the_consecutive_count() -> None:
    b, _, _ = breaker()
    for ok in (False, False, True, False, False):
        b.record(ok)
    assert b.state is BreakerState.CLOSED


def test_counts_reset_every_interval() -> None:
    b, clock, _ = breaker()
    b.record(False)
    b.record(False)
    clock.now = 11
    b.record(False)
    assert b.state is BreakerState.CLOSED


def test_after_the_timeout_it_half_opens_and_two_successes_close_it() -> None:
    b, clock, changes = breaker()
    for _ in range(3):
        b.record(False)
    clock.now = 30
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow() and b.allow() and not b.allow()
    b.record(True)
    b.record(True)
    assert b.state is BreakerState.CLOSED
    assert [s for _, s in changes] == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failure_while_half_open_reopens_it() -> None:
    b, clock, _ = breaker()
    for _ in range(3):
        b.record(False)
    clock.now = 31
    assert b.allow()
    b.record(False)
    assert b.state is BreakerState.OPEN


def test_breakers_are_per_kind() -> None:
    breakers = Breakers(Clock())
    for _ in range(3):
        breakers.for_kind("slack").record(False)
    assert breakers.for_kind("slack").state is BreakerState.OPEN
    assert breakers.for_kind("teams").state is BreakerState.CLOSED
    assert breakers.for_kind("slack") is breakers.for_kind("slack")


def test_state_numbers_follow_gobreaker() -> None:
    assert (BreakerState.CLOSED, BreakerState.HALF_OPEN, BreakerState.OPEN) == (0, 1, 2)
