"""`notifier run`: the manager on asyncio, the official client, a real HTTP client, the wall clock.

Everything is checked before anything starts: a missing or invalid kubeconfig, routing file or credentials
directory is one clear line on stderr and exit code 2. The routing file and the credentials are polled and
reloaded when they change; a reload that fails keeps the previous config. SIGTERM and SIGINT stop the
manager gracefully (running reconciles finish). Exit 1 if leadership was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from notifier._adapters.asyncio_runtime import AsyncioRuntime
from notifier._adapters.kube import OfficialKubeApi
from notifier._adapters.probes import Probes
from notifier._app import LocalChannels, assemble
from notifier._channels import ConsoleChannel
from notifier._errors import ConfigError
from notifier._leader import LeaderElectionConfig
from notifier._manager import Manager
from notifier._observe import MemoryAuditSink
from notifier._reconciler import ControllerConfig
from notifier._routing import Router, read_credentials

log = logging.getLogger("notifier")
WATCH_TIMEOUT = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"),
                        help="Kubeconfig file (default: $KUBECONFIG, else the in-cluster service account)")
    parser.add_argument("--context", default=None, help="Kubeconfig context (default: the current one)")
    parser.add_argument("--namespace", default=None, help="Watch one namespace (default: all)")
    parser.add_argument("--routing", type=Path, default=None, help="Routing file (default: everything to console)")
    parser.add_argument("--credentials-dir", type=Path, default=None,
                        help="Directory of credential files: file name = credentialRef, content = secret")
    parser.add_argument("--replica-id", default=os.environ.get("POD_NAME", "notifier"),
                        help="This replica's identity (default: $POD_NAME, else 'notifier')")
    parser.add_argument("--lock", choices=("lease", "leader", "none"), default="lease",
                        help="lease: a Lease per notification around external sends; leader: one active "
                             "replica; none: no coordination (single replica only)")
    parser.add_argument("--workers", type=int, default=1, help="Concurrent reconciles (default: 1)")
    parser.add_argument("--metrics-port", type=int, default=0,
                        help="Serve /metrics, /healthz and /readyz on this port (0: off)")
    parser.add_argument("--file-dir", type=Path, default=None, help="Register the file channel, writing here")
    parser.add_argument("--reload-every", type=float, default=5.0, help="Seconds between routing reload checks")


@dataclass(frozen=True, slots=True)
class Checked:
    routing_text: str
    credentials: dict[str, str]


def check(args: argparse.Namespace) -> Checked:
    """Validate every input before starting; raises ConfigError with one clear sentence."""
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, not {args.workers!r}")
    credentials: dict[str, str] = {}
    if args.credentials_dir is not None:
        credentials = read_credentials(args.credentials_dir)
    text = ""
    if args.routing is not None:
        try:
            text = args.routing.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot read routing file {str(args.routing)!r}: {error.strerror}") from None
        probe = Router(lambda kind, key, cfg, secret: ConsoleChannel(), lambda: credentials)
        probe.load_text(text, str(args.routing))  # validation only: the real channels are built in serve()
    return Checked(routing_text=text, credentials=credentials)


def api_client(args: argparse.Namespace) -> object:
    from kubernetes import config as kube_config
    from kubernetes.config.config_exception import ConfigException

    try:
        if args.kubeconfig:
            if not Path(args.kubeconfig).is_file():
                raise ConfigError(f"kubeconfig {args.kubeconfig!r} does not exist")
            return kube_config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=args.kubeconfig, context=args.context)
        kube_config.load_incluster_config()  # type: ignore[no-untyped-call]
    except ConfigException as error:
        raise ConfigError(f"cannot load kubeconfig {args.kubeconfig or '(in-cluster)'!r}: {error}") from None
    from kubernetes import client

    return client.ApiClient()


async def serve(args: argparse.Namespace, checked: Checked, kube: object) -> int:
    runtime = AsyncioRuntime()
    api = OfficialKubeApi(kube)  # type: ignore[arg-type]
    registry = CollectorRegistry()
    credentials = dict(checked.credentials)
    lock = "lease" if args.lock == "lease" else "none"
    manager: Manager
    async with httpx.AsyncClient() as http:
        reconciler, router = assemble(
            api=api, runtime=runtime, cache=lambda ns, name: manager.informer.get(ns, name), http=http,
            rng=random.Random(), audit=MemoryAuditSink(), registry=registry, credentials=lambda: credentials,
            config=ControllerConfig(identity=args.replica_id, lock=lock),  # type: ignore[arg-type]
            local=LocalChannels(file_dir=args.file_dir), routing_text=checked.routing_text,
            routing_path=str(args.routing or "routing.yaml"),
        )
        election = LeaderElectionConfig(namespace=args.namespace or "default") if args.lock == "leader" else None
        # Watches end after WATCH_TIMEOUT and are reopened from the last version, as client-go's reflector
        # does, so that no connection stays silent for ever behind a proxy.
        manager = Manager(api=api, runtime=runtime, reconciler=reconciler, namespace=args.namespace,
                          workers=args.workers, identity=args.replica_id, leader_election=election,
                          watch_timeout=WATCH_TIMEOUT, background=(reconciler.events.finish_series,))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, manager.stop)
        reloader = runtime.spawn(_reload(args, router, credentials, runtime), name="reloader")
        probes = Probes(registry, manager.ready, port=args.metrics_port) if args.metrics_port else None
        beating = runtime.spawn(_beat(probes, runtime), name="heartbeat") if probes is not None else None
        log.info("notifier %s started (lock %s, %d worker(s))", args.replica_id, args.lock, args.workers)
        try:
            await manager.run()
        finally:
            reloader.cancel()
            if beating is not None:
                beating.cancel()
            if probes is not None:
                probes.stop()
    return 1 if manager.lost_leadership else 0


async def _beat(probes: Probes, runtime: AsyncioRuntime) -> None:
    while True:
        probes.beat()
        await runtime.sleep(5.0)


async def _reload(args: argparse.Namespace, router: Router, credentials: dict[str, str],
                  runtime: AsyncioRuntime) -> None:
    if args.routing is None:
        return
    last = args.routing.read_text(encoding="utf-8")
    while True:
        await runtime.sleep(args.reload_every)
        try:
            text = args.routing.read_text(encoding="utf-8")
            if args.credentials_dir is not None:
                credentials.clear()
                credentials.update(read_credentials(args.credentials_dir))
            if text != last:
                router.load_text(text, str(args.routing))
                last = text
                log.info("routing reloaded from %s", args.routing)
        except (OSError, ConfigError) as error:
            log.error("routing reload failed, keeping the previous config: %s", error)


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request's URL at INFO, and a Slack or Teams webhook URL is a secret.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run(args: argparse.Namespace) -> int:
    configure_logging()
    try:
        checked = check(args)
        kube = api_client(args)
    except ConfigError as error:
        print(f"notifier: {error}", file=sys.stderr)
        return 2
    return asyncio.run(serve(args, checked, kube))
