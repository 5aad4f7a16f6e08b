"""Conformance of the fake API server to Kubernetes API machinery, through the `KubeApi` port."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from notifier import (
    EVENTS,
    LEASES,
    NOTIFICATIONS,
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    GoneError,
    InvalidError,
    KubeApi,
    KubeObject,
    NotFoundError,
    WatchEvent,
)
from tests.conftest import Cluster, notification


async def _collect(
    api: KubeApi, resource_version: str, count: int, namespace: str | None = "default"
) -> list[WatchEvent]:
    events: list[WatchEvent] = []
    async for event in api.watch(NOTIFICATIONS, namespace, resource_version):
        events.append(event)
        if len(events) == count:
            break
    return events


def _invalid(cluster: Cluster, body: KubeObject) -> InvalidError:
    with pytest.raises(InvalidError) as caught:
        cluster.create(body)
    return caught.value


def _lease(name: str = "l1", holder: str = "a") -> KubeObject:
    return {"metadata": {"name": name, "namespace": "default"}, "spec": {"holderIdentity": holder}}


# -- create and metadata -------------------------------------------------------------------------


def test_create_assigns_uid_creation_timestamp_generation_and_resource_version(cluster: Cluster) -> None:
    created = cluster.create(notification())
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] == "2026-01-01T00:00:00Z"
    assert meta["generation"] == 1
    # A new store is at etcd's first revision, 1 (mvcc `NewStore`), so the first write is revision 2.
    assert meta["resourceVersion"] == "2"


def test_an_empty_store_lists_a_version_that_a_watch_resumes_from(cluster: Cluster) -> None:
    """A list of an empty store answers etcd's first revision, never "0" (which a watch reads as "any version"
    and answers with synthetic ADDED events in key order): a reflector that listed nothing, then watched, and
    was cut off after its first event, resumes from that event and misses none of the others."""
    listed = cluster.run(cluster.api.list(NOTIFICATIONS, "default"))
    assert listed.resource_version == "1"
    for name in ("c", "b", "a"):  # created against key order
        cluster.create(notification(name))
    first = cluster.run(_collect(cluster.api, listed.resource_version, 1))
    rest = cluster.run(_collect(cluster.api, first[0].object["metadata"]["resourceVersion"], 2))
    assert [e.object["metadata"]["name"] for e in first + rest] == ["c", "b", "a"]


def test_create_ignores_status_in_the_body(cluster: Cluster) -> None:
    body = notification()
    body["status"] = {"phase": "Sent"}
    assert "status" not in cluster.create(body)


def test_create_twice_is_already_exists(cluster: Cluster) -> None:
    cluster.create(notification())
    with pytest.raises(AlreadyExistsError) as caught:
        cluster.create(notification())
    assert caught.value.code == 409 and caught.value.reason == "AlreadyExists"


def test_same_name_in_another_namespace_is_another_object(cluster: Cluster) -> None:
    cluster.create(notification(namespace="a"))
    assert cluster.create(notification(namespace="b"))["metadata"]["namespace"] == "b"


def test_create_with_generate_name_gets_a_unique_name(cluster: Cluster) -> None:
    body = notification()
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "alert-"
    first = cluster.create(body)["metadata"]["name"]
    second = cluster.create(body)["metadata"]["name"]
    assert first.startswith("alert-") and second.startswith("alert-") and first != second


def test_create_with_mismatched_namespace_is_bad_request(cluster: Cluster) -> None:
    body = notification(namespace="other")
    with pytest.raises(BadRequestError):
        cluster.run(cluster.api.create(NOTIFICATIONS, "default", body))


def test_uids_differ_between_objects(cluster: Cluster) -> None:
    a = cluster.create(notification("a"))["metadata"]["uid"]
    b = cluster.create(notification("b"))["metadata"]["uid"]
    assert a != b


def test_resource_versions_increase_across_all_objects(cluster: Cluster) -> None:
    versions = [int(cluster.create(notification(f"n{i}"))["metadata"]["resourceVersion"]) for i in range(4)]
    assert versions == sorted(versions) and len(set(versions)) == 4


# -- get and list --------------------------------------------------------------------------------


def test_get_missing_object_is_not_found(cluster: Cluster) -> None:
    with pytest.raises(NotFoundError) as caught:
        cluster.run(cluster.api.get(NOTIFICATIONS, "default", "nope"))
    assert caught.value.code == 404 and '"nope" not found' in caught.value.message


def test_get_returns_a_copy_that_callers_may_mutate(cluster: Cluster) -> None:
    cluster.create(notification())
    first = cluster.run(cluster.api.get(NOTIFICATIONS, "default", "n1"))
    first["spec"]["subject"] = "changed locally"
    again = cluster.run(cluster.api.get(NOTIFICATIONS, "default", "n1"))
    assert again["spec"]["subject"] == "disk full"


def test_list_returns_items_of_one_namespace_and_the_current_version(cluster: Cluster) -> None:
    cluster.create(notification("a", namespace="x"))
    cluster.create(notification("b", namespace="y"))
    listed = cluster.run(cluster.api.list(NOTIFICATIONS, "x"))
    assert [item["metadata"]["name"] for item in listed.items] == ["a"]
    assert listed.resource_version == "3"


def test_list_of_all_namespaces_is_sorted_by_namespace_and_name(cluster: Cluster) -> None:
    for ns, name in [("b", "z"), ("a", "y"), ("a", "x")]:
        cluster.create(notification(name, namespace=ns))
    listed = cluster.run(cluster.api.list(NOTIFICATIONS, None))
    assert [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in listed.items] == [
        ("a", "x"), ("a", "y"), ("b", "z")]


# -- update, status subresource, generation ------------------------------------------------------


def test_update_status_with_stale_resource_version_is_conflict(cluster: Cluster) -> None:
    created = cluster.create(notification())
    fresh = copy.deepcopy(created)
    fresh["status"] = {"phase": "Pending"}
    cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", fresh))
    stale = copy.deepcopy(created)
    stale["status"] = {"phase": "Sending"}
    with pytest.raises(ConflictError) as caught:
        cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", stale))
    assert caught.value.code == 409 and "the object has been modified" in caught.value.message


def test_status_change_does_not_bump_generation(cluster: Cluster) -> None:
    created = cluster.create(notification())
    created["status"] = {"phase": "Pending"}
    written = cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", created))
    assert written["metadata"]["generation"] == 1
    assert written["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]


def test_spec_change_bumps_generation(cluster: Cluster) -> None:
    cluster.server.register(NOTIFICATIONS, _mutable_spec_rules(cluster))
    created = cluster.create(notification())
    created["spec"]["subject"] = "disk fuller"
    written = cluster.run(cluster.api.update(NOTIFICATIONS, "default", created))
    assert written["metadata"]["generation"] == 2


def test_metadata_change_does_not_bump_generation(cluster: Cluster) -> None:
    created = cluster.create(notification())
    created["metadata"]["labels"] = {"team": "sre"}
    written = cluster.run(cluster.api.update(NOTIFICATIONS, "default", created))
    assert written["metadata"]["generation"] == 1 and written["metadata"]["labels"] == {"team": "sre"}


def test_update_ignores_status(cluster: Cluster) -> None:
    created = cluster.create(notification())
    created["status"] = {"phase": "Sent"}
    created["metadata"]["labels"] = {"a": "b"}
    written = cluster.run(cluster.api.update(NOTIFICATIONS, "default", created))
    assert "status" not in written


def test_update_status_ignores_spec_and_metadata(cluster: Cluster) -> None:
    created = cluster.create(notification())
    created["spec"]["subject"] = "sneaky"
    created["metadata"]["labels"] = {"sneaky": "yes"}
    created["status"] = {"phase": "Pending"}
    written = cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", created))
    assert written["spec"]["subject"] == "disk full"
    assert "labels" not in written["metadata"]
    assert written["status"] == {"phase": "Pending"}


def test_update_without_resource_version_is_invalid_for_custom_resources(cluster: Cluster) -> None:
    created = cluster.create(notification())
    del created["metadata"]["resourceVersion"]
    created["metadata"]["labels"] = {"a": "b"}
    with pytest.raises(InvalidError, match=r"metadata\.resourceVersion"):
        cluster.run(cluster.api.update(NOTIFICATIONS, "default", created))


def test_update_of_missing_object_is_not_found(cluster: Cluster) -> None:
    body = notification()
    body["metadata"]["resourceVersion"] = "1"
    with pytest.raises(NotFoundError):
        cluster.run(cluster.api.update(NOTIFICATIONS, "default", body))


def test_noop_update_keeps_the_resource_version(cluster: Cluster) -> None:
    created = cluster.create(notification())
    written = cluster.run(cluster.api.update(NOTIFICATIONS, "default", copy.deepcopy(created)))
    assert written["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_update_cannot_change_the_creation_timestamp(cluster: Cluster) -> None:
    created = cluster.create(notification())
    body = copy.deepcopy(created)
    body["metadata"]["creationTimestamp"] = "1999-01-01T00:00:00Z"
    body["metadata"]["labels"] = {"x": "y"}
    written = cluster.run(cluster.api.update(NOTIFICATIONS, "default", body))
    assert written["metadata"]["uid"] == created["metadata"]["uid"]
    assert written["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]


@pytest.mark.parametrize("status", [False, True])
def test_a_uid_in_an_update_is_a_precondition(cluster: Cluster, status: bool) -> None:
    """`defaultUpdatedObjectInfo.Preconditions` (apiserver `registry/rest/update.go`) makes a uid in the body a
    storage precondition, checked before the resourceVersion: an update meant for an object deleted and
    created again under its name is a Conflict, never a write to the new one."""
    created = cluster.create(notification())
    body = copy.deepcopy(created)
    body["metadata"]["uid"] = "0b5e7c1e-0000-4000-8000-000000000000"
    body["status"] = {"phase": "Sending"}
    with pytest.raises(ConflictError) as caught:
        cluster.run((cluster.api.update_status if status else cluster.api.update)(NOTIFICATIONS, "default", body))
    assert "Precondition failed: UID in precondition" in caught.value.message  # (the port cuts at 256)
    assert cluster.server.get(NOTIFICATIONS, "default", "n1") == created


def test_an_unconditional_update_of_a_lease_is_invalid(cluster: Cluster) -> None:
    """The Lease strategy's `AllowUnconditionalUpdate` is false (`pkg/registry/coordination/lease/strategy.go`),
    so `Store.Update` refuses a Lease without a resourceVersion: 422."""
    cluster.run(cluster.api.create(LEASES, "default", _lease()))
    with pytest.raises(InvalidError) as caught:
        cluster.run(cluster.api.update(LEASES, "default", _lease(holder="b")))
    assert "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update" in caught.value.message


def test_lease_update_with_stale_version_is_conflict(cluster: Cluster) -> None:
    created = cluster.run(cluster.api.create(LEASES, "default", _lease()))
    newer = copy.deepcopy(created)
    newer["spec"]["holderIdentity"] = "b"
    cluster.run(cluster.api.update(LEASES, "default", newer))
    created["spec"]["holderIdentity"] = "c"
    with pytest.raises(ConflictError):
        cluster.run(cluster.api.update(LEASES, "default", created))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("leaseDurationSeconds", 0, "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"),
    ("leaseTransitions", -1, "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"),
])
def test_a_lease_is_validated(cluster: Cluster, field: str, value: int, message: str) -> None:
    """`ValidateLeaseSpec` (`pkg/apis/coordination/validation/validation.go`)."""
    body = _lease()
    body["spec"][field] = value
    with pytest.raises(InvalidError) as caught:
        cluster.run(cluster.api.create(LEASES, "default", body))
    assert message in caught.value.message


def test_a_lease_time_that_is_no_micro_time_is_a_bad_request(cluster: Cluster) -> None:
    """A MicroTime that does not parse fails while the body is decoded (`transformDecodeError`): 400."""
    body = _lease()
    body["spec"]["renewTime"] = "2026-01-01T00:00:00Z"  # metav1.Time's form, not MicroTime's
    with pytest.raises(BadRequestError) as caught:
        cluster.run(cluster.api.create(LEASES, "default", body))
    assert 'cannot be handled as a Lease: parsing time "2026-01-01T00:00:00Z"' in caught.value.message


def test_an_event_names_what_reported_it(cluster: Cluster) -> None:
    """events.k8s.io/v1 `ValidateEventCreate` (`pkg/apis/core/validation/events.go`): an Event with an
    eventTime needs reportingController, reportingInstance, action and reason."""
    body = {"metadata": {"name": "e1", "namespace": "default"}, "eventTime": "2026-01-01T00:00:00.000000Z",
            "type": "Normal", "reason": "Sent", "action": "Sent", "reportingInstance": "replica-0"}
    with pytest.raises(InvalidError) as caught:
        cluster.run(cluster.api.create(EVENTS, "default", body))
    assert "reportingController: Required value" in caught.value.message


# -- patch ---------------------------------------------------------------------------------------


def test_merge_patch_merges_objects_and_null_deletes(cluster: Cluster) -> None:
    cluster.create(notification())
    cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "n1", {"metadata": {"labels": {"a": "1", "b": "2"}}}))
    patched = cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "n1", {"metadata": {"labels": {"a": None}}}))
    assert patched["metadata"]["labels"] == {"b": "2"}


def test_merge_patch_with_stale_resource_version_is_conflict(cluster: Cluster) -> None:
    created = cluster.create(notification())
    cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "n1", {"metadata": {"labels": {"a": "1"}}}))
    with pytest.raises(ConflictError):
        cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "n1", {
            "metadata": {"resourceVersion": created["metadata"]["resourceVersion"], "labels": {"a": "2"}}}))


def test_merge_patch_of_spec_is_rejected_as_immutable(cluster: Cluster) -> None:
    cluster.create(notification())
    with pytest.raises(InvalidError, match="spec is immutable after creation"):
        cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "n1", {"spec": {"subject": "other"}}))


def test_merge_patch_of_missing_object_is_not_found(cluster: Cluster) -> None:
    with pytest.raises(NotFoundError):
        cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "nope", {"metadata": {"labels": {"a": "1"}}}))


# -- delete and finalizers -----------------------------------------------------------------------


def test_delete_removes_the_object(cluster: Cluster) -> None:
    cluster.create(notification())
    cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "n1"))
    with pytest.raises(NotFoundError):
        cluster.run(cluster.api.get(NOTIFICATIONS, "default", "n1"))


def test_delete_of_missing_object_is_not_found(cluster: Cluster) -> None:
    with pytest.raises(NotFoundError):
        cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "nope"))


def test_delete_with_stale_precondition_is_conflict(cluster: Cluster) -> None:
    created = cluster.create(notification())
    cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "n1", {"metadata": {"labels": {"a": "1"}}}))
    with pytest.raises(ConflictError):
        cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "n1",
                                       resource_version=created["metadata"]["resourceVersion"]))


def test_delete_with_finalizer_sets_deletion_timestamp_until_it_is_removed(cluster: Cluster) -> None:
    body = notification()
    body["metadata"]["finalizers"] = ["kubernaut.ai/audit"]
    cluster.create(body)
    cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "n1"))
    marked = cluster.run(cluster.api.get(NOTIFICATIONS, "default", "n1"))
    assert marked["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:00Z"
    marked["metadata"]["finalizers"] = []
    cluster.run(cluster.api.update(NOTIFICATIONS, "default", marked))
    with pytest.raises(NotFoundError):
        cluster.run(cluster.api.get(NOTIFICATIONS, "default", "n1"))


# -- validation and defaulting -------------------------------------------------------------------


def test_bad_priority_is_invalid_naming_the_field(cluster: Cluster) -> None:
    error = _invalid(cluster, notification(priority="Urgent"))
    assert error.code == 422
    assert [c["field"] for c in error.causes()] == ["spec.priority"]
    assert error.causes()[0]["reason"] == "FieldValueNotSupported"
    assert 'spec.priority: Unsupported value: "Urgent"' in error.message


def test_bad_type_is_invalid_naming_the_field(cluster: Cluster) -> None:
    assert [c["field"] for c in _invalid(cluster, notification(type="Page")).causes()] == ["spec.type"]


def test_subject_of_501_characters_is_invalid(cluster: Cluster) -> None:
    error = _invalid(cluster, notification(subject="x" * 501))
    assert error.causes() == [{"reason": "FieldValueTooLong", "field": "spec.subject",
                               "message": "Too long: may not be more than 500 bytes"}]


def test_subject_of_500_characters_is_valid(cluster: Cluster) -> None:
    assert len(cluster.create(notification(subject="x" * 500))["spec"]["subject"]) == 500


def test_empty_subject_is_invalid(cluster: Cluster) -> None:
    assert [c["field"] for c in _invalid(cluster, notification(subject="")).causes()] == ["spec.subject"]


@pytest.mark.parametrize("field", ["type", "subject", "body"])
def test_missing_required_field_is_invalid(cluster: Cluster, field: str) -> None:
    error = _invalid(cluster, notification(**{field: None}))
    assert error.causes() == [{"reason": "FieldValueRequired", "field": f"spec.{field}", "message": "Required value"}]


@pytest.mark.parametrize("name", ["Upper", "under_score", "-lead", "trail-", "a" * 254, "sp ace"])
def test_bad_name_is_invalid(cluster: Cluster, name: str) -> None:
    error = _invalid(cluster, notification(name=name))
    assert [c["field"] for c in error.causes()] == ["metadata.name"]


def test_name_of_253_characters_with_dots_is_valid(cluster: Cluster) -> None:
    name = ".".join(["a" * 63] * 4)[:253].rstrip(".")
    assert cluster.create(notification(name=name))["metadata"]["name"] == name


def test_changed_spec_is_invalid_as_immutable(cluster: Cluster) -> None:
    created = cluster.create(notification())
    created["spec"]["priority"] = "Low"
    with pytest.raises(InvalidError) as caught:
        cluster.run(cluster.api.update(NOTIFICATIONS, "default", created))
    assert caught.value.causes()[0]["field"] == "spec"
    assert "spec is immutable after creation (DD-NOT-005)" in caught.value.message


def test_missing_priority_defaults_to_medium(cluster: Cluster) -> None:
    assert cluster.create(notification(priority=None))["spec"]["priority"] == "Medium"


def test_partial_retry_policy_is_defaulted_field_by_field(cluster: Cluster) -> None:
    created = cluster.create(notification(retryPolicy={"maxAttempts": 3}))
    assert created["spec"]["retryPolicy"] == {
        "maxAttempts": 3, "initialBackoffSeconds": 30, "backoffMultiplier": 2, "maxBackoffSeconds": 480}


def test_absent_retry_policy_stays_absent(cluster: Cluster) -> None:
    assert "retryPolicy" not in cluster.create(notification())["spec"]


@pytest.mark.parametrize(("field", "value"), [
    ("maxAttempts", 0), ("maxAttempts", 11), ("initialBackoffSeconds", 0), ("initialBackoffSeconds", 301),
    ("backoffMultiplier", 0), ("backoffMultiplier", 11), ("maxBackoffSeconds", 59), ("maxBackoffSeconds", 3601),
])
def test_retry_policy_out_of_bounds_is_invalid(cluster: Cluster, field: str, value: int) -> None:
    error = _invalid(cluster, notification(retryPolicy={field: value}))
    assert [c["field"] for c in error.causes()] == [f"spec.retryPolicy.{field}"]


def test_retry_policy_of_wrong_type_is_invalid(cluster: Cluster) -> None:
    error = _invalid(cluster, notification(retryPolicy={"maxAttempts": "three"}))
    assert error.causes()[0]["reason"] == "FieldValueTypeInvalid"


def test_retention_days_defaults_to_seven(cluster: Cluster) -> None:
    assert cluster.create(notification())["spec"]["retentionDays"] == 7


@pytest.mark.parametrize("days", [0, 91])
def test_retention_days_out_of_bounds_is_invalid(cluster: Cluster, days: int) -> None:
    assert [c["field"] for c in _invalid(cluster, notification(retentionDays=days)).causes()] == ["spec.retentionDays"]


def test_several_invalid_fields_are_all_named(cluster: Cluster) -> None:
    error = _invalid(cluster, notification(priority="Urgent", subject=""))
    assert sorted(c["field"] for c in error.causes()) == ["spec.priority", "spec.subject"]
    assert "is invalid: [" in error.message


def test_bad_action_link_service_is_invalid(cluster: Cluster) -> None:
    links = [{"service": "kibana", "url": "https://k"}]
    assert [c["field"] for c in _invalid(cluster, notification(actionLinks=links)).causes()] == [
        "spec.actionLinks[0].service"]


def test_unknown_spec_fields_are_pruned(cluster: Cluster) -> None:
    assert "channels" not in cluster.create(notification(channels=["slack"]))["spec"]


def test_invalid_status_phase_is_rejected(cluster: Cluster) -> None:
    created = cluster.create(notification())
    created["status"] = {"phase": "Exploded"}
    with pytest.raises(InvalidError, match=r"status\.phase"):
        cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", created))


# -- watch ---------------------------------------------------------------------------------------


def test_watch_from_a_version_delivers_every_later_change_once_in_order(cluster: Cluster) -> None:
    cluster.create(notification("a"))
    start = cluster.server.revision
    cluster.create(notification("b"))
    cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "a", {"metadata": {"labels": {"x": "1"}}}))
    cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "b"))

    async def scenario() -> list[WatchEvent]:
        async def late_changes() -> None:
            await cluster.runtime.sleep(0.2)
            await cluster.api.create(NOTIFICATIONS, "default", notification("c"))
        cluster.runtime.spawn(late_changes(), name="writer")
        return await _collect(cluster.api, str(start), 4)

    events = cluster.run(scenario())
    seen = [(e.type, e.object["metadata"]["name"], int(e.object["metadata"]["resourceVersion"])) for e in events]
    assert seen == [("ADDED", "b", start + 1), ("MODIFIED", "a", start + 2), ("DELETED", "b", start + 3),
                    ("ADDED", "c", start + 4)]


def test_watch_below_the_compaction_horizon_is_gone(cluster: Cluster) -> None:
    for i in range(3):
        cluster.create(notification(f"n{i}"))
    cluster.server.compact(2)
    with pytest.raises(GoneError) as caught:
        cluster.run(_collect(cluster.api, "1", 1))
    assert caught.value.code == 410


def test_watch_at_the_compaction_horizon_still_works(cluster: Cluster) -> None:
    for i in range(3):
        cluster.create(notification(f"n{i}"))
    cluster.server.compact(2)
    events = cluster.run(_collect(cluster.api, "2", 1))
    assert events[0].object["metadata"]["resourceVersion"] == "3"


def test_watch_from_empty_version_starts_with_synthetic_adds(cluster: Cluster) -> None:
    cluster.create(notification("a"))
    events = cluster.run(_collect(cluster.api, "", 1))
    assert (events[0].type, events[0].object["metadata"]["name"]) == ("ADDED", "a")


def test_watch_of_one_namespace_skips_others(cluster: Cluster) -> None:
    cluster.create(notification("a", namespace="other"))
    cluster.create(notification("b"))
    events = cluster.run(_collect(cluster.api, "0", 1))
    assert events[0].object["metadata"]["name"] == "b"


def test_bookmark_carries_the_current_resource_version(cluster: Cluster) -> None:
    cluster.create(notification("a"))

    async def scenario() -> list[WatchEvent]:
        async def mark() -> None:
            await cluster.runtime.sleep(0.2)
            cluster.server.bookmark()
        cluster.runtime.spawn(mark(), name="bookmark")
        return await _collect(cluster.api, "2", 1)

    events = cluster.run(scenario())
    assert events[0].type == "BOOKMARK" and events[0].object["metadata"]["resourceVersion"] == "2"


def test_watch_with_timeout_ends_the_stream(cluster: Cluster) -> None:
    async def scenario() -> int:
        count = 0
        async for _ in cluster.api.watch(NOTIFICATIONS, "default", "0", timeout_seconds=1):
            count += 1
        return count

    started = cluster.now()
    assert cluster.run(scenario()) == 0
    assert 1 <= cluster.now() - started < 5


def test_closed_watch_is_unregistered(cluster: Cluster) -> None:
    cluster.create(notification("a"))
    cluster.run(_collect(cluster.api, "", 1))
    assert cluster.eventually(lambda: cluster.server.open_watches() == 0)


def _mutable_spec_rules(cluster: Cluster) -> Any:
    from fakes.apiserver import ResourceRules

    rules = cluster.server.rules(NOTIFICATIONS)
    schema = copy.deepcopy(rules.schema)
    assert schema is not None
    del schema["properties"]["spec"]["x-kubernetes-validations"]
    return ResourceRules(schema=schema, status_subresource=True, track_generation=True,
                         allow_unconditional_update=False)


def test_no_event_arrives_after_a_bookmark_with_a_higher_resource_version(cluster: Cluster) -> None:
    """A bookmark says "you have seen everything up to here": the apiserver's cacher sends it through the same
    channel as the events (`cache_watcher.go`, `processInterval` drains `input` in order, and a bookmark is one
    more entry of it), so no event it covers may come after it. A client resuming from it would lose them."""
    count = 600
    start = cluster.server.revision
    if cluster.transport == "https":
        cluster.front.bookmark_every = 0.002  # type: ignore[attr-defined]

    async def scenario() -> tuple[int, int]:
        async def write() -> None:
            for i in range(count):
                cluster.server.create(NOTIFICATIONS, "default", notification(f"n{i}"))
                if cluster.transport == "in-process":
                    cluster.server.bookmark()
                if i % 20 == 0:
                    await cluster.runtime.sleep(0.001)
        cluster.runtime.spawn(write(), name="writer")
        marked = late = added = bookmarks = 0
        async for event in cluster.api.watch(NOTIFICATIONS, "default", str(start)):
            version = int(event.object["metadata"]["resourceVersion"])
            if event.type == "BOOKMARK":
                marked, bookmarks = max(marked, version), bookmarks + 1
                continue
            late += version <= marked
            added += 1
            if added == count:
                break
        return late, bookmarks

    late, bookmarks = cluster.run(scenario())
    assert bookmarks > 10  # the measure means something only with many bookmarks among the events
    assert late == 0
