"""The notifier controller, unchanged, in simulated worlds and on real asyncio: the same outcomes."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from fakes.backends import Backends, Endpoint
from harness import FaultIntensity, World
from harness._realtime import deliver_on_asyncio
from harness._rig import Rig, routing_for
from notifier import NOTIFICATIONS, KubeObject, parse_time
from notifier._backoff import backoff_bounds
from notifier._model import RetryPolicy
from tests.conftest import notification

POLICY = {"maxAttempts": 3, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}
ROUTING = routing_for(("slack-only", ["slack"]), ("console-slack", ["console", "slack"]))


@dataclass(frozen=True)
class Case:
    name: str
    channel_set: str | None
    script: tuple[int, ...]
    default: int
    phase: str
    reason: str
    total: int
    successful: int
    failed: int


CASES = [
    Case("console-only", None, (), 200, "Sent", "AllDeliveriesSucceeded", 1, 1, 0),
    Case("slack-503-503-200", "slack-only", (503, 503), 200, "Sent", "AllDeliveriesSucceeded", 3, 1, 0),
    Case("slack-403", "slack-only", (), 403, "Failed", "AllDeliveriesFailed", 1, 0, 1),
    Case("console-and-slack-503", "console-slack", (), 503, "PartiallySent", "PartialDeliverySuccess", 4, 1, 1),
]


def _body(case: Case, policy: dict[str, int] = POLICY) -> KubeObject:
    body = notification(case.name, retryPolicy=policy)
    if case.channel_set:
        body["spec"]["extensions"] = {"test-channel-set": case.channel_set}
    return body


def _endpoints(backends: Backends, credentials: dict[str, str], case: Case) -> list[Endpoint]:
    endpoints = []
    for name in ("slack-only", "console-slack"):
        endpoint = backends.add("slack", name, default=case.default)
        endpoint.answer_with(*case.script)
        credentials[f"slack-{name}"] = endpoint.url
        endpoints.append(endpoint)
    return endpoints


def _simulate(case: Case, seed: int = 1) -> tuple[KubeObject, list[Endpoint]]:
    rig = Rig(routing=ROUTING)
    world = World(seed=seed, reconciler=rig.reconciler)
    endpoints = _endpoints(world.backends, rig.credentials, case)
    world.at(0, lambda: world.client_api.create(NOTIFICATIONS, "default", _body(case)), name="create")
    world.run(until=900)
    return world.server.get(NOTIFICATIONS, "default", case.name), endpoints


def _summary(obj: KubeObject) -> tuple[Any, ...]:
    status = obj["status"]
    return (status["phase"], status["reason"], status["totalAttempts"], status["successfulDeliveries"],
            status["failedDeliveries"])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_simulated_notification_ends_as_specified(case: Case) -> None:
    obj, _ = _simulate(case)
    assert _summary(obj) == (case.phase, case.reason, case.total, case.successful, case.failed)
    assert obj["status"]["completionTime"]


def test_recorded_attempts_of_a_failing_channel_are_spaced_by_the_backoff_lower_bound() -> None:
    obj, _ = _simulate(CASES[3])
    slack = [a for a in obj["status"]["deliveryAttempts"] if a["channel"].startswith("slack")]
    policy = RetryPolicy.from_spec(POLICY)
    for earlier, later in itertools.pairwise(slack):
        low, _ = backoff_bounds(policy, earlier["attempt"])
        assert parse_time(later["timestamp"]) - parse_time(earlier["timestamp"]) >= low


def test_each_backend_request_matches_a_recorded_attempt() -> None:
    obj, endpoints = _simulate(CASES[1])
    received = [(r.channel, r.attempt) for endpoint in endpoints for r in endpoint.received]
    recorded = [(a["channel"], a["attempt"]) for a in obj["status"]["deliveryAttempts"]]
    assert received == recorded


async def _real(case: Case) -> KubeObject:
    return await deliver_on_asyncio(
        _body(case, {**POLICY, "initialBackoffSeconds": 0}), routing=ROUTING, min_backoff=0,
        endpoints=lambda backends, credentials: _endpoints(backends, credentials, case))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_real_asyncio_notification_ends_like_the_simulated_one(case: Case) -> None:
    real = asyncio.run(_real(case))
    simulated, _ = _simulate(case)
    assert _summary(real) == _summary(simulated)


def test_two_replicas_with_leases_send_each_of_20_slack_messages_once_with_valid_fencing() -> None:
    rig = Rig(routing=ROUTING, lock="lease")
    world = World(seed=3, reconciler=rig.reconciler, replicas=2, workers=2,
                  faults={"watch.delay": FaultIntensity(probability=0.8, max_seconds=3.0)})
    slack = world.backends.add("slack", "slack-only")
    rig.credentials["slack-slack-only"] = slack.url
    world.backends.add("slack", "console-slack")
    rig.credentials["slack-console-slack"] = world.backends.endpoints["slack:console-slack"].url
    for i in range(20):
        case = Case(f"n{i:02d}", "slack-only", (), 200, "", "", 0, 0, 0)
        world.at(0.1 * i, lambda case=case: world.client_api.create(NOTIFICATIONS, "default", _body(case)),
                 name=f"create-{i}")
    world.run(until=300)
    assert world.fired["watch.delay"] > 0
    assert sorted(r.notification for r in slack.received) == sorted(
        world.server.get(NOTIFICATIONS, "default", f"n{i:02d}")["metadata"]["uid"] for i in range(20))
    senders = {r.replica for r in slack.received}
    assert senders <= {"replica-0", "replica-1"}
    for receipt in slack.received:
        holder, _, epoch = receipt.fencing_token.partition("@")
        assert holder == receipt.replica and epoch.isdigit()
    for i in range(20):
        status = world.server.get(NOTIFICATIONS, "default", f"n{i:02d}")["status"]
        assert status["phase"] == "Sent" and status["totalAttempts"] == 1
    kinds = [event.event_type for event in rig.audit.events]
    assert kinds.count("notification.message.sent") == 20
    assert kinds.count("notification.message.acknowledged") == 20
