"""A circuit breaker per channel type (spec 3.8), gobreaker's state machine on an injected clock.

Closed: counts consecutive failures (reset every `interval`); trips Open after `max_failures`. Open: rejects
until `timeout` passes, then Half-Open, which lets `half_open_requests` through; that many consecutive
successes close it, any failure reopens it. State numbers follow gobreaker: 0 closed, 1 half-open, 2 open.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class BreakerState(enum.IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(slots=True)
class CircuitBreaker:
    """One breaker. Call `allow()` before a request and `record(ok)` after it."""

    name: str
    clock: Callable[[], float]
    max_failures: int = 3
    timeout: float = 30.0
    half_open_requests: int = 2
    interval: float = 10.0
    on_change: Callable[[str, BreakerState], None] | None = None
    _state: BreakerState = field(default=BreakerState.CLOSED, init=False)
    _failures: int = field(default=0, init=False)
    _successes: int = field(default=0, init=False)
    _in_flight: int = field(default=0, init=False)
    _opened_at: float = field(default=0.0, init=False)
    _window_start: float = field(default=0.0, init=False)

    @property
    def state(self) -> BreakerState:
        now = self.clock()
        if self._state is BreakerState.OPEN and now >= self._opened_at + self.timeout:
            self._set(BreakerState.HALF_OPEN)
        if self._state is BreakerState.CLOSED and now >= self._window_start + self.interval:
            self._window_start, self._failures = now, 0
        return self._state

    def allow(self) -> bool:
        """Whether a request may go now; in Half-Open, it takes one of the few places."""
        state = self.state
        if state is BreakerState.OPEN:
            return False
        if state is BreakerState.HALF_OPEN:
            if self._in_flight + self._successes >= self.half_open_requests:
                return False
            self._in_flight += 1
        return True

    def record(self, ok: bool) -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._in_flight = max(0, self._in_flight - 1)
            if not ok:
                self._trip()
                return
            self._successes += 1
            if self._successes >= self.half_open_requests:
                self._set(BreakerState.CLOSED)
            return
        if state is BreakerState.CLOSED:
            if ok:
                self._failures = 0
                return
            self._failures += 1
            if self._failures >= self.max_failures:
                self._trip()

    def _trip(self) -> None:
        self._opened_at = self.clock()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is self._state:
            return
        self._state = state
        self._failures = self._successes = self._in_flight = 0
        self._window_start = self.clock()
        if self.on_change is not None:
            self.on_change(self.name, state)


class Breakers:
    """One breaker per channel type, made on first use."""

    def __init__(self, clock: Callable[[], float], *,
                 on_change: Callable[[str, BreakerState], None] | None = None, **settings: float) -> None:
        self._clock = clock
        self._on_change = on_change
        self._settings = settings
        self._by_kind: dict[str, CircuitBreaker] = {}

    def for_kind(self, kind: str) -> CircuitBreaker:
        breaker = self._by_kind.get(kind)
        if breaker is None:
            breaker = CircuitBreaker(kind, self._clock, on_change=self._on_change, **self._settings)  # type: ignore[arg-type]
            self._by_kind[kind] = breaker
        return breaker
