"""The production `KubeApi`: the official `kubernetes` client, kept off the event loop.

Every blocking call runs in a worker thread (`asyncio.to_thread`), and a watch reads its stream one line per
thread hop. Every `ApiException` is translated into the port's exception from its HTTP status and its
`Status` body, so the controller sees exactly what the fake API server raises. All three resource types the
controller uses live in named API groups, so one code path (`CustomObjectsApi`) serves them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import urllib3
from kubernetes import client as k8s
from kubernetes.watch.watch import iter_resp_lines

from notifier._errors import KubeApiError, KubeTimeoutError, KubeUnavailableError, error_from_status
from notifier._ports import KubeObject, ObjectList, ResourceType, WatchEvent

T = TypeVar("T")
_MERGE_PATCH = "application/merge-patch+json"


def translate_api_exception(exc: k8s.ApiException) -> KubeApiError:
    """The port exception for an `ApiException`, from its `Status` body when it has one."""
    status: dict[str, Any] = {}
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and body:
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            status = decoded
    if "message" not in status:
        status["message"] = str(exc.reason or f"HTTP {exc.status}")
    code = exc.status if isinstance(exc.status, int) else 0
    retry_after = (exc.headers or {}).get("Retry-After")
    if retry_after and str(retry_after).isdigit():
        # A 429 from the max-in-flight or APF filter is plain text with the header only (`http.Error`).
        status["details"] = {**(status.get("details") or {}), "retryAfterSeconds": int(retry_after)}
    error = error_from_status(status, code=code)
    error.__cause__ = exc
    return error


def translate_transport_error(exc: Exception) -> KubeApiError:
    """The port exception for a failure below HTTP (no answer, or no connection).

    Only a read timeout is ambiguous (the request may have been applied); a connection that never opened,
    including a connect timeout, is plainly unavailable.
    """
    if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, TimeoutError)):
        error: KubeApiError = KubeTimeoutError(f"no answer from the API server: {exc}")
    else:
        error = KubeUnavailableError(f"cannot reach the API server: {exc}", code=0, reason="Unavailable")
    error.__cause__ = exc
    return error


def _as_object(raw: object) -> KubeObject:
    if not isinstance(raw, dict):
        raise KubeApiError(f"the API server answered with {type(raw).__name__}, not an object")
    return raw


def _selectors(label_selector: str, field_selector: str) -> dict[str, Any]:
    """The client's keyword arguments for the selectors given (none for an empty one)."""
    return {key: value for key, value in (("label_selector", label_selector), ("field_selector", field_selector))
            if value}


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except k8s.ApiException as exc:
        raise translate_api_exception(exc) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_transport_error(exc) from exc


class OfficialKubeApi:
    """`KubeApi` over `kubernetes.client`; build it with a configured `ApiClient`."""

    def __init__(self, api_client: k8s.ApiClient, *, request_timeout: float = 30.0) -> None:
        self._custom = k8s.CustomObjectsApi(api_client)
        self._timeout = request_timeout

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(_call, fn)

    async def _object(self, fn: Callable[[], object]) -> KubeObject:
        return _as_object(await self._run(fn))

    async def get(self, rt: ResourceType, namespace: str, name: str) -> KubeObject:
        c = self._custom
        return await self._object(lambda: c.get_namespaced_custom_object(
            rt.group, rt.version, namespace, rt.plural, name, _request_timeout=self._timeout))

    async def list(self, rt: ResourceType, namespace: str | None, *, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "") -> ObjectList:
        c = self._custom
        selectors = _selectors(label_selector, field_selector)
        if limit:
            selectors["limit"] = limit
        if continue_token:
            selectors["_continue"] = continue_token
        if namespace is None:
            raw = await self._object(lambda: c.list_cluster_custom_object(
                rt.group, rt.version, rt.plural, _request_timeout=self._timeout, **selectors))
        else:
            raw = await self._object(lambda: c.list_namespaced_custom_object(
                rt.group, rt.version, namespace, rt.plural, _request_timeout=self._timeout, **selectors))
        return ObjectList(
            items=list(raw.get("items") or []),
            resource_version=str(raw.get("metadata", {}).get("resourceVersion", "")),
            continue_token=str(raw.get("metadata", {}).get("continue") or ""),
        )

    async def create(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        c = self._custom
        return await self._object(lambda: c.create_namespaced_custom_object(
            rt.group, rt.version, namespace, rt.plural, body, _request_timeout=self._timeout))

    async def update(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        c = self._custom
        name = body["metadata"]["name"]
        return await self._object(lambda: c.replace_namespaced_custom_object(
            rt.group, rt.version, namespace, rt.plural, name, body, _request_timeout=self._timeout))

    async def update_status(self, rt: ResourceType, namespace: str, body: KubeObject) -> KubeObject:
        c = self._custom
        name = body["metadata"]["name"]
        return await self._object(lambda: c.replace_namespaced_custom_object_status(
            rt.group, rt.version, namespace, rt.plural, name, body, _request_timeout=self._timeout))

    async def patch(self, rt: ResourceType, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        c = self._custom
        return await self._object(lambda: c.patch_namespaced_custom_object(
            rt.group, rt.version, namespace, rt.plural, name, patch,
            _content_type=_MERGE_PATCH, _request_timeout=self._timeout))

    async def delete(
        self, rt: ResourceType, namespace: str, name: str, *, resource_version: str | None = None
    ) -> None:
        c = self._custom
        options = None
        if resource_version is not None:
            options = k8s.V1DeleteOptions(preconditions=k8s.V1Preconditions(resource_version=resource_version))
        await self._run(lambda: c.delete_namespaced_custom_object(
            rt.group, rt.version, namespace, rt.plural, name, body=options,
            _request_timeout=self._timeout))

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
        """Stream watch events; an `ERROR` event becomes the port exception (410 is `GoneError`)."""
        c = self._custom
        kwargs: dict[str, Any] = {
            "watch": True,
            "allow_watch_bookmarks": True,
            "resource_version": resource_version or None,
            "_preload_content": False,
            **_selectors(label_selector, field_selector),
        }
        if timeout_seconds is not None:
            kwargs["timeout_seconds"] = int(timeout_seconds)
        resp: Any
        if namespace is None:
            resp = await self._run(lambda: c.list_cluster_custom_object(rt.group, rt.version, rt.plural, **kwargs))
        else:
            resp = await self._run(lambda: c.list_namespaced_custom_object(
                rt.group, rt.version, namespace, rt.plural, **kwargs))
        lines: Iterator[str] = iter_resp_lines(resp)  # type: ignore[no-untyped-call]
        try:
            while True:
                line = await self._run(lambda: next(lines, None))
                if line is None:
                    return
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "ERROR":
                    raise error_from_status(event.get("object") or {})
                yield WatchEvent(type=event["type"], object=event["object"])
        finally:
            # A reader thread may be blocked on the socket (a quiet watch, or one being cancelled at shutdown):
            # shutting the socket down wakes it, so no thread outlives the watch and the loop can close.
            with contextlib.suppress(ValueError, RuntimeError, OSError):  # the stream had already ended
                resp.shutdown()
            resp.close()
            resp.release_conn()
