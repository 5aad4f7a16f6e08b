"""The simpy Runtime: virtual time, tasks, cancellation, original exceptions, and its primitives."""

from __future__ import annotations

import asyncio

import pytest

from harness import EPOCH, SimRuntime
from notifier import ForeignAwaitError, Runtime
from tests.conftest import drive


class Rich(Exception):
    """An exception simpy could not re-create: a keyword-only field."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def test_conforms_to_the_runtime_port(rt: SimRuntime) -> None:
    port: Runtime = rt
    assert port.now() == EPOCH


def test_sleep_advances_virtual_time_only(rt: SimRuntime) -> None:
    async def main() -> float:
        await rt.sleep(900)
        return rt.now()
    assert drive(rt, main()) == EPOCH + 900


def test_clock_offset_skews_now(rt: SimRuntime) -> None:
    skewed = SimRuntime(rt.env, clock_offset=-3.0)
    assert skewed.now() == rt.now() - 3.0


def test_exceptions_arrive_as_the_original_objects(rt: SimRuntime) -> None:
    raised = Rich("no", status=503)

    async def child() -> None:
        await rt.sleep(1)
        raise raised

    async def main() -> BaseException:
        try:
            await rt.spawn(child(), name="child")
        except Rich as error:
            return error
        raise AssertionError("not raised")
    assert drive(rt, main()) is raised


def test_cancel_raises_cancelled_error_at_the_await_point(rt: SimRuntime) -> None:
    record: list[str] = []

    async def child() -> None:
        try:
            await rt.sleep(100)
        except asyncio.CancelledError:
            record.append(f"cancelled at {rt.env.now}")
            raise

    async def main() -> None:
        task = rt.spawn(child(), name="child")
        await rt.sleep(5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    drive(rt, main())
    assert record == ["cancelled at 5"]


def test_cancel_before_start_never_runs_the_coroutine(rt: SimRuntime) -> None:
    started: list[bool] = []

    async def child() -> None:
        started.append(True)

    async def main() -> bool:
        task = rt.spawn(child(), name="child")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.done()
    assert drive(rt, main()) is True and started == []


def test_awaiting_an_asyncio_future_is_a_foreign_await_error(rt: SimRuntime) -> None:
    class Bare:
        def __await__(self):  # type: ignore[no-untyped-def]
            yield "not a simpy event"

    async def main() -> None:
        await Bare()
    with pytest.raises(ForeignAwaitError, match=r"^task 'main' awaited 'not a simpy event'"):
        drive(rt, main())


def test_asyncio_sleep_without_a_loop_is_explained(rt: SimRuntime) -> None:
    async def main() -> None:
        await asyncio.sleep(1)
    with pytest.raises(ForeignAwaitError, match="needs a running asyncio loop"):
        drive(rt, main())


def test_wait_for_times_out_and_cancels_the_awaitable(rt: SimRuntime) -> None:
    cancelled: list[float] = []

    async def slow() -> None:
        try:
            await rt.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(rt.env.now)
            raise

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await rt.wait_for(slow(), 2)
    drive(rt, main())
    assert cancelled == [2]


def test_wait_for_returns_the_result_in_time(rt: SimRuntime) -> None:
    async def quick() -> int:
        await rt.sleep(1)
        return 7

    async def main() -> int:
        return await rt.wait_for(quick(), 2)
    assert drive(rt, main()) == 7


def test_gather_runs_concurrently_and_raises_the_first_error_in_argument_order(rt: SimRuntime) -> None:
    async def fail_after(seconds: float, message: str) -> None:
        await rt.sleep(seconds)
        raise Rich(message, status=1)

    async def main() -> tuple[str, float]:
        try:
            await rt.gather(fail_after(5, "first"), fail_after(1, "second"))
        except Rich as error:
            return str(error), rt.env.now
        raise AssertionError("not raised")
    assert drive(rt, main()) == ("first", 5)


def test_gather_returns_results_in_argument_order(rt: SimRuntime) -> None:
    async def after(seconds: float) -> float:
        await rt.sleep(seconds)
        return seconds

    async def main() -> tuple[list[float], float]:
        return await rt.gather(after(3), after(1), after(2)), rt.env.now
    assert drive(rt, main()) == ([3, 1, 2], 3)


def test_lock_serves_waiters_in_order(rt: SimRuntime) -> None:
    lock = rt.lock()
    order: list[tuple[int, float]] = []

    async def hold(i: int) -> None:
        async with lock:
            order.append((i, rt.env.now))
            await rt.sleep(1)

    async def main() -> None:
        await rt.gather(*(hold(i) for i in range(3)))
    drive(rt, main())
    assert order == [(0, 0), (1, 1), (2, 2)] and not lock.locked()


def test_cancelled_lock_waiter_does_not_keep_the_lock(rt: SimRuntime) -> None:
    lock = rt.lock()

    async def main() -> bool:
        await lock.acquire()
        waiter = rt.spawn(lock.acquire(), name="waiter")
        await rt.sleep(1)
        waiter.cancel()
        lock.release()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return lock.locked()
    assert drive(rt, main()) is False


def test_event_wakes_every_waiter(rt: SimRuntime) -> None:
    event = rt.event()
    woken: list[float] = []

    async def wait() -> None:
        await event.wait()
        woken.append(rt.env.now)

    async def main() -> None:
        tasks = [rt.spawn(wait(), name=f"w{i}") for i in range(3)]
        await rt.sleep(4)
        event.set()
        for task in tasks:
            await task
    drive(rt, main())
    assert woken == [4, 4, 4]


def test_queue_is_fifo_and_a_cancelled_getter_loses_nothing(rt: SimRuntime) -> None:
    queue = rt.queue()

    async def main() -> list[int]:
        getter = rt.spawn(queue.get(), name="getter")
        await rt.sleep(0)
        queue.put_nowait(1)
        getter.cancel()  # the item was handed over, but the getter is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await getter
        queue.put_nowait(2)
        return [await queue.get(), await queue.get()]
    assert drive(rt, main()) == [1, 2]


def test_failed_task_nobody_awaited_is_reported(rt: SimRuntime) -> None:
    async def boom() -> None:
        raise Rich("unseen", status=1)

    async def main() -> None:
        rt.spawn(boom(), name="orphan")
        await rt.sleep(1)
    drive(rt, main())
    assert [task.name for task in rt.unretrieved_failures()] == ["orphan"]


def test_crash_stops_cleanup_code_at_its_first_await(rt: SimRuntime) -> None:
    record: list[str] = []

    async def worker() -> None:
        try:
            await rt.sleep(100)
        finally:
            record.append("cleanup starts")
            await rt.sleep(0)  # e.g. releasing a lease through the API
            record.append("cleanup reached the outside world")

    observer = SimRuntime(rt.env)

    async def main() -> None:
        task = rt.spawn(worker(), name="worker")
        await observer.sleep(1)
        rt.crash()
        await observer.sleep(1)
        assert task.done()
    task = observer.spawn(main(), name="main")
    rt.env.run(until=task)
    task.result()
    assert record == ["cleanup starts"]


def test_pause_freezes_every_task_until_it_ends(rt: SimRuntime) -> None:
    steps: list[tuple[str, float]] = []
    observer = SimRuntime(rt.env)

    async def ticker(name: str) -> None:
        for _ in range(3):
            await rt.sleep(1)
            steps.append((name, rt.env.now))

    async def main() -> None:
        task = rt.spawn(ticker("t"), name="t")
        await observer.sleep(1.5)
        rt.pause(10)
        await task
    task = observer.spawn(main(), name="main")
    rt.env.run(until=task)
    task.result()
    assert steps == [("t", 1), ("t", 11.5), ("t", 12.5)]


def test_a_paused_task_can_still_be_cancelled(rt: SimRuntime) -> None:
    observer = SimRuntime(rt.env)

    async def main() -> float:
        task = rt.spawn(rt.sleep(1), name="sleeper")
        await observer.sleep(0.5)
        rt.pause(100)
        await observer.sleep(1)  # the sleeper's timer fired during the pause: it is deferred now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return rt.env.now
    task = observer.spawn(main(), name="main")
    rt.env.run(until=task)
    assert task.result() == 1.5
