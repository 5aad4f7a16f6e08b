"""Catalogue E and F (spec 7.2): CRD lifecycle and validation, rapid create/delete, in virtual time."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from harness._simfixture import Sim
from notifier import NOTIFICATIONS, AlreadyExistsError, InvalidError, NotFoundError
from tests.conftest import Cluster, notification
from tests.sim.catalogue._kit import deliver


def later(delay: float, action: Any) -> Any:
    def prepare(world: Any) -> None:
        world.at(delay, lambda: action(world), name=f"scripted@{delay}")
    return prepare


async def delete(world: Any, name: str = "alert") -> None:
    with contextlib.suppress(NotFoundError):
        await world.client_api.delete(NOTIFICATIONS, "default", name)


def test_minimal_required_fields_round_trip(sim: Sim) -> None:
    """7.2 E23: should create NotificationRequest with minimal required fields (type, priority, subject, body)."""
    spec = deliver(sim).object("alert")["spec"]
    assert (spec["type"], spec["priority"], spec["subject"], spec["body"]) == (
        "Simple", "High", "disk pressure on node-1", "node-1 disk usage is 95%")


def test_all_optional_fields_are_persisted(cluster: Cluster) -> None:
    """7.2 E24: should create NotificationRequest with all optional fields (labels, context, links, policy)."""
    body = notification(context={"lineage": {"remediationRequest": "rr-1"}}, retentionDays=14,
                        retryPolicy={"maxAttempts": 5, "initialBackoffSeconds": 30, "backoffMultiplier": 2,
                                     "maxBackoffSeconds": 480},
                        actionLinks=[{"service": "grafana", "url": "https://g"}, {"service": "prometheus", "url": "https://p"}])
    body["metadata"].update(labels={"team": "sre"}, annotations={"note": "x"})
    stored = cluster.create(body)
    assert stored["spec"]["retentionDays"] == 14 and len(stored["spec"]["actionLinks"]) == 2
    assert stored["metadata"]["labels"] == {"team": "sre"} and stored["spec"]["context"]["lineage"]


def test_status_is_initialised_on_first_reconcile(sim: Sim) -> None:
    """7.2 E25: should initialize NotificationRequest status on first reconciliation."""
    run = deliver(sim)
    status = run.status("alert")
    assert (status["reason"], status["totalAttempts"]) == ("AllDeliveriesSucceeded", 1)
    assert "Successfully delivered to 1 channel" in status["message"]
    assert [(a["channel"], a["status"]) for a in status["deliveryAttempts"]] == [("console", "success")]


def test_omitted_optional_fields_are_accepted(sim: Sim) -> None:
    """7.2 E26: should accept NotificationRequest with optional fields omitted (BR-NOT-065)."""
    assert deliver(sim).status("alert")["phase"] == "Sent"


@pytest.mark.parametrize("name", ["Bad_Name", "-lead", "x" * 254])
def test_invalid_names_are_rejected(cluster: Cluster, name: str) -> None:
    """7.2 E27: should validate NotificationRequest name follows DNS-1123 subdomain rules."""
    with pytest.raises(InvalidError) as caught:
        cluster.create(notification(name=name))
    assert [cause["field"] for cause in caught.value.causes()] == ["metadata.name"]


def test_a_63_character_name_is_accepted(sim: Sim) -> None:
    """7.2 E28: should accept NotificationRequest with 63-character name (DNS-1123 label limit)."""
    run = deliver(sim, name="a" * 63)
    assert run.status("a" * 63)["phase"] == "Sent"


def test_reconciliation_starts_immediately_after_creation(sim: Sim) -> None:
    """7.2 E29: should trigger reconciliation loop immediately after CRD creation (phase in < 5 s)."""
    assert deliver(sim).completed_after("alert") < 5


def test_status_updates_survive_conflicting_writers(sim: Sim) -> None:
    """7.2 E30: should retry status updates on transient K8s API failures (injected conflicts and errors)."""
    run = deliver(sim, faults={"api.conflict": {"probability": 0.5}, "api.error": {"probability": 0.2}})
    assert run.status("alert")["phase"] == "Sent"


def test_deletion_during_delivery_is_handled(sim: Sim) -> None:
    """7.2 E31: should handle CRD deletion gracefully during active delivery: NotFound eventually, no crash."""
    run = deliver(sim, "slack-only", slack={"status": 200, "latency": 2.0}, prepare=later(1.0, delete))
    with pytest.raises(NotFoundError):
        run.object("alert")


def test_spec_updates_are_rejected_after_sent(sim: Sim) -> None:
    """7.2 E32: should reject spec updates with a validation error (DD-NOT-005); the spec is unchanged."""
    errors: list[str] = []

    async def update(world: Any) -> None:
        obj = await world.client_api.get(NOTIFICATIONS, "default", "alert")
        obj["spec"]["subject"] = "changed"
        try:
            await world.client_api.update(NOTIFICATIONS, "default", obj)
        except InvalidError as error:
            errors.append(error.message)

    run = deliver(sim, prepare=later(10.0, update))
    assert errors and "spec is immutable" in errors[0]
    assert run.object("alert")["spec"]["subject"] == "disk pressure on node-1"


def test_deletion_before_the_first_reconcile(sim: Sim) -> None:
    """7.2 E33: should handle deletion before first reconciliation: NotFound."""
    run = deliver(sim, start=1.0, prepare=later(1.0, delete))
    with pytest.raises(NotFoundError):
        run.object("alert")


def test_rapid_create_delete_cycles_do_not_duplicate_deliveries(sim: Sim) -> None:
    """7.2 F34: should handle rapid create-delete cycles without duplicate deliveries (<= 1 per cycle)."""
    async def cycles(world: Any) -> None:
        from harness import notification_body as _body
        from harness._scenario import NotificationSpec

        for _ in range(5):
            body = _body(NotificationSpec(name="alert", channels="slack-only"), "alert")
            with contextlib.suppress(AlreadyExistsError):
                await world.client_api.create(NOTIFICATIONS, "default", body)
            await world.client.sleep(0.3)
            await delete(world)
            await world.client.sleep(0.3)

    run = deliver(sim, "slack-only", start=100.0, prepare=later(0.0, cycles))
    receipts = run.world.backends.receipts()
    assert len(receipts) <= 6 and len({r.notification for r in receipts}) == len(receipts)


def test_concurrent_creates_and_deletes_on_different_objects(sim: Sim) -> None:
    """7.2 F37: should handle concurrent create-delete operations on different CRDs; all cleaned up."""
    async def delete_all(world: Any) -> None:
        for i in range(10):
            await delete(world, f"alert-{i:02d}")

    run = deliver(sim, count=10, every=0.05, prepare=later(1.0, delete_all))
    assert run.world.server.list_objects(NOTIFICATIONS, "default")[0] == []


def test_create_delete_create_with_the_same_name(sim: Sim) -> None:
    """7.2 F35: should handle rapid create-delete-create with the same CRD name: each is its own notification."""
    async def recreate(world: Any) -> None:
        from harness import notification_body as _body
        from harness._scenario import NotificationSpec

        await delete(world)
        await world.client_api.create(NOTIFICATIONS, "default",
                                      _body(NotificationSpec(name="alert", channels="slack-only"), "alert"))

    run = deliver(sim, "slack-only", prepare=later(5.0, recreate))
    uids = {r.notification for r in run.world.backends.receipts()}
    assert len(uids) == 2 and len(run.world.backends.receipts()) == 2
    assert run.status("alert")["phase"] == "Sent"


def test_extremely_rapid_create_delete_leaves_nothing(sim: Sim) -> None:
    """7.2 F36: should handle extremely rapid create-delete (stress): no notification remains."""
    async def churn(world: Any) -> None:
        from harness import notification_body as _body
        from harness._scenario import NotificationSpec

        for i in range(20):
            await world.client_api.create(NOTIFICATIONS, "default",
                                          _body(NotificationSpec(name="churn"), f"churn-{i:02d}"))
            await delete(world, f"churn-{i:02d}")

    run = deliver(sim, prepare=later(0.5, churn))
    left = [o["metadata"]["name"] for o in run.world.server.list_objects(NOTIFICATIONS, "default")[0]]
    assert left == ["alert"]
