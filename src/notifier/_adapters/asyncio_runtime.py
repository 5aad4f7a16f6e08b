"""The production Runtime: a thin map onto asyncio and the wall clock.

The only module of the controller allowed to touch asyncio's primitives and `time.time()`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

from notifier._ports import Event, Lock, Queue, Task

T = TypeVar("T")


class AsyncioRuntime:
    """`Runtime` on the running asyncio loop; create it inside that loop."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> Task[T]:
        return asyncio.get_running_loop().create_task(coro, name=name)

    async def gather(self, *aws: Awaitable[T]) -> list[T]:
        results = await asyncio.gather(*aws, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)  # type: ignore[arg-type]

    async def wait_for(self, aw: Awaitable[T], timeout: float) -> T:
        return await asyncio.wait_for(aw, max(0.0, timeout))

    def lock(self) -> Lock:
        return _AsyncioLock()

    def event(self) -> Event:
        return asyncio.Event()

    def queue(self) -> Queue[Any]:
        return asyncio.Queue()


class _AsyncioLock(asyncio.Lock):
    """`asyncio.Lock` whose `__aenter__` returns None, as the port says."""

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()
