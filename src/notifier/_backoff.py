"""Retry backoff (spec 2.5): exponential, capped, with ±10% jitter clamped into [base, max].

Pure: the jitter comes in as a number in [-1, 1) drawn by the caller from its injected RNG.
"""

from __future__ import annotations

from notifier._model import RetryPolicy

JITTER_FRACTION = 0.10


def backoff_seconds(policy: RetryPolicy, attempt: int, jitter: float) -> float:
    """The wait after failed attempt number `attempt` (1-based). Pure.

    Args:
        policy: the notification's retry policy.
        attempt: the attempt number that failed; below 1 gives the base with no jitter.
        jitter: a draw in [-1, 1); scaled to ±10% of the value.
    """
    base = float(policy.initial_backoff_seconds)
    cap = float(policy.max_backoff_seconds)
    if attempt < 1:
        return base
    multiplier = policy.backoff_multiplier or 2
    value = base
    for _ in range(attempt - 1):
        value = min(cap, value * multiplier)
    value += value * JITTER_FRACTION * jitter
    return min(cap, max(base, value))


def backoff_bounds(policy: RetryPolicy, attempt: int) -> tuple[float, float]:
    """The least and greatest value `backoff_seconds` can give for `attempt`. Pure."""
    low = backoff_seconds(policy, attempt, -1.0)
    high = backoff_seconds(policy, attempt, 1.0)
    return low, high


def format_duration(seconds: float) -> str:
    """A Go-style duration: 30s, 1m0s, 1h2m3s (whole seconds). Pure."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
