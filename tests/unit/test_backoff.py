"""Backoff (spec 2.5): exponential, capped, ±10% jitter clamped into [base, max]."""

from __future__ import annotations

import random

import pytest

from notifier._backoff import backoff_bounds, backoff_seconds, format_duration
from notifier._model import RetryPolicy

DEFAULT = RetryPolicy()


@pytest.mark.parametrize(("attempt", "nominal"), [(1, 30), (2, 60), (3, 120), (4, 240), (5, 480), (6, 480)])
def test_default_policy_values_lie_within_the_jitter_bounds(attempt: int, nominal: float) -> None:
    rng = random.Random(attempt)
    for _ in range(200):
        value = backoff_seconds(DEFAULT, attempt, rng.random() * 2 - 1)
        assert max(30.0, nominal * 0.9) <= value <= min(480.0, nominal * 1.1)


@pytest.mark.parametrize(("attempt", "bounds"), [(1, (30.0, 33.0)), (2, (54.0, 66.0)), (5, (432.0, 480.0))])
def test_bounds_of_the_default_policy(attempt: int, bounds: tuple[float, float]) -> None:
    low, high = backoff_bounds(DEFAULT, attempt)
    assert low == pytest.approx(bounds[0]) and high == pytest.approx(bounds[1])


def test_attempt_below_one_is_the_base_without_jitter() -> None:
    assert backoff_seconds(DEFAULT, 0, 0.99) == 30.0


def test_no_jitter_gives_the_nominal_value() -> None:
    assert backoff_seconds(DEFAULT, 3, 0.0) == 120.0


def test_first_attempt_never_goes_below_the_base() -> None:
    assert backoff_seconds(DEFAULT, 1, -1.0) == 30.0


def test_cap_applies_during_the_loop() -> None:
    policy = RetryPolicy(initial_backoff_seconds=100, backoff_multiplier=10, max_backoff_seconds=500)
    assert backoff_seconds(policy, 3, 0.0) == 500.0


def test_multiplier_one_keeps_the_base() -> None:
    policy = RetryPolicy(initial_backoff_seconds=5, backoff_multiplier=1, max_backoff_seconds=60)
    assert backoff_seconds(policy, 7, 0.0) == 5.0


def test_zero_multiplier_is_treated_as_two() -> None:
    policy = RetryPolicy(initial_backoff_seconds=1, backoff_multiplier=0, max_backoff_seconds=60)
    assert backoff_seconds(policy, 3, 0.0) == 4.0


def test_fast_test_policy_schedule() -> None:
    policy = RetryPolicy(max_attempts=5, initial_backoff_seconds=1, backoff_multiplier=2, max_backoff_seconds=60)
    assert [backoff_seconds(policy, n, 0.0) for n in range(1, 6)] == [1, 2, 4, 8, 16]


@pytest.mark.parametrize(("seconds", "text"), [(30, "30s"), (60, "1m0s"), (125, "2m5s"), (3723, "1h2m3s")])
def test_durations_are_written_the_go_way(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_retry_policy_defaults_fill_missing_fields() -> None:
    assert RetryPolicy.from_spec({"maxAttempts": 3}) == RetryPolicy(max_attempts=3)
    assert RetryPolicy.from_spec(None) == RetryPolicy()
