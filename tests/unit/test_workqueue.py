"""The workqueue keeps controller-runtime's rules, and the rate limiter its numbers."""

from __future__ import annotations

import pytest

from harness import SimRuntime
from notifier import RateLimiter, WorkQueue
from tests.conftest import drive


def test_a_queued_key_is_not_queued_twice(rt: SimRuntime) -> None:
    queue = WorkQueue(rt)
    for key in ["a", "b", "a", "a"]:
        queue.add(key)
    assert len(queue) == 2


def test_keys_come_out_in_the_order_they_went_in(rt: SimRuntime) -> None:
    queue = WorkQueue(rt)
    for key in ["c", "a", "b"]:
        queue.add(key)

    async def main() -> list[str | None]:
        return [await queue.get() for _ in range(3)]
    assert drive(rt, main()) == ["c", "a", "b"]


def test_a_key_added_while_processing_is_handed_out_again_only_after_done(rt: SimRuntime) -> None:
    queue = WorkQueue(rt)
    queue.add("a")

    async def main() -> list[object]:
        key = await queue.get()
        queue.add("a")
        seen: list[object] = [key, len(queue)]
        queue.done("a")
        seen += [len(queue), await queue.get()]
        return seen
    assert drive(rt, main()) == ["a", 0, 1, "a"]


def test_add_after_keeps_the_earliest_of_two_delays(rt: SimRuntime) -> None:
    queue = WorkQueue(rt)

    async def main() -> float:
        queue.add_after("a", 10)
        queue.add_after("a", 3)
        queue.add_after("a", 7)
        await queue.get()
        return rt.env.now
    assert drive(rt, main()) == 3
    assert len(queue) == 0


def test_shut_down_releases_waiting_workers_with_none(rt: SimRuntime) -> None:
    queue = WorkQueue(rt)

    async def main() -> str | None:
        getter = rt.spawn(queue.get(), name="getter")
        await rt.sleep(1)
        queue.shut_down()
        return await getter
    assert drive(rt, main()) is None


def test_rate_limiter_doubles_from_5_ms_and_caps_at_1000_s() -> None:
    limiter = RateLimiter(qps=1e9, burst=10**9)
    delays = [limiter.when("k", now=0.0) for _ in range(20)]
    assert delays[:4] == [0.005, 0.01, 0.02, 0.04]
    assert delays[-1] == 1000.0


def test_rate_limiter_forget_resets_the_backoff() -> None:
    limiter = RateLimiter()
    limiter.when("k", 0.0)
    limiter.when("k", 0.0)
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0 and limiter.when("k", 0.0) == 0.005


def test_rate_limiter_bucket_throttles_past_the_burst() -> None:
    limiter = RateLimiter(burst=2, qps=10)
    delays = [limiter.when(f"k{i}", now=0.0) for i in range(4)]
    assert delays[:2] == [0.005, 0.005]
    assert delays[2] == pytest.approx(0.1) and delays[3] == pytest.approx(0.2)
