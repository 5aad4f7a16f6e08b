"""Patch types beyond the merge patch, on both transports: JSON patch (with `test`), strategic merge patch for
the built-in types, and the 415 a CustomResource answers to the latter."""

from __future__ import annotations

from typing import Any

from tests.conftest import Cluster, notification

BASE = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
LEASES = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
JSON = "application/json-patch+json"
SMP = "application/strategic-merge-patch+json"


def _json_patch(cluster: Cluster, target: str, *ops: dict[str, Any]) -> tuple[int, Any]:
    return cluster.rest("PATCH", target, list(ops), content_type=JSON)


def test_a_json_patch_applies_its_operations_in_order(cluster: Cluster) -> None:
    cluster.create(notification())
    code, body = _json_patch(cluster, f"{BASE}/n1",
                             {"op": "add", "path": "/metadata/labels", "value": {"team": "sre"}},
                             {"op": "add", "path": "/metadata/labels/tier", "value": "1"},
                             {"op": "remove", "path": "/metadata/labels/team"},
                             {"op": "copy", "from": "/metadata/labels/tier", "path": "/metadata/labels/copy"})
    assert code == 200 and body["metadata"]["labels"] == {"tier": "1", "copy": "1"}


def test_a_json_patch_test_is_a_compare_and_swap(cluster: Cluster) -> None:
    """A failed `test` (or any operation that cannot apply) is a 422 in `NewGenericServerResponse`'s words and
    nothing else (apiserver `handlers/patch.go` `applyJSPatch`); nothing is written."""
    created = cluster.create(notification())
    version = created["metadata"]["resourceVersion"]
    cluster.rest("PATCH", f"{BASE}/n1", {"metadata": {"labels": {"a": "1"}}},
                 content_type="application/merge-patch+json")
    stale = ({"op": "test", "path": "/metadata/resourceVersion", "value": version},
             {"op": "add", "path": "/metadata/labels/b", "value": "2"})
    code, body = _json_patch(cluster, f"{BASE}/n1", *stale)
    assert (code, body["reason"], body["message"]) == (
        422, "Invalid", "the server rejected our request due to an error in our request")
    current = cluster.rest("GET", f"{BASE}/n1")[1]["metadata"]
    assert current["labels"] == {"a": "1"}
    fresh = ({"op": "test", "path": "/metadata/resourceVersion", "value": current["resourceVersion"]}, stale[1])
    code, body = _json_patch(cluster, f"{BASE}/n1", *fresh)
    assert code == 200 and body["metadata"]["labels"] == {"a": "1", "b": "2"}
    code, _ = _json_patch(cluster, f"{BASE}/n1", {"op": "remove", "path": "/metadata/labels/none"})
    assert code == 422


def test_a_json_patch_that_sets_a_resource_version_makes_it_a_precondition(cluster: Cluster) -> None:
    created = cluster.create(notification())
    cluster.rest("PATCH", f"{BASE}/n1", {"metadata": {"labels": {"a": "1"}}},
                 content_type="application/merge-patch+json")
    code, body = _json_patch(cluster, f"{BASE}/n1",
                             {"op": "replace", "path": "/metadata/resourceVersion",
                              "value": created["metadata"]["resourceVersion"]},
                             {"op": "add", "path": "/metadata/labels/b", "value": "2"})
    assert (code, body["reason"]) == (409, "Conflict")


def test_a_json_patch_that_does_not_decode_is_a_bad_request(cluster: Cluster) -> None:
    cluster.create(notification())
    assert cluster.rest("PATCH", f"{BASE}/n1", {"op": "add"}, content_type=JSON)[0] == 400
    assert _json_patch(cluster, f"{BASE}/n1", {"op": "frobnicate", "path": "/spec"})[0] == 400


def test_a_json_patch_of_the_status_subresource_changes_the_status_alone(cluster: Cluster) -> None:
    cluster.create(notification())
    code, body = _json_patch(cluster, f"{BASE}/n1/status",
                             {"op": "add", "path": "/status", "value": {"phase": "Pending"}},
                             {"op": "add", "path": "/metadata/labels", "value": {"ignored": "yes"}})
    assert code == 200 and body["status"]["phase"] == "Pending" and "labels" not in body["metadata"]


def test_a_custom_resource_refuses_a_strategic_merge_patch(cluster: Cluster) -> None:
    """apiextensions serves no strategic merge patch for CustomResources: a 415 naming what it accepts
    (`negotiation.NewUnsupportedMediaTypeError`)."""
    cluster.create(notification())
    code, body = cluster.rest("PATCH", f"{BASE}/n1", {"metadata": {"labels": {"a": "1"}}}, content_type=SMP)
    assert (code, body["reason"]) == (415, "UnsupportedMediaType")
    assert body["message"] == ("the body of the request was in an unknown format - accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json, "
                               "application/apply-patch+yaml")


def test_a_strategic_merge_patch_of_a_lease_merges_sets_and_keyed_lists(cluster: Cluster) -> None:
    """`util/strategicpatch`: `finalizers` is a set, `ownerReferences` merge by `uid`, `$patch: delete` and
    `$deleteFromPrimitiveList/` remove, other fields merge as a merge patch would."""
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "a", "uid": "u-a"}
    code, _ = cluster.rest("POST", LEASES, {"metadata": {"name": "l1", "finalizers": ["x/one"],
                                                         "ownerReferences": [owner]},
                                            "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}})
    assert code == 201
    code, body = cluster.rest("PATCH", f"{LEASES}/l1", {
        "metadata": {"finalizers": ["x/two"], "ownerReferences": [
            {"uid": "u-a", "name": "a-renamed", "apiVersion": "v1", "kind": "ConfigMap"},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "b", "uid": "u-b"}]},
        "spec": {"holderIdentity": "b"}}, content_type=SMP)
    assert code == 200
    assert body["metadata"]["finalizers"] == ["x/one", "x/two"]
    assert [(r["uid"], r["name"]) for r in body["metadata"]["ownerReferences"]] == [("u-a", "a-renamed"),
                                                                                  ("u-b", "b")]
    assert body["spec"] == {"holderIdentity": "b", "leaseDurationSeconds": 15}
    code, body = cluster.rest("PATCH", f"{LEASES}/l1", {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["x/one"],
                     "ownerReferences": [{"uid": "u-a", "$patch": "delete"}]}}, content_type=SMP)
    assert code == 200 and body["metadata"]["finalizers"] == ["x/two"]
    assert [r["uid"] for r in body["metadata"]["ownerReferences"]] == ["u-b"]


def test_a_patch_may_not_move_the_object_to_another_name(cluster: Cluster) -> None:
    """`checkName` (apiserver `handlers/rest.go`): the patched object must keep the name in the URL."""
    cluster.create(notification())
    code, body = _json_patch(cluster, f"{BASE}/n1", {"op": "replace", "path": "/metadata/name", "value": "n2"})
    assert (code, body["message"]) == (400, "the name of the object (n2) does not match the name on the URL (n1)")
    assert cluster.rest("GET", f"{BASE}/n2")[0] == 404
    code, _ = cluster.rest("PATCH", f"{BASE}/n1", {"metadata": {"name": "n3"}},
                           content_type="application/merge-patch+json")
    assert code == 400
