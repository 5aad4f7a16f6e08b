"""Server-side apply on both transports: ownership of fields, conflicts, force, and what an apply removes."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import Cluster, notification

BASE = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
APPLY = "application/apply-patch+yaml"


def _apply(cluster: Cluster, manager: str, labels: dict[str, str], *, force: bool = False,
           name: str = "n1") -> tuple[int, Any]:
    body = notification(name)
    body["metadata"]["labels"] = labels
    query = f"?fieldManager={manager}" + ("&force=true" if force else "")
    return cluster.rest("PATCH", f"{BASE}/{name}{query}", yaml.safe_dump(body).encode(), content_type=APPLY)


def _owners(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {(e["manager"]): e for e in body["metadata"]["managedFields"]}


def test_an_apply_creates_the_object_and_owns_the_fields_it_names(cluster: Cluster) -> None:
    """`application/apply-patch+yaml` creates what does not exist (201) and records the applier's fields in
    `managedFields` (`FieldsV1`), never apiVersion, kind, name or namespace."""
    code, body = _apply(cluster, "ops", {"team": "sre"})
    assert code == 201 and body["metadata"]["labels"] == {"team": "sre"}
    entry = _owners(body)["ops"]
    assert (entry["operation"], entry["apiVersion"], entry["fieldsType"]) == ("Apply", "kubernaut.ai/v1alpha1",
                                                                             "FieldsV1")
    assert entry["fieldsV1"]["f:metadata"] == {"f:labels": {".": {}, "f:team": {}}}
    assert "f:subject" in entry["fieldsV1"]["f:spec"] and "f:apiVersion" not in entry["fieldsV1"]


def test_changing_another_appliers_field_is_a_conflict_unless_forced(cluster: Cluster) -> None:
    """structured-merge-diff's conflicts, worded by `NewConflictError`: 409 with a `FieldManagerConflict`
    cause per field; the same value is shared ownership, not a conflict; `force` takes the field over."""
    _apply(cluster, "ops", {"team": "sre"})
    code, body = _apply(cluster, "dev", {"team": "sre"})
    assert code == 200 and {"ops", "dev"} <= set(_owners(body))
    code, body = _apply(cluster, "dev", {"team": "db"})
    assert (code, body["reason"]) == (409, "Conflict")
    assert body["message"] == 'Apply failed with 1 conflict: conflict with "ops": .metadata.labels.team'
    assert body["details"]["causes"] == [{"reason": "FieldManagerConflict", "message": 'conflict with "ops"',
                                          "field": ".metadata.labels.team"}]
    code, body = _apply(cluster, "dev", {"team": "db"}, force=True)
    assert code == 200 and body["metadata"]["labels"] == {"team": "db"}
    assert "f:team" not in _owners(body)["ops"]["fieldsV1"].get("f:metadata", {}).get("f:labels", {})


def test_a_field_an_applier_stops_naming_is_removed_unless_another_owns_it(cluster: Cluster) -> None:
    _apply(cluster, "ops", {"team": "sre", "tier": "1", "zone": "a"})
    _apply(cluster, "dev", {"zone": "a"})
    code, body = _apply(cluster, "ops", {"team": "sre"})
    assert code == 200 and body["metadata"]["labels"] == {"team": "sre", "zone": "a"}


def test_an_update_takes_the_fields_it_changes_and_an_apply_then_conflicts_with_it(cluster: Cluster) -> None:
    """A create, update or patch of another kind makes its manager own what it changed (operation Update):
    a later apply that would change it conflicts with that manager, named with its apiVersion and time."""
    _apply(cluster, "ops", {"team": "sre"})
    code, body = cluster.rest("PATCH", f"{BASE}/n1?fieldManager=editor", {"metadata": {"labels": {"team": "web"}}},
                              content_type="application/merge-patch+json")
    assert code == 200 and _owners(body)["editor"]["operation"] == "Update"
    code, body = _apply(cluster, "ops", {"team": "sre"})
    assert code == 409
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "editor" using kubernaut.ai/v1alpha1 '
                               'at 2026-01-01T00:00:00Z: .metadata.labels.team')


def test_an_apply_without_a_field_manager_is_invalid(cluster: Cluster) -> None:
    body = yaml.safe_dump(notification()).encode()
    code, answer = cluster.rest("PATCH", f"{BASE}/n1", body, content_type=APPLY)
    assert (code, answer["message"]) == (422, ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                                              'value: is required for apply patch'))


def test_a_write_that_changes_nothing_keeps_the_resource_version(cluster: Cluster) -> None:
    """A no-op update, merge patch or apply stores nothing (no new resourceVersion, no event): its manager's
    entry keeps its time rather than moving it, even when the clock moved."""
    code, body = _apply(cluster, "ops", {"team": "sre"})
    version = body["metadata"]["resourceVersion"]
    cluster.advance(60)
    assert _apply(cluster, "ops", {"team": "sre"})[1]["metadata"]["resourceVersion"] == version
    code, body = cluster.rest("PUT", f"{BASE}/n1", body)
    assert code == 200 and body["metadata"]["resourceVersion"] == version
    code, body = cluster.rest("PATCH", f"{BASE}/n1", {}, content_type="application/merge-patch+json")
    assert code == 200 and body["metadata"]["resourceVersion"] == version


def test_an_apply_that_fills_a_map_it_left_empty_keeps_what_it_put_there(cluster: Cluster) -> None:
    _apply(cluster, "ops", {})
    code, body = _apply(cluster, "ops", {"team": "sre"})
    assert code == 200 and body["metadata"]["labels"] == {"team": "sre"}


def test_an_apply_to_the_status_of_nothing_is_not_found(cluster: Cluster) -> None:
    body = yaml.safe_dump({**notification("ghost"), "status": {"phase": "Pending"}}).encode()
    code, answer = cluster.rest("PATCH", f"{BASE}/ghost/status?fieldManager=ops", body, content_type=APPLY)
    assert (code, answer["reason"]) == (404, "NotFound")
