"""The Runtime on simpy: the one place that steps controller coroutines.

A controller coroutine runs as a `SimTask`, a simpy event that drives the coroutine with `send`/`throw`
(no asyncio loop exists). An awaitable of ours yields a simpy event; the task resumes when that event is
processed. Events are only ever *succeeded*, never failed: simpy re-creates exceptions as
`type(e)(*e.args)` when it throws them, which breaks exceptions with extra fields, so outcomes travel as
values and exceptions are raised as the original objects. Cancellation throws `asyncio.CancelledError` at the
await point. Awaiting anything else (an asyncio future, a bare `yield`) raises `ForeignAwaitError` there.

Same-time events run in the order they were scheduled (simpy's event id), so a run is a pure function of
what was scheduled.
"""

from __future__ import annotations

from asyncio import CancelledError
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Final, Generic, Literal, TypeVar

import simpy
from simpy.core import StopSimulation
from simpy.events import URGENT, Initialize

from notifier import ForeignAwaitError

T = TypeVar("T")

#: Virtual time 0 is this wall-clock instant: 2026-01-01T00:00:00Z.
EPOCH = 1_767_225_600.0


class Budget:
    """A world's step and wall budgets: a controller that loops, even in zero virtual time, stops the world.

    A step is one resumption of a task. Steps are counted, and the wall clock read every `CHECK_EVERY` steps,
    so the budget costs an increment per step. When a budget is spent, the world's `env.run` stops (an urgent
    event ends it) and `exceeded` says which; the step at which it stopped is a pure function of the run for
    the step budget, so a run stopped by either replays exactly with `max_steps` set to its `stopped_at`.

    Args:
        env: the world's environment.
        max_steps: task steps the world may take.
        wall_seconds: wall-clock seconds the world may take (None: no limit).
        clock: the wall clock (seconds); only the wall budget reads it.
    """

    CHECK_EVERY: Final = 1024

    def __init__(self, env: simpy.Environment, *, max_steps: int, wall_seconds: float | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.env = env
        self.max_steps = max_steps
        self.wall_seconds = wall_seconds
        self.steps = 0
        #: "steps" or "wall" once a budget is spent; None while the world is within both.
        self.exceeded: str | None = None
        #: The step count at which the budget was found spent (the world stops a few steps later, once the
        #: events already due at that instant are processed): `max_steps` for a replay that stops there too.
        self.stopped_at = 0
        self._clock = clock
        self._deadline = float("inf")
        self._next_check = min(self.CHECK_EVERY, max_steps)

    def start(self) -> None:
        """Start the wall budget now."""
        if self.wall_seconds is not None and self._clock is not None:
            self._deadline = self._clock() + self.wall_seconds

    def tick(self) -> None:
        self.steps += 1
        if self.steps >= self._next_check:
            self._check()

    def _check(self) -> None:
        if self.steps >= self.max_steps:
            self._stop("steps")
        elif self._clock is not None and self._clock() > self._deadline:
            self._stop("wall")
        else:
            self._next_check = min(self.steps + self.CHECK_EVERY, self.max_steps)

    def _stop(self, which: str) -> None:
        self.exceeded = which
        self.stopped_at = self.steps
        self._next_check = 2**62  # spent: the world's shutdown steps are not counted
        stop = simpy.Event(self.env)
        stop._ok = True
        stop._value = None
        stop.callbacks = [StopSimulation.callback]
        self.env.schedule(stop, URGENT)


class _Wait:
    """Await one simpy event and return its value."""

    __slots__ = ("event",)

    def __init__(self, event: simpy.Event) -> None:
        self.event = event

    def __await__(self) -> Generator[simpy.Event, Any, Any]:
        return (yield self.event)


class _Cancel(simpy.Event):
    """Delivers a cancellation to a task at its await point."""


class SimTask(simpy.Event, Generic[T]):
    """A controller coroutine driven by simpy; itself an event that triggers when it ends."""

    def __init__(self, runtime: SimRuntime, coro: Coroutine[Any, Any, T], name: str) -> None:
        super().__init__(runtime.env)
        self._runtime = runtime
        self._coro = coro
        self.name = name
        self._outcome: tuple[bool, Any] | None = None
        self._cancel_pending = False
        self._retrieved = False
        self._deferred: simpy.Event | None = None
        self._target: simpy.Event = Initialize(runtime.env, self)  # type: ignore[arg-type]
        runtime._live[id(self)] = self

    def __repr__(self) -> str:
        return f"<SimTask {self.name!r} {'done' if self.done() else 'pending'}>"

    def _resume(self, event: simpy.Event) -> None:
        runtime = self._runtime
        paused_until = runtime.paused_until
        if paused_until > self.env.now and not isinstance(event, _Cancel):
            self._deferred = event  # the replica is paused: this task runs on only when it resumes
            resume = self.env.timeout(paused_until - self.env.now)
            resume.callbacks.append(self._resume_deferred)
            self._target = resume
            return
        if runtime.budget is not None:
            runtime.budget.tick()
        send: Any = event._value
        exc: BaseException | None = CancelledError() if isinstance(event, _Cancel) else None
        coro = self._coro
        while True:
            try:
                yielded = coro.send(send) if exc is None else coro.throw(exc)
            except StopIteration as stop:
                self._finish(True, stop.value)
                return
            except BaseException as error:  # the task's outcome, delivered to whoever awaits it
                self._finish(False, _explain_foreign(error))
                return
            if isinstance(yielded, simpy.Event):
                if yielded.callbacks is not None:
                    yielded.callbacks.append(self._resume)
                    self._target = yielded
                    return
                send, exc = yielded._value, None  # already processed: go on at once
            else:
                send, exc = None, ForeignAwaitError(
                    f"task {self.name!r} awaited {yielded!r}, which the simulation cannot drive; "
                    f"take sleeps, locks, queues and tasks from the Runtime port"
                )

    def _resume_deferred(self, event: simpy.Event) -> None:
        deferred, self._deferred = self._deferred, None
        assert deferred is not None
        self._resume(deferred)

    def _finish(self, ok: bool, value: Any) -> None:
        self._outcome = (ok, value)
        del self._runtime._live[id(self)]
        self._ok = True
        self._value = None
        self.env.schedule(self)
        if not ok and not isinstance(value, CancelledError):
            self._runtime._task_failed(self)

    # -- the Task port -------------------------------------------------------------------------

    def cancel(self) -> bool:
        if self._outcome is not None:
            return False
        if isinstance(self._target, Initialize) and self._target.callbacks is not None:  # never started: never will
            self._target.callbacks.remove(self._resume)
            self._coro.close()
            self._finish(False, CancelledError())
            return True
        if not self._cancel_pending:
            self._cancel_pending = True
            delivery = _Cancel(self.env)
            delivery._ok = True
            delivery._value = None
            delivery.callbacks = [self._deliver_cancel]
            self.env.schedule(delivery, URGENT)
        return True

    def _deliver_cancel(self, event: simpy.Event) -> None:
        self._cancel_pending = False
        if self._outcome is not None:
            return
        callbacks = self._target.callbacks
        assert callbacks is not None
        callbacks.remove(self._resume_deferred if self._deferred is not None else self._resume)
        self._deferred = None
        self._resume(event)

    def done(self) -> bool:
        return self._outcome is not None

    def result(self) -> T:
        if self._outcome is None:
            raise RuntimeError(f"task {self.name!r} is not done; await it first")
        self._retrieved = True
        ok, value = self._outcome
        if ok:
            result: T = value
            return result
        raise value

    def exception(self) -> BaseException | None:
        if self._outcome is None:
            raise RuntimeError(f"task {self.name!r} is not done; await it first")
        self._retrieved = True
        ok, value = self._outcome
        return None if ok else value

    def __await__(self) -> Generator[simpy.Event, Any, T]:
        if self._outcome is None:
            yield self
        return self.result()


def _explain_foreign(error: BaseException) -> BaseException:
    if isinstance(error, RuntimeError) and "no running event loop" in str(error):
        explained = ForeignAwaitError(
            "controller code used an asyncio primitive, which needs a running asyncio loop; "
            "take sleeps, locks, queues and tasks from the Runtime port"
        )
        explained.__cause__ = error
        return explained
    return error


class SimRuntime:
    """`Runtime` on a simpy environment, for one replica.

    Args:
        env: the world's environment, shared by every replica of the world.
        clock_offset: this replica's clock skew, in seconds, added to what `now()` reads.
        on_task_error: called with each task that ended with an exception (other than cancellation);
            by default the failures are kept in `failed_tasks` for the world to report.
        budget: the world's step budget, which every step of this runtime's tasks counts against.
    """

    def __init__(
        self,
        env: simpy.Environment,
        *,
        clock_offset: float = 0.0,
        on_task_error: Callable[[SimTask[Any]], None] | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.env = env
        self.budget = budget
        self.clock_offset = clock_offset
        self.failed_tasks: list[SimTask[Any]] = []
        self._on_task_error = on_task_error
        self._live: dict[int, SimTask[Any]] = {}
        self.dead = False
        #: Until this virtual time the replica is frozen: no task of this runtime takes a step.
        self.paused_until = 0.0

    def live_tasks(self) -> list[SimTask[Any]]:
        """Tasks not yet finished, in the order they were spawned."""
        return list(self._live.values())

    def cancel_all(self) -> None:
        """Cancel every unfinished task (the end of a world: cleanup code still runs)."""
        for task in self.live_tasks():
            task.cancel()

    def crash(self) -> None:
        """Kill this replica's process: every task is cancelled, and from now on every await of this
        runtime raises `CancelledError` at once, so no cleanup code can reach the API or a backend."""
        self.dead = True
        self.cancel_all()

    def pause(self, seconds: float) -> None:
        """Freeze this replica (a GC pause, a stopped VM): each task stops at its next step until then."""
        self.paused_until = max(self.paused_until, self.env.now + seconds)

    def _check_alive(self) -> None:
        if self.dead:
            raise CancelledError("the replica crashed")

    def _task_failed(self, task: SimTask[Any]) -> None:
        if self._on_task_error is not None:
            self._on_task_error(task)
        else:
            self.failed_tasks.append(task)

    def unretrieved_failures(self) -> list[SimTask[Any]]:
        """Tasks that failed and whose exception nobody looked at."""
        return [task for task in self.failed_tasks if not task._retrieved]

    def now(self) -> float:
        return EPOCH + self.env.now + self.clock_offset

    async def sleep(self, seconds: float) -> None:
        self._check_alive()
        await _Wait(self.env.timeout(max(0.0, seconds)))

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> SimTask[T]:
        task = SimTask(self, coro, name)
        if self.dead:
            task.cancel()
        return task

    async def gather(self, *aws: Awaitable[T]) -> list[T]:
        tasks = [self.spawn(_as_coroutine(aw), name=f"gather[{i}]") for i, aw in enumerate(aws)]
        try:
            for task in tasks:
                if not task.done():
                    await _Wait(task)
        except CancelledError:
            for task in tasks:
                task.cancel()
            raise
        return [task.result() for task in tasks]

    async def wait_for(self, aw: Awaitable[T], timeout: float) -> T:
        task = self.spawn(_as_coroutine(aw), name="wait_for")
        timer = self.env.timeout(max(0.0, timeout))
        try:
            await _Wait(self.env.any_of([task, timer]))
        except CancelledError:
            task.cancel()
            raise
        if not task.done():
            task.cancel()
            await _Wait(task)
            if isinstance(task.exception(), CancelledError):
                raise TimeoutError(f"no result within {timeout} s")
        return task.result()

    def lock(self) -> SimLock:
        return SimLock(self)

    def event(self) -> SimEvent:
        return SimEvent(self)

    def queue(self) -> SimQueue[Any]:
        return SimQueue(self)


async def _as_coroutine(aw: Awaitable[T]) -> T:
    return await aw


class SimLock:
    """A FIFO lock: `release` hands the lock straight to the first waiter."""

    def __init__(self, runtime: SimRuntime) -> None:
        self._runtime = runtime
        self._env = runtime.env
        self._locked = False
        self._waiters: deque[simpy.Event] = deque()

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> bool:
        self._runtime._check_alive()
        if not self._locked and not self._waiters:
            self._locked = True
            return True
        granted = self._env.event()
        self._waiters.append(granted)
        try:
            await _Wait(granted)
        except CancelledError:
            if granted.triggered:
                self.release()  # it was handed to us as we were cancelled: pass it on
            else:
                self._waiters.remove(granted)
            raise
        return True

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release of an unlocked lock")
        if self._waiters:
            self._waiters.popleft().succeed()
        else:
            self._locked = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()


class SimEvent:
    """A flag that tasks wait for; `set` wakes every waiter."""

    def __init__(self, runtime: SimRuntime) -> None:
        self._runtime = runtime
        self._env = runtime.env
        self._set = False
        self._waiters: list[simpy.Event] = []

    def set(self) -> None:
        if not self._set:
            self._set = True
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.succeed()

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self) -> Literal[True]:
        self._runtime._check_alive()
        if self._set:
            return True
        woken = self._env.event()
        self._waiters.append(woken)
        try:
            await _Wait(woken)
        except CancelledError:
            if not woken.triggered:
                self._waiters.remove(woken)
            raise
        return True


class SimQueue(Generic[T]):
    """An unbounded FIFO queue; `put_nowait` hands an item straight to the first getter."""

    def __init__(self, runtime: SimRuntime) -> None:
        self._runtime = runtime
        self._env = runtime.env
        self._items: deque[T] = deque()
        self._getters: deque[simpy.Event] = deque()

    def put_nowait(self, item: T) -> None:
        if self._getters:
            self._getters.popleft().succeed(item)
        else:
            self._items.append(item)

    async def get(self) -> T:
        self._runtime._check_alive()
        if self._items:
            return self._items.popleft()
        handed = self._env.event()
        self._getters.append(handed)
        try:
            item: T = await _Wait(handed)
        except CancelledError:
            if handed.triggered:
                self._items.appendleft(handed._value)  # handed over as we were cancelled: keep it
            else:
                self._getters.remove(handed)
            raise
        return item

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items
