"""A workqueue with controller-runtime's semantics, on the Runtime port.

The rules (client-go's `workqueue`): a key is never handed to two workers at once; a key added while it is
being processed is handed out again after `done`; a key already waiting is not queued twice; `add_after`
keeps the earliest of several pending delays; `add_rate_limited` waits the longer of the per-item
exponential backoff (5 ms doubling to 1000 s) and a token bucket (10 per second, burst 100). Keys come out
in the order they went in. Sets here are for membership only; order lives in lists.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from notifier._ports import Runtime, Task


@dataclass(slots=True)
class RateLimiter:
    """controller-runtime's default: the max of per-item exponential backoff and a token bucket.

    Pure given `now`: every method takes the time from its caller.
    """

    base_delay: float = 0.005
    max_delay: float = 1000.0
    qps: float = 10.0
    burst: int = 100
    _failures: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _tokens: float = field(default=0.0, init=False, repr=False)
    _last: float | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)

    def when(self, key: str, now: float) -> float:
        """The delay before `key` may be retried; counts one more failure for it."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        backoff = min(self.max_delay, self.base_delay * (2.0**failures))
        return max(backoff, self._bucket_delay(now))

    def _bucket_delay(self, now: float) -> float:
        if self._last is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        return self._failures.get(key, 0)


class WorkQueue:
    """The controller's queue of keys; see the module docstring for its rules."""

    def __init__(self, runtime: Runtime, *, rate_limiter: RateLimiter | None = None) -> None:
        self._runtime = runtime
        self._queue: deque[str] = deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._waiting: dict[str, tuple[float, Task[None]]] = {}
        self._has_items = runtime.event()
        self._shutting_down = False
        self.rate_limiter = rate_limiter or RateLimiter()

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, key: str) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._has_items.set()

    async def get(self) -> str | None:
        """The next key, marked as processing; None once the queue shuts down."""
        while not self._queue:
            if self._shutting_down:
                return None
            self._has_items.clear()
            await self._has_items.wait()
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        """Mark `key` processed; if it was added meanwhile, it goes back in line."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._has_items.set()

    def is_processing(self, key: str) -> bool:
        return key in self._processing

    def add_after(self, key: str, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        ready_at = self._runtime.now() + delay
        pending = self._waiting.get(key)
        if pending is not None:
            if pending[0] <= ready_at:
                return
            pending[1].cancel()  # a sooner add_after supersedes a later one
        timer = self._runtime.spawn(self._add_when_ready(key, delay), name=f"workqueue.after[{key}]")
        self._waiting[key] = (ready_at, timer)

    async def _add_when_ready(self, key: str, delay: float) -> None:
        await self._runtime.sleep(delay)
        del self._waiting[key]
        self.add(key)

    def add_rate_limited(self, key: str) -> None:
        self.add_after(key, self.rate_limiter.when(key, self._runtime.now()))

    def forget(self, key: str) -> None:
        self.rate_limiter.forget(key)

    def num_requeues(self, key: str) -> int:
        return self.rate_limiter.num_requeues(key)

    def shut_down(self) -> None:
        """Stop handing out keys; workers blocked in `get` receive None."""
        self._shutting_down = True
        self._has_items.set()
        for _, timer in self._waiting.values():
            timer.cancel()
        self._waiting.clear()
