"""Clients nobody here wrote, against the sandbox as against a cluster: lightkube (create, every patch type,
apply, a watch with a label selector while labels change) and a small kopf operator (create and delete
handlers, with kopf's finalizer and its annotations)."""

from __future__ import annotations

import asyncio
import base64
import gc
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifier import NOTIFICATIONS, NotFoundError
from tests.conftest import notification
from tests.e2e.conftest import Sandbox, wait_for

lightkube = pytest.importorskip("lightkube")
from lightkube import ApiError, Client, KubeConfig  # noqa: E402
from lightkube.generic_resource import create_namespaced_resource  # noqa: E402
from lightkube.resources.coordination_v1 import Lease  # noqa: E402
from lightkube.types import PatchType  # noqa: E402

Notification = create_namespaced_resource("kubernaut.ai", "v1alpha1", "NotificationRequest", "notificationrequests")


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Iterator[Client]:
    made = Client(config=KubeConfig.from_file(str(sandbox.kubeconfig)), namespace="default",
                  field_manager="lightkube-tests")
    yield made
    made.close()


def _body(name: str, **labels: str) -> dict[str, Any]:
    body = notification(name)
    body["metadata"]["labels"] = labels
    return body


def test_lightkube_creates_and_patches_with_every_type_the_resource_takes(client: Client) -> None:
    created = client.create(Notification.from_dict(_body("lk-patched", team="sre")))
    assert created.metadata.uid and created.metadata.labels == {"team": "sre"}
    merged = client.patch(Notification, "lk-patched", {"metadata": {"labels": {"tier": "1"}}},
                          patch_type=PatchType.MERGE)
    assert merged.metadata.labels == {"team": "sre", "tier": "1"}
    version = merged.metadata.resourceVersion
    patched = client.patch(Notification, "lk-patched", [
        {"op": "test", "path": "/metadata/resourceVersion", "value": version},
        {"op": "remove", "path": "/metadata/labels/tier"}], patch_type=PatchType.JSON)
    assert patched.metadata.labels == {"team": "sre"}
    with pytest.raises(ApiError) as stale:  # the same test again: the version moved on
        client.patch(Notification, "lk-patched", [
            {"op": "test", "path": "/metadata/resourceVersion", "value": version}], patch_type=PatchType.JSON)
    assert stale.value.status.code == 422
    with pytest.raises(ApiError) as unsupported:  # a CustomResource takes no strategic merge patch
        client.patch(Notification, "lk-patched", {"metadata": {"labels": {"x": "1"}}})
    assert unsupported.value.status.code == 415
    lease = client.create(Lease.from_dict({"metadata": {"name": "lk-lease"},
                                           "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}))
    assert lease.spec.holderIdentity == "a"
    strategic = client.patch(Lease, "lk-lease", {"spec": {"holderIdentity": "b"}})  # lightkube's default type
    assert (strategic.spec.holderIdentity, strategic.spec.leaseDurationSeconds) == ("b", 15)


def test_lightkube_applies_server_side_and_meets_a_conflict(client: Client) -> None:
    applied = client.apply(Notification.from_dict(_body("lk-applied", team="sre")))
    managers = {entry.manager: entry.operation for entry in applied.metadata.managedFields}
    assert managers == {"lightkube-tests": "Apply"}
    other = Client(config=client.config, namespace="default", field_manager="someone-else")
    try:
        with pytest.raises(ApiError) as conflict:
            other.apply(Notification.from_dict(_body("lk-applied", team="db")))
        assert conflict.value.status.code == 409
        assert conflict.value.status.message == ('Apply failed with 1 conflict: conflict with "lightkube-tests": '
                                                 '.metadata.labels.team')
        forced = other.apply(Notification.from_dict(_body("lk-applied", team="db")), force=True)
        assert forced.metadata.labels == {"team": "db"}
    finally:
        other.close()


def test_a_lightkube_watch_with_a_label_selector_sees_objects_enter_and_leave_it(client: Client) -> None:
    """Against a real server an object relabelled out of a watch's selector is DELETED, one relabelled into
    it ADDED (the watch cache's `convertToWatchEvent`)."""
    client.create(Notification.from_dict(_body("lk-in", team="watched")))
    client.create(Notification.from_dict(_body("lk-out", team="other")))
    seen: list[tuple[str, str]] = []

    def watch() -> None:
        stream = client.watch(Notification, labels={"team": "watched"}, server_timeout=20)
        try:
            for kind, obj in stream:
                seen.append((kind, obj.metadata.name))
                if len(seen) == 3:
                    return
        finally:
            stream.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    wait_for(lambda: seen, "the watch's first event")
    client.patch(Notification, "lk-in", {"metadata": {"labels": {"team": "gone"}}}, patch_type=PatchType.MERGE)
    client.patch(Notification, "lk-out", {"metadata": {"labels": {"team": "watched"}}}, patch_type=PatchType.MERGE)
    watcher.join(20)
    assert seen == [("ADDED", "lk-in"), ("DELETED", "lk-in"), ("ADDED", "lk-out")]


# -- kopf -----------------------------------------------------------------------------------------------------

kopf = pytest.importorskip("kopf")
FINALIZER = "notifier-sim.test/kopf"
KOPF_LABELS = {"handled-by": "kopf"}


@pytest.fixture(scope="module")
def operator(sandbox: Sandbox) -> Iterator[dict[str, list[str]]]:
    """A kopf operator with create and delete handlers for NotificationRequests, run in its own thread.

    Accepted differences from a cluster: kopf posts its own log as core/v1 Events, which this server does
    not serve (the controller writes events.k8s.io/v1 ones), so posting is off; and peering is standalone,
    as the kopf.dev peering CRDs are not installed (as in most clusters)."""
    config = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    registry = kopf.OperatorRegistry()
    handled: dict[str, list[str]] = {"created": [], "deleted": []}

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> Any:
        return kopf.ConnectionInfo(server=config["clusters"][0]["cluster"]["server"], ca_data=ca,
                                   scheme="Bearer", token=config["users"][0]["user"]["token"])

    # (only what is labelled for it: the lightkube tests beside it must not see kopf's writes)
    @kopf.on.create("kubernaut.ai", "v1alpha1", "notificationrequests", registry=registry, labels=KOPF_LABELS)
    def created(name: str, **_: Any) -> None:
        handled["created"].append(name)

    @kopf.on.delete("kubernaut.ai", "v1alpha1", "notificationrequests", registry=registry, labels=KOPF_LABELS)
    def deleted(name: str, **_: Any) -> None:
        handled["deleted"].append(name)

    settings = kopf.OperatorSettings()
    settings.peering.standalone = True
    settings.persistence.finalizer = FINALIZER
    settings.posting.enabled = False
    settings.scanning.disabled = True
    loop = asyncio.new_event_loop()
    stop: asyncio.Event | None = None

    def run() -> None:
        nonlocal stop
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        loop.run_until_complete(kopf.operator(registry=registry, settings=settings, stop_flag=stop,
                                              namespaces=["default"]))

    thread = threading.Thread(target=run, name="kopf", daemon=True)
    thread.start()
    try:
        yield handled
    finally:
        if stop is not None:
            loop.call_soon_threadsafe(stop.set)
        thread.join(15)
        loop.run_until_complete(asyncio.sleep(0.25))  # the closed sessions' transports finish closing
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        with warnings.catch_warnings():
            # What kopf's aiohttp sessions leave when they stop, collected here rather than in a later test.
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def test_a_kopf_operator_handles_create_and_delete_with_its_finalizer(sandbox: Sandbox,
                                                                     operator: dict[str, list[str]]) -> None:
    """kopf adds its finalizer (a JSON patch with a `test` on the resourceVersion), runs the create handler on
    the next event and records the configuration it handled in an annotation; on delete the object stays,
    marked, until the delete handler ran and kopf removed its finalizer."""
    api = sandbox.api()
    asyncio.run(api.create(NOTIFICATIONS, "default", _body("kopf-handled", **KOPF_LABELS)))
    wait_for(lambda: "kopf-handled" in operator["created"], "kopf's create handler", within=30)

    def current() -> dict[str, Any]:
        return asyncio.run(api.get(NOTIFICATIONS, "default", "kopf-handled"))

    meta = wait_for(lambda: (m := current()["metadata"]).get("annotations", {}).get(
        "kopf.zalando.org/last-handled-configuration") and m, "kopf's annotation")
    assert FINALIZER in meta["finalizers"]
    asyncio.run(api.delete(NOTIFICATIONS, "default", "kopf-handled"))
    wait_for(lambda: "kopf-handled" in operator["deleted"], "kopf's delete handler", within=30)

    def gone() -> bool:
        try:
            current()
        except NotFoundError:
            return True
        return False

    wait_for(gone, "the object to go once kopf removed its finalizer")
