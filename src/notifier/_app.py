"""Assembly: the controller's parts wired from ports, the same way in production and in the simulator.

`assemble` takes every port (API, runtime, HTTP client, RNG, audit sink, metrics registry, file root) and
returns the reconciler and the router; `notifier run` and the harness both call it, so the code under test is
the code that ships.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from notifier._breaker import Breakers
from notifier._channels import Channel, ConsoleChannel, FileChannel, LogChannel
from notifier._errors import ConfigError
from notifier._observe import AuditSink, EventRecorder, Metrics
from notifier._ports import KubeApi, Runtime
from notifier._reconciler import CacheReader, ControllerConfig, NotificationReconciler
from notifier._routing import CredentialConfig, PagerDutyConfig, Router
from notifier._seams import PRODUCTION, Seams
from notifier._throttle import RetryAfter
from notifier._webhooks import PAGERDUTY_URL, WebhookChannel, pagerduty_payload, slack_payload, teams_payload


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalChannels:
    """Which in-process channels to register besides console (always on)."""

    file_dir: Path | None = None
    file_format: str = "json"
    log: bool = True
    log_format: str = "json"
    console_write: Callable[[str], None] | None = None
    log_write: Callable[[str], None] | None = None
    file_writer: Callable[[Path, bytes], None] | None = None


def webhook_factory(client: httpx.AsyncClient, *, timeout: float = 10.0
                    ) -> Callable[[str, str, CredentialConfig, str], Channel]:
    """Builds the per-receiver external channels from their credentials."""

    def build(kind: str, key: str, config: CredentialConfig, secret: str) -> Channel:
        if kind == "slack":
            return WebhookChannel(kind="slack", url=secret, client=client, payload=slack_payload, timeout=timeout)
        if kind == "pagerduty":
            url = config.url if isinstance(config, PagerDutyConfig) and config.url else PAGERDUTY_URL
            return WebhookChannel(kind="pagerduty", url=url, client=client,
                                  payload=lambda n: pagerduty_payload(n, secret), timeout=timeout)
        if kind == "teams":
            return WebhookChannel(kind="teams", url=secret, client=client, payload=teams_payload, timeout=timeout)
        raise ConfigError(f"no channel of kind {kind!r} for {key!r}")

    return build


def local_channels(runtime: Runtime, spec: LocalChannels) -> dict[str, Channel]:
    channels: dict[str, Channel] = {"console": ConsoleChannel(spec.console_write)}
    if spec.log:
        channels["log"] = LogChannel(runtime.now, fmt=spec.log_format, write=spec.log_write)
    if spec.file_dir is not None:
        if spec.file_writer is not None:
            channels["file"] = FileChannel(spec.file_dir, runtime.now, fmt=spec.file_format, writer=spec.file_writer)
        else:
            channels["file"] = FileChannel(spec.file_dir, runtime.now, fmt=spec.file_format)
    return channels


def assemble(
    *,
    api: KubeApi,
    runtime: Runtime,
    cache: CacheReader,
    http: httpx.AsyncClient,
    rng: random.Random,
    audit: AuditSink,
    registry: CollectorRegistry,
    credentials: Callable[[], Mapping[str, str]],
    config: ControllerConfig,
    local: LocalChannels = LocalChannels(),
    routing_text: str = "",
    routing_path: str = "routing.yaml",
    seams: Seams = PRODUCTION,
) -> tuple[NotificationReconciler, Router]:
    """Wire one replica's reconciler; raises ConfigFileError for a bad routing file. `seams`: the reconciler's
    replaceable decisions (production: the defaults)."""
    api = RetryAfter.around(api, runtime)
    router = Router(webhook_factory(http), credentials)
    router.load_text(routing_text, routing_path)
    metrics = Metrics(registry)
    breakers = Breakers(runtime.now, on_change=lambda kind, state: metrics.breaker.labels(channel=kind).set(state))
    reconciler = NotificationReconciler(
        api=api, runtime=runtime, cache=cache, router=router, local_channels=local_channels(runtime, local),
        breakers=breakers, auditor=seams.auditor(audit, runtime),
        events=EventRecorder(api, runtime, component="notification-controller", instance=config.identity),
        metrics=metrics, rng=rng, config=config, seams=seams,
    )
    return reconciler, router
