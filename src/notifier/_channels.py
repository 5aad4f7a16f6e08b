"""Channels: the `Channel` port, error classification (spec 3.5), and the local channels.

Console, log and file deliver inside the controller process; Slack, PagerDuty and Teams (in `_webhooks`)
deliver to the outside world and are the ones the lock and the write-ahead intent protect. An error is
retryable if and only if it is a `BackendUnavailableError`; everything else is permanent.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import yaml

from notifier._errors import BackendError, BackendOutcomeUnknownError, BackendRejectedError, BackendUnavailableError
from notifier._model import PERMANENT_MARKER, Notification, flatten_context
from notifier._resources import format_time

log = logging.getLogger("notifier.channels")


@dataclass(frozen=True, slots=True, kw_only=True)
class SendContext:
    """Who sends which attempt under which lease: carried to the backend in headers."""

    channel: str
    attempt: int
    replica: str = ""
    fencing_token: str = ""


class Channel(Protocol):
    """A delivery target. `external` channels leave the process and are sent only under the lease."""

    kind: str
    external: bool

    async def deliver(self, notification: Notification, context: SendContext) -> None: ...


def error_text(error: BaseException) -> str:
    """The attempt's error: permanent failures carry the `permanent failure: ` prefix (spec 3.5)."""
    text = str(error)
    if isinstance(error, BackendUnavailableError):
        return text
    return f"{PERMANENT_MARKER}: {text}"


def classify_response(service: str, status: int, body: str, retry_after: str | None = None) -> BackendError | None:
    """The error for an HTTP answer, or None for 2xx (the body is never parsed). Pure."""
    if 200 <= status < 300:
        return None
    snippet = body[:256]
    after = _parse_retry_after(retry_after)
    if status == 429 or 500 <= status < 600:
        return BackendUnavailableError(f"{service} webhook returned {status} (retryable): {snippet}",
                                       status=status, retry_after=after)
    return BackendRejectedError(f"{service} webhook returned {status} (permanent failure): {snippet}", status=status)


def classify_transport_error(service: str, error: BaseException) -> BackendError:
    """TLS failures are permanent; every other failure below HTTP is retryable. Pure."""
    text = str(error)
    chain: list[BaseException] = []
    cause: BaseException | None = error
    while cause is not None and len(chain) < 8:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    lowered = " ".join(str(c) for c in chain).lower()
    if any(isinstance(c, ssl.SSLError) for c in chain) or any(
        marker in lowered for marker in ("tls:", "x509:", "certificate")
    ):
        return BackendRejectedError(f"TLS certificate validation failed (permanent failure - BR-NOT-058): {text}")
    if type(error).__name__ in ("ReadTimeout", "WriteTimeout"):
        return BackendOutcomeUnknownError(f"{service} webhook request timed out after it was sent: {text}")
    return BackendUnavailableError(f"{service} webhook request failed: {type(error).__name__}: {text}")


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


class ConsoleChannel:
    """One line per notification: `[<Priority>] [<Type>] <Subject>` then the body. Always succeeds."""

    kind = "console"
    external = False

    def __init__(self, write: Callable[[str], None] | None = None) -> None:
        self._write = write or (lambda line: log.info("%s", line.rstrip("\n")))

    async def deliver(self, notification: Notification, context: SendContext) -> None:
        self._write(f"[{notification.priority}] [{notification.type}] {notification.subject}\n{notification.body}\n")


class LogChannel:
    """Structured output to the controller's log, as JSON (default) or one text line."""

    kind = "log"
    external = False

    def __init__(self, clock: Callable[[], float], *, fmt: str = "json",
                 write: Callable[[str], None] | None = None) -> None:
        if fmt not in ("json", "text"):
            raise ValueError(f"log format must be 'json' or 'text', not {fmt!r}")
        self._clock = clock
        self._fmt = fmt
        self._write = write or (lambda line: log.info("%s", line))

    async def deliver(self, notification: Notification, context: SendContext) -> None:
        self._write(self.render(notification))

    def render(self, n: Notification) -> str:
        now = format_time(self._clock())
        if self._fmt == "text":
            return f"[{now}] {n.namespace}/{n.name} {n.subject}: {n.body}"
        record: dict[str, object] = {
            "timestamp": now, "notification_name": n.name, "notification_namespace": n.namespace,
            "notification_uid": n.uid, "type": n.type, "priority": n.priority, "subject": n.subject, "body": n.body,
        }
        metadata = {**flatten_context(n.context), **n.extensions}
        optional: dict[str, object] = {
            "metadata": metadata, "labels": n.labels, "annotations": n.annotations,
            "phase": n.phase.value, "action_links": [dict(link) for link in n.action_links],
        }
        record.update({key: value for key, value in optional.items() if value})
        status = n.raw.get("status") or {}
        counters = (("successful_deliveries", "successfulDeliveries"), ("failed_deliveries", "failedDeliveries"))
        for key, field in counters:
            if int(status.get(field, 0) or 0) > 0:
                record[key] = status[field]
        return json.dumps(record, sort_keys=True)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `<path>.tmp`, then rename over `path`; the temp file is removed if the rename fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".tmp")
    temp.write_bytes(data)
    try:
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise


class FileChannel:
    """The whole NotificationRequest as pretty JSON or YAML, one file per delivery, written atomically.

    File-system errors are retryable; an unsupported format is permanent.
    """

    kind = "file"
    external = False

    def __init__(self, output_dir: Path, clock: Callable[[], float], *, fmt: str = "json",
                 writer: Callable[[Path, bytes], None] = atomic_write) -> None:
        self.output_dir = output_dir
        self._clock = clock
        self._fmt = fmt
        self._writer = writer

    async def deliver(self, notification: Notification, context: SendContext) -> None:
        if self._fmt == "json":
            data = json.dumps(notification.raw, indent=2, sort_keys=True).encode()
        elif self._fmt == "yaml":
            data = yaml.safe_dump(notification.raw, sort_keys=True).encode()
        else:
            raise BackendRejectedError(f"unsupported file format {self._fmt!r}; use 'json' or 'yaml'")
        micros = round(self._clock() * 1_000_000)
        stamp = datetime.fromtimestamp(micros // 1_000_000, tz=UTC).strftime("%Y%m%d-%H%M%S")
        path = self.output_dir / f"notification-{notification.name}-{stamp}.{micros % 1_000_000:06d}.{self._fmt}"
        try:
            self._writer(path, data)
        except OSError as error:
            raise BackendUnavailableError(f"file delivery to {path.name} failed: {error}") from error
