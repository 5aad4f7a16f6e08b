"""Conformance of the fake API server where an object's life ends or is only tried: deletion with finalizers,
DeleteOptions' preconditions, dryRun, creation with a resourceVersion, and garbage collection by owner. Each test
runs on both transports (`cluster`): through the REST layer in process, and over HTTPS. Each cites the
kube-apiserver code whose behaviour it states."""

from __future__ import annotations

import copy
import time
from typing import Any

from notifier import LEASES, NOTIFICATIONS, WatchEvent
from tests.conftest import Cluster, notification

BASE = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
LEASE_BASE = "/apis/coordination.k8s.io/v1/namespaces/default/leases"


def _deleting(cluster: Cluster) -> dict[str, Any]:
    """n1, with a finalizer, after a DELETE."""
    cluster.create({**notification(), "metadata": {"name": "n1", "namespace": "default", "finalizers": ["x/y"]}})
    code, body = cluster.rest("DELETE", f"{BASE}/n1")
    assert code == 200, body
    return body


def test_delete_with_a_finalizer_marks_the_object_as_the_generic_store_does(cluster: Cluster) -> None:
    """`markAsDeleting` (apiserver `registry/generic/registry/store.go`): a deletionTimestamp, a grace period of
    0, the generation bumped (a custom resource has one); a second DELETE changes nothing."""
    marked = _deleting(cluster)
    meta = marked["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 0 and meta["generation"] == 2
    code, again = cluster.rest("DELETE", f"{BASE}/n1")
    assert code == 200 and again["metadata"]["resourceVersion"] == meta["resourceVersion"]


def test_no_new_finalizer_once_deleting(cluster: Cluster) -> None:
    """`ValidateNoNewFinalizers` (apimachinery `api/validation/objectmeta.go`): 422."""
    marked = _deleting(cluster)
    marked["metadata"]["finalizers"] = ["x/y", "a/b"]
    code, body = cluster.rest("PUT", f"{BASE}/n1", marked)
    assert code == 422 and body["reason"] == "Invalid"
    assert ('metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, '
            'found new finalizers []string{"a/b"}') in body["message"]


def test_the_deleted_event_carries_the_object_as_last_stored(cluster: Cluster) -> None:
    """`deleteWithoutFinalizers`: the update that empties the finalizers is never stored; the DELETED event
    carries the last stored object (finalizer and all) at the revision of the delete (etcd3 `watcher.go`)."""
    marked = _deleting(cluster)
    start = marked["metadata"]["resourceVersion"]
    marked["metadata"]["finalizers"] = []
    code, answer = cluster.rest("PUT", f"{BASE}/n1", marked)
    assert code == 200 and answer["metadata"]["resourceVersion"] == start  # the request's object

    async def first() -> WatchEvent:
        async for event in cluster.api.watch(NOTIFICATIONS, "default", start):
            return event
        raise AssertionError("the watch ended")

    event = cluster.run(first())
    assert event.type == "DELETED" and event.object["metadata"]["finalizers"] == ["x/y"]
    assert int(event.object["metadata"]["resourceVersion"]) == int(start) + 1


def test_delete_options_preconditions_are_conflicts(cluster: Cluster) -> None:
    """`rest.BeforeDelete` (apiserver `registry/rest/delete.go`): a uid or resourceVersion that does not match
    the record is a Conflict, and nothing is deleted."""
    created = cluster.create(notification())
    code, body = cluster.rest("DELETE", f"{BASE}/n1", {"preconditions": {"uid": "not-the-uid"}})
    assert code == 409 and "the UID in the precondition (not-the-uid) does not match the UID in record" in \
        body["message"]
    code, body = cluster.rest("DELETE", f"{BASE}/n1", {"preconditions": {"resourceVersion": "1"}})
    assert code == 409 and "the ResourceVersion in the precondition (1) does not match" in body["message"]
    assert cluster.server.get(NOTIFICATIONS, "default", "n1") == created
    code, _ = cluster.rest("DELETE", f"{BASE}/n1", {"preconditions": {"uid": created["metadata"]["uid"]}})
    assert code == 200


def test_dry_run_persists_nothing(cluster: Cluster) -> None:
    """`DryRunnableStorage` (apiserver `registry/generic/registry/dryrun.go`): every check, nothing stored, no
    event; a dry-run create answers with a uid and no resourceVersion."""
    created = cluster.create(notification())
    revision = cluster.server.revision
    code, body = cluster.rest("POST", f"{BASE}?dryRun=All", notification("n2"))
    assert code == 201 and body["metadata"]["uid"] and not body["metadata"].get("resourceVersion")
    changed = copy.deepcopy(created)
    changed["metadata"]["labels"] = {"a": "b"}
    code, body = cluster.rest("PUT", f"{BASE}/n1?dryRun=All", changed)
    assert code == 200 and body["metadata"]["labels"] == {"a": "b"}
    code, _ = cluster.rest("PATCH", f"{BASE}/n1?dryRun=All", {"metadata": {"labels": {"c": "d"}}},
                           "application/merge-patch+json")
    assert code == 200
    code, _ = cluster.rest("DELETE", f"{BASE}/n1", {"dryRun": ["All"]})
    assert code == 200
    assert cluster.server.revision == revision and cluster.server.get(NOTIFICATIONS, "default", "n1") == created
    code, _ = cluster.rest("POST", BASE, notification("n2"))
    assert code == 201  # the dry run took no name, no uid, nothing


def test_an_unknown_dry_run_value_is_invalid(cluster: Cluster) -> None:
    """`ValidateDryRun` (apimachinery `apis/meta/v1/validation`): only `All`."""
    code, body = cluster.rest("POST", f"{BASE}?dryRun=Foo", notification())
    assert code == 422
    assert body["message"] == ('CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Foo"]: '
                               'supported values: "All"')


def test_create_with_a_resource_version_is_refused(cluster: Cluster) -> None:
    """etcd3 `store.Create` returns ErrResourceVersionSetOnCreate, a plain error the handler answers as a 500
    with no reason (`ErrorToAPIStatus`)."""
    body = notification()
    body["metadata"]["resourceVersion"] = "7"
    code, answer = cluster.rest("POST", BASE, body)
    assert code == 500 and answer["message"] == "resourceVersion should not be set on objects to be created"
    code, _ = cluster.rest("GET", f"{BASE}/n1")
    assert code == 404


def test_the_garbage_collector_deletes_what_a_deleted_owner_owned(cluster: Cluster) -> None:
    """The garbage collector (kube-controller-manager `garbagecollector.go`, background propagation): once an
    owner is gone, a dependent that names it by uid is deleted; so is one created after its owner is gone.
    Dependents of an owner that still exists stay."""
    owner = cluster.create(notification())
    kept = cluster.create(notification("n2"))

    def lease(name: str, of: dict[str, Any]) -> dict[str, Any]:
        meta = of["metadata"]
        return {"metadata": {"name": name, "namespace": "default", "ownerReferences": [{
            "apiVersion": of["apiVersion"], "kind": of["kind"], "name": meta["name"], "uid": meta["uid"]}]},
            "spec": {"holderIdentity": "a"}}

    assert cluster.rest("POST", LEASE_BASE, lease("l1", owner))[0] == 201
    assert cluster.rest("POST", LEASE_BASE, lease("l2", kept))[0] == 201
    assert cluster.server.collect_garbage() == 0
    assert cluster.rest("DELETE", f"{BASE}/n1")[0] == 200
    assert cluster.rest("POST", LEASE_BASE, lease("l3", owner))[0] == 201  # its owner is already gone
    assert cluster.server.collect_garbage() == 2
    names = [item["metadata"]["name"] for item in cluster.server.list_objects(LEASES, "default")[0]]
    assert names == ["l2"]


def test_the_https_front_runs_the_garbage_collector_when_asked() -> None:
    """The sandbox's API server collects garbage by itself, as a cluster's controller manager does."""
    from fakes.apiserver import ApiServer, HttpApiServer
    from harness import EPOCH

    server = ApiServer(clock=lambda: EPOCH)
    owner = server.create(NOTIFICATIONS, "default", notification())
    server.create(LEASES, "default", {"metadata": {"name": "l1", "namespace": "default", "ownerReferences": [
        {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": "n1", "uid": owner["metadata"]["uid"]}]},
        "spec": {"holderIdentity": "a"}})
    with HttpApiServer(server, token="t", collect_garbage_every=0.01) as front:
        with front.lock:
            server.delete(NOTIFICATIONS, "default", "n1")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with front.lock:
                if not server.list_objects(LEASES, "default")[0]:
                    return
            time.sleep(0.01)
    raise AssertionError("the Lease of the deleted notification was never collected")


def test_an_update_of_a_lease_that_does_not_exist_creates_it(cluster: Cluster) -> None:
    """The Lease strategy's `AllowCreateOnUpdate` is true (`pkg/registry/coordination/lease/strategy.go`), so the
    generic store's `Update` creates a missing Lease (201 over REST), its system fields wiped first (a
    resourceVersion too: `WipeObjectMetaSystemFields`); a NotificationRequest's does not (404)."""
    leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
    code, body = cluster.rest("PUT", f"{leases}/made-by-put", {"metadata": {"name": "made-by-put"},
                                                                "spec": {"holderIdentity": "a"}})
    assert (code, body["spec"]["holderIdentity"]) == (201, "a") and body["metadata"]["uid"]
    code, body = cluster.rest("PUT", f"{leases}/made-by-put", body)
    assert code == 200
    code, body = cluster.rest("PUT", f"{leases}/versioned", {"metadata": {"name": "versioned", "resourceVersion": "7"},
                                                             "spec": {"holderIdentity": "a"}})
    assert code == 201 and body["metadata"]["resourceVersion"] != "7"
    notifications = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
    assert cluster.rest("PUT", f"{notifications}/n9", notification("n9"))[0] == 404
