"""Properties of the pure core, over generated inputs (Hypothesis): attempt merging, status application,
JSON merge patch, and the CRD's defaulting and pruning."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakes.apiserver._patch import merge_patch
from fakes.apiserver._schema import apply_defaults, prune, validate
from notifier import crd_manifest
from notifier.model import (
    NOT_ATTEMPTS,
    AttemptStatus,
    DeliveryAttempt,
    apply_status,
    count_deliveries,
    merge_attempts,
)

#: Never a flake: the same examples in every run (derandomized), and no check that depends on the machine's speed.
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=100,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
UID = "00000000-0000-4000-8000-000000000001"
OUTCOMES = {AttemptStatus.SUCCESS, AttemptStatus.FAILED, AttemptStatus.TIMEOUT, AttemptStatus.INVALID}

attempts = st.builds(
    DeliveryAttempt, uid=st.just(UID), channel=st.sampled_from(["slack:a", "teams:b", "console"]),
    attempt=st.integers(1, 4), timestamp=st.just("2026-01-01T00:00:00.000000Z"),
    status=st.sampled_from(list(AttemptStatus)), error=st.sampled_from(["", "HTTP 503"]),
    replica=st.sampled_from(["replica-0", "replica-1"]))


def distinct(batch: list[DeliveryAttempt]) -> list[DeliveryAttempt]:
    return list({a.identity: a for a in batch}.values())


def by_identity(merged: list[DeliveryAttempt]) -> dict[tuple[str, str, int], DeliveryAttempt]:
    return {a.identity: a for a in merged}


@PROPERTY
@given(st.lists(attempts, max_size=8).map(distinct), st.lists(attempts, max_size=8))
def test_merging_twice_is_merging_once(existing: list[DeliveryAttempt], new: list[DeliveryAttempt]) -> None:
    once = merge_attempts(existing, new)
    assert merge_attempts(once, new) == once


@PROPERTY
@given(st.lists(attempts, max_size=8).map(distinct), st.lists(attempts, max_size=8).map(distinct))
def test_merging_distinct_identities_does_not_depend_on_their_order(existing: list[DeliveryAttempt],
                                                                    new: list[DeliveryAttempt]) -> None:
    assert by_identity(merge_attempts(existing, new)) == by_identity(merge_attempts(existing, new[::-1]))


@PROPERTY
@given(st.lists(attempts, max_size=8).map(distinct), st.lists(attempts, max_size=8))
def test_merging_loses_nothing_and_never_overwrites_an_outcome(existing: list[DeliveryAttempt],
                                                               new: list[DeliveryAttempt]) -> None:
    merged = by_identity(merge_attempts(existing, new))
    assert set(by_identity(existing)) <= set(merged)
    for attempt in existing:
        if attempt.status in OUTCOMES:
            assert merged[attempt.identity] == attempt


def notification(recorded: list[DeliveryAttempt]) -> dict[str, Any]:
    return {"metadata": {"name": "n", "namespace": "default", "uid": UID, "generation": 1},
            "status": {"phase": "Sending", "deliveryAttempts": [a.to_json() for a in recorded]}}


@PROPERTY
@given(st.lists(attempts, max_size=6).map(distinct), st.lists(attempts, max_size=6))
def test_a_status_applied_twice_is_the_status_applied_once_and_its_counters_match(
        recorded: list[DeliveryAttempt], new: list[DeliveryAttempt]) -> None:
    obj = notification(recorded)
    once = apply_status(obj, phase=None, attempts=new, now=1_767_225_600.0)
    assert obj == notification(recorded)  # pure: the object read is left as it was
    twice = apply_status({**obj, "status": once}, phase=None, attempts=new, now=1_767_225_600.0)
    assert twice == once
    merged = [DeliveryAttempt.from_json({"uid": UID, **raw}) for raw in once["deliveryAttempts"]]
    assert (once["successfulDeliveries"], once["failedDeliveries"]) == count_deliveries(merged)
    assert once["totalAttempts"] == sum(1 for a in merged if a.status not in NOT_ATTEMPTS)


json_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from("abcd"), inner, max_size=3), max_leaves=12)
json_objects = st.dictionaries(st.sampled_from("abcd"), json_values, max_size=4)


@PROPERTY
@given(json_objects, json_objects)
def test_a_merge_patch_applied_twice_is_applied_once(target: dict[str, Any], patch: dict[str, Any]) -> None:
    once = merge_patch(copy.deepcopy(target), patch)
    assert merge_patch(copy.deepcopy(once), patch) == once


@PROPERTY
@given(json_objects, json_objects)
def test_a_merge_patch_deletes_with_null_and_sets_everything_else(target: dict[str, Any],
                                                                 patch: dict[str, Any]) -> None:
    result = merge_patch(copy.deepcopy(target), patch)
    for name, value in patch.items():
        if value is None:
            assert name not in result
        elif not isinstance(value, dict):
            assert result[name] == value


SCHEMA: dict[str, Any] = crd_manifest()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
valid_specs = st.fixed_dictionaries(
    {"type": st.sampled_from(["Escalation", "Simple", "StatusUpdate", "Approval", "ManualReview", "Completion"]),
     "priority": st.sampled_from(["Critical", "High", "Medium", "Low"]),
     "subject": st.text("abc xyz", min_size=1, max_size=20), "body": st.text("abc xyz", min_size=1, max_size=40)},
    optional={"severity": st.sampled_from(["critical", "warning"]),
              "extensions": st.dictionaries(st.sampled_from(["a", "b"]), st.text("ab", max_size=3), max_size=2)})
unknown = st.dictionaries(st.sampled_from(["zz", "yy", "xx"]), json_scalars, min_size=1, max_size=3)


@PROPERTY
@given(valid_specs, unknown, unknown)
def test_pruning_drops_unknown_fields_and_what_remains_is_valid(spec: dict[str, Any], extra_top: dict[str, Any],
                                                                extra_spec: dict[str, Any]) -> None:
    obj = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
           "metadata": {"name": "n", "namespace": "default"}, "spec": {**spec, **extra_spec}, **extra_top}
    pruned = prune(SCHEMA, copy.deepcopy(obj))
    assert prune(SCHEMA, copy.deepcopy(pruned)) == pruned
    assert not set(extra_spec) & set(pruned["spec"]) and not set(extra_top) & set(pruned)
    defaulted = apply_defaults(SCHEMA, copy.deepcopy(pruned))
    assert apply_defaults(SCHEMA, copy.deepcopy(defaulted)) == defaulted
    assert validate(SCHEMA, defaulted) == []
