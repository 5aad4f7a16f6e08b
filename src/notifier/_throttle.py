"""Honouring `Retry-After`: a request the API server shed is asked again after the wait it names.

client-go's REST client does this for every verb (`rest/request.go`: `checkWait` takes the `Retry-After` of a
429, or of a 5xx that carries one, and the request is retried up to 10 times). A 429 from max-in-flight or
API Priority and Fairness means the request was never processed, so asking again is safe for a write too; a
5xx may come after a write was applied, and asking again then meets its effect (an AlreadyExists, a
Conflict), which the controller handles as it handles any lost answer. A 429 without `Retry-After` is not
retried here, as client-go does not. (The official client's urllib3 also retries idempotent verbs up to 3
times on its own when the header is there, before this sees the error.)
The controller wraps whatever `KubeApi` it is given (`RetryAfter.around`), so it behaves the same against a
real cluster and in the simulation, where the `api.throttle` fault sheds requests.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final, TypeVar

from notifier._errors import KubeApiError, TooManyRequestsError
from notifier._ports import KubeApi, KubeObject, ObjectList, ResourceType, Runtime, WatchEvent

log = logging.getLogger("notifier.api")
T = TypeVar("T")

#: client-go's `maxRetries` for a request answered with `Retry-After`.
MAX_RETRIES: Final = 10
#: The longest wait honoured: APF's `Retry-After` grows to 32 s (`dropped_requests_tracker.go`).
MAX_WAIT: Final = 32.0


def retry_after(error: KubeApiError) -> float | None:
    """The seconds a refused request asks to wait before it is sent again, or None if it asks for none."""
    seconds = error.details.get("retryAfterSeconds")
    if not isinstance(seconds, int) or seconds <= 0:
        return None
    if isinstance(error, TooManyRequestsError) or 500 <= error.code < 600:
        return min(MAX_WAIT, float(seconds))
    return None


class RetryAfter:
    """A `KubeApi` whose requests are sent again after a `Retry-After` (up to `MAX_RETRIES` times)."""

    def __init__(self, api: KubeApi, runtime: Runtime) -> None:
        self.api = api
        self._runtime = runtime

    @classmethod
    def around(cls, api: KubeApi, runtime: Runtime) -> KubeApi:
        return api if isinstance(api, cls) else cls(api, runtime)

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(MAX_RETRIES + 1):
            try:
                return await call()
            except KubeApiError as error:
                wait = retry_after(error)
                if wait is None or attempt == MAX_RETRIES:
                    raise
                log.debug("API request refused (%s); again in %.0f s", error.code, wait)
                await self._runtime.sleep(wait)
        raise AssertionError("unreachable")

    async def get(self, rt: ResourceType, namespace: str, name: str) -> KubeObject:
        return await self._call(lambda: self.api.get(rt, namespace, name))

    async def list(self, rt: ResourceType, namespace: str | None, *, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "") -> ObjectList:
        return await self._call(lambda: self.api.list(rt, namespace, label_selector=label_selector,
                                                      field_selector=field_selector, limit=limit,
                                                      continue_token=continue_token))

    async def watch(
        self,
        rt: ResourceType,
        namespace: str | None,
        resource_version: str,
        *,
        timeout_seconds: float | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> AsyncIterator[WatchEvent]:
        """The watch, opened again after a `Retry-After` that refused it before its first event."""
        for attempt in range(MAX_RETRIES + 1):
            stream = self.api.watch(rt, namespace, resource_version, timeout_seconds=timeout_seconds,
                                    label_selector=label_selector, field_selector=field_selector)
            started = False
            try:
                async for event in stream:
                    started = True
                    yield event
                return
            except KubeApiError as error:
                wait = retry_after(error)
                if started or wait is None or attempt == MAX_RETRIES:
                    raise
            finally:
                close = getattr(stream, "aclose", None)
                if close is not None:
                    await close()  # now, not when collected: the server's side of it ends with it
            await self._runtime.sleep(wait)

    async def create(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        return await self._call(lambda: self.api.create(rt, namespace, body))

    async def update(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        return await self._call(lambda: self.api.update(rt, namespace, body))

    async def update_status(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        return await self._call(lambda: self.api.update_status(rt, namespace, body))

    async def patch(self, rt: ResourceType, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        return await self._call(lambda: self.api.patch(rt, namespace, name, patch))

    async def delete(
        self, rt: ResourceType, namespace: str, name: str, *, resource_version: str | None = None
    ) -> None:
        await self._call(lambda: self.api.delete(rt, namespace, name, resource_version=resource_version))
