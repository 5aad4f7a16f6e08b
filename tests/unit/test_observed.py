"""Reading what kubectl prints, and the symptoms it shows (`harness._observed`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness._matching import compare, features
from harness._observed import load, observe, symptoms
from notifier import ConfigFileError

UID = "9a0c4bde-1d6b-4e57-8a55-0f3c2b1d0e11"


def attempt(channel: str, number: int, status: str, at: str = "00:00:01", **extra: Any) -> dict[str, Any]:
    return {"uid": UID, "channel": channel, "attempt": number, "status": status,
            "timestamp": f"2026-01-01T{at}.000000Z", "replica": "notifier-7d9f-abc", **extra}


#: The reason each phase is written with here (a final phase's as the controller writes it).
REASONS = {"Sent": "AllDeliveriesSucceeded", "PartiallySent": "PartialDeliverySuccess", "Failed": "MaxRetriesExhausted",
           "Retrying": "PartialFailureRetrying", "Sending": "ProcessingDeliveries", "Pending": "Initialized"}


def note(phase: str, attempts: list[dict[str, Any]], *, counters: tuple[int, int, int] | None = None,
         channels: str = "slack:alerts", max_attempts: int = 3, **status: Any) -> dict[str, Any]:
    total = sum(1 for a in attempts if a["status"] not in ("pending", "cancelled"))
    delivered = {a["channel"] for a in attempts if a["status"] == "success"}
    failed = {a["channel"] for a in attempts if a["status"] not in ("success", "pending", "cancelled")} - delivered
    ok, bad = len(delivered), len(failed)
    return {
        "apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
        "metadata": {"name": "disk-full", "namespace": "prod", "uid": UID,
                     "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"type": "Simple", "priority": "High", "subject": "disk full", "body": "95%",
                 "retryPolicy": {"maxAttempts": max_attempts, "initialBackoffSeconds": 1, "backoffMultiplier": 2,
                                 "maxBackoffSeconds": 60}},
        "status": {"phase": phase, "reason": REASONS.get(phase, ""), "deliveryAttempts": attempts,
                   **({"completionTime": "2026-01-01T00:00:30Z"} if phase in ("Sent", "PartiallySent", "Failed")
                      else {}),
                   "totalAttempts": (counters or (total, ok, bad))[0],
                   "successfulDeliveries": (counters or (total, ok, bad))[1],
                   "failedDeliveries": (counters or (total, ok, bad))[2],
                   "conditions": [{"type": "RoutingResolved", "status": "True",
                                   "message": f"Matched rules [x] \u2192 channels: {channels}"}],
                   **status},
    }


def delivered_event(reporter: str, count: int = 1, at: str = "") -> dict[str, Any]:
    return {"apiVersion": "events.k8s.io/v1", "kind": "Event", "reason": "NotificationSent",
            **({"eventTime": f"2026-01-01T{at}.000000Z"} if at else {}),
            "note": "Delivered to slack:alerts", "reportingInstance": reporter,
            **({"series": {"count": count}} if count > 1 else {}),
            "regarding": {"kind": "NotificationRequest", "name": "disk-full", "namespace": "prod", "uid": UID}}


def later_event(at: str) -> dict[str, Any]:
    """An Event of another notification, dated `at`: the dump shows that time went on."""
    return {"apiVersion": "events.k8s.io/v1", "kind": "Event", "reason": "ReconcileStarted", "note": "started",
            "eventTime": f"2026-01-01T{at}.000000Z", "reportingInstance": "notifier-a",
            "regarding": {"kind": "NotificationRequest", "name": "other", "namespace": "prod"}}


def kinds(*objects: dict[str, Any]) -> list[str]:
    return [s.kind for s in symptoms(observe(list(objects)))]


def test_a_healthy_notification_shows_nothing() -> None:
    healthy = note("Sent", [attempt("slack:alerts", 1, "failed", error="slack webhook returned 503 (retryable)",
                                    retryAt="2026-01-01T00:00:02.000000Z"),
                            attempt("slack:alerts", 2, "success", at="00:00:02")])
    assert kinds(healthy, delivered_event("notifier-a")) == []
    # one replica saying it twice is no second send: its own Events may be emitted again
    assert kinds(healthy, delivered_event("notifier-a", count=2)) == []


@pytest.mark.parametrize(("objects", "expected"), [
    ([note("Sent", [attempt("slack:alerts", 1, "success"), attempt("slack:alerts", 2, "success")])],
     ["duplicate-delivery"]),
    ([note("Sent", [attempt("slack:alerts", 1, "success")]), delivered_event("notifier-a"),
      delivered_event("notifier-b")], ["duplicate-delivery"]),
    ([note("Sent", [attempt("slack:alerts", 1, "unknown", error="timed out after it was sent"),
                    attempt("slack:alerts", 2, "success", redelivery=True)]),
      delivered_event("notifier-a"), delivered_event("notifier-b")], ["redelivery"]),
    ([note("Failed", [attempt("slack:alerts", n, "failed", error="503") for n in (1, 2, 3, 4)])],
     ["too-many-attempts"]),
    ([note("Failed", [attempt("slack:alerts", 1, "failed", error="403 (permanent failure)"),
                      attempt("slack:alerts", 2, "failed", error="503")])], ["attempt-after-permanent"]),
    ([note("Failed", [attempt("slack:alerts", n, "failed", error="503") for n in (2, 5)])], ["lost-attempts"]),
    ([note("Sent", [attempt("slack:alerts", 1, "success")], counters=(2, 1, 1))], ["counters-disagree"]),
    ([note("Sent", [attempt("slack:alerts", 1, "failed", error="503", retryAt="2026-01-01T00:00:09.000000Z"),
                    attempt("slack:alerts", 2, "success", at="00:00:02")])], ["early-retry"]),
    ([note("Sent", [attempt("slack:alerts", 1, "success")], channels="slack:alerts, console")],
     ["phase-disagrees"]),
    ([note("Retrying", [attempt("slack:alerts", 1, "failed", error="503", retryAt="2026-01-01T00:00:05Z")]),
      later_event("00:02:00")], ["never-ended"]),

    # a final phase written with another phase's reason, or with no completionTime
    ([note("Sent", [attempt("slack:alerts", 1, "success")], reason="AllDeliveriesFailed")], ["phase-disagrees"]),
    ([note("Failed", [attempt("slack:alerts", 1, "failed", error="503")], completionTime=None)],
     ["phase-disagrees"]),
    # a redelivery after a success recorded late (the status had shown it unknown when the redelivery was
    # claimed; the sender's late write turned it back): explained, as far as the final status can tell, even when
    # the first sender said it delivered long before the redelivery went out (a redelivery's timestamp is when it
    # was sent, which may be long after its claim: the sends before it in its batch, a pause)
    ([note("Sent", [attempt("slack:alerts", 1, "success", replica="notifier-a"),
                    attempt("slack:alerts", 2, "success", at="00:00:30", replica="notifier-b", redelivery=True)]),
      delivered_event("notifier-a", at="00:00:05"), delivered_event("notifier-b", at="00:00:31")],
     ["redelivery"]),
    # the attempt of an object deleted before this one took its name, on this one's status
    ([note("Sent", [attempt("slack:alerts", 1, "success", uid="0ld"), attempt("slack:alerts", 1, "success")])],
     ["foreign-attempts"]),
    # ... numbered on after it, as the controller numbers a channel's attempts: no attempt is missing
    ([note("Sent", [attempt("slack:alerts", 1, "success", uid="0ld"), attempt("slack:alerts", 2, "success")])],
     ["foreign-attempts"]),
])
def test_each_symptom_is_seen_in_what_kubectl_shows(objects: list[dict[str, Any]], expected: list[str]) -> None:
    assert kinds(*objects) == expected


def test_an_event_of_an_earlier_object_of_the_same_name_is_not_this_ones() -> None:
    earlier = {**delivered_event("notifier-b"), "regarding": {**delivered_event("x")["regarding"], "uid": "old"},
               "eventTime": "2026-01-01T00:00:00.500000Z"}
    objects = [note("Sent", [attempt("slack:alerts", 1, "success")]), delivered_event("notifier-a"), earlier]
    assert kinds(*objects) == []
    # but it says there was one: the first time it shows
    assert observe(objects).notifications["disk-full"].earlier == {"old": 1767225600.5}


def test_replicas_are_compared_by_the_order_they_appear_not_by_name() -> None:
    one = observe([note("Sent", [attempt("slack:alerts", 1, "success", replica="pod-x")])])
    other = observe([note("Sent", [attempt("slack:alerts", 1, "success", replica="replica-1")])])
    assert compare(features(one), features(other)).exact
    moved = observe([note("Failed", [attempt("slack:alerts", 1, "failed", error="503")])])
    differences = compare(features(one), features(moved)).differences
    assert any("phase Sent observed, Failed simulated" in d for d in differences), differences


def test_of_two_runs_that_miss_a_history_the_one_with_more_of_it_right_is_nearer() -> None:
    """Partial matches rank by how much of each sequence agrees, place by place, not only by whole things."""
    def failed(*numbers: int) -> dict[str, Any]:
        return features(observe([note("Failed", [attempt("slack:alerts", n, "failed", error="503")
                                                 for n in numbers])]))

    dump = failed(2, 6, 10)
    near, far = compare(dump, failed(2, 6, 11)), compare(dump, failed(1, 2, 3))
    assert (near.agree, near.total) == (far.agree, far.total) == (4, 5)  # both miss only the attempt numbers
    assert far.score < near.score < 1.0 == compare(dump, failed(2, 6, 10)).score


def test_a_list_several_documents_json_and_a_directory_are_read(tmp_path: Path) -> None:
    obj = note("Sent", [attempt("slack:alerts", 1, "success")])
    (tmp_path / "list.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [obj]}))
    (tmp_path / "many.yaml").write_text(yaml.safe_dump_all([obj, delivered_event("a")]))
    (tmp_path / "one.json").write_text(json.dumps(obj))
    for path in ("list.yaml", "many.yaml", "one.json"):
        assert list(load([tmp_path / path]).notifications) == ["disk-full"]
    assert load([tmp_path]).notifications["disk-full"].delivered == {"slack:alerts": {"a": 1}}


@pytest.mark.parametrize(("text", "where"), [
    ("items:\n  - kind: [unclosed\n", ":3: not valid YAML"),
    ("kind: List\nitems: []\n", ": items: no NotificationRequest in the dump"),
    ("- just\n- a list\n", "expected a Kubernetes object"),
])
def test_a_bad_dump_is_refused_with_its_file_and_line(tmp_path: Path, text: str, where: str) -> None:
    (tmp_path / "dump.yaml").write_text(text)
    with pytest.raises(ConfigFileError) as refused:
        load([tmp_path / "dump.yaml"])
    assert str(refused.value).startswith(str(tmp_path / "dump.yaml")) and where in str(refused.value)


def test_a_notification_waiting_for_its_retry_when_the_dump_was_taken_has_not_stopped() -> None:
    waiting = note("Retrying", [attempt("slack:alerts", 1, "failed", error="503", retryAt="2026-01-01T00:30:00Z")])
    assert kinds(waiting, later_event("00:10:00")) == []  # the latest time the dump shows is before its retry
    assert [s.kind for s in symptoms(observe([waiting], at=3600 + 1_767_225_600.0))] == ["never-ended"]
    # an intent still pending is waited for as long as the Lease it was made under
    sending = note("Sending", [attempt("slack:alerts", 1, "pending", at="00:00:01")])
    assert kinds(sending, later_event("00:01:00")) == []
    assert kinds(sending, later_event("00:05:00")) == ["never-ended"]


def test_a_channel_a_routing_reload_dropped_does_not_make_the_phase_disagree() -> None:
    reloaded = note("Sent", [attempt("slack:alerts", 1, "failed", error="503"),
                             attempt("console", 1, "success")], channels="console")
    assert kinds(reloaded) == []
    assert kinds(note("Sent", [attempt("slack:alerts", 1, "failed", error="503"), attempt("console", 1, "success")],
                      channels="slack:alerts, console")) == ["phase-disagrees"]


def test_only_the_controllers_delivery_leases_and_notification_events_count() -> None:
    node = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "node-a", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "node-a", "leaseDurationSeconds": 40}}
    pod_event = {**delivered_event("kubelet"), "regarding": {"kind": "Pod", "name": "disk-full", "namespace": "prod"}}
    seen = observe([note("Sent", [attempt("slack:alerts", 1, "success")]), node, pod_event, pod_event])
    assert seen.replicas == ["notifier-7d9f-abc"] and seen.lease_seconds is None and seen.leases == []
    assert symptoms(seen) == []


def test_one_name_in_two_namespaces_is_refused_unless_one_namespace_is_chosen() -> None:
    prod = note("Sent", [attempt("slack:alerts", 1, "success")])
    staging = {**prod, "metadata": {**prod["metadata"], "namespace": "staging", "uid": "other"}}
    with pytest.raises(ConfigFileError, match=r"namespaces 'prod' and 'staging'.*--namespace"):
        observe([prod, staging])
    assert observe([prod, staging], namespace="staging").notifications["disk-full"].uid == "other"


@pytest.mark.parametrize(("change", "field"), [
    (lambda o: o.update(status=[1, 2]), "status: expected a mapping, not a list"),
    (lambda o: o.update(metadata="foo"), "metadata: expected a mapping"),
    (lambda o: o["status"].update(totalAttempts="abc"), "status.totalAttempts: expected an integer, not 'abc'"),
    (lambda o: o["spec"]["retryPolicy"].update(maxAttempts="x"), "spec.retryPolicy.maxAttempts: expected an integer"),
    (lambda o: o["status"]["deliveryAttempts"].append("one"), "status.deliveryAttempts[1]: expected a mapping"),
    (lambda o: o["status"]["deliveryAttempts"][0].update(timestamp="yesterday"),
     "status.deliveryAttempts[0].timestamp: expected an RFC 3339 time"),
    (lambda o: o["status"]["deliveryAttempts"][0].update(status="sent"),
     "status.deliveryAttempts[0].status: 'sent' is no attempt status"),
    (lambda o: o["status"]["conditions"].append("Ready"), "status.conditions[1]: expected a mapping"),
    (lambda o: o["status"].update(phase="Bogus"), "status.phase: 'Bogus' is no phase"),
])
def test_a_field_kubectl_would_never_print_so_is_refused_with_its_file_line_and_field(
        tmp_path: Path, change: Any, field: str) -> None:
    obj = note("Sent", [attempt("slack:alerts", 1, "success")])
    change(obj)
    path = tmp_path / "dump.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [delivered_event("a"), obj]}))
    with pytest.raises(ConfigFileError) as refused:
        load([path])
    # the second item of the List starts on a line of its own, after the first
    assert refused.value.path == str(path) and refused.value.line > 2, str(refused.value)
    assert field in str(refused.value), str(refused.value)
    # the line named is the field's own
    shown = path.read_text().splitlines()[refused.value.line - 1]
    wrong = {"'abc'": "abc", "'x'": "x", "'yesterday'": "yesterday", "'sent'": "sent", "'Bogus'": "Bogus",
             "not 'foo'": "foo", "a list": "status:", "[1]: expected": "- one"}
    assert any(key in str(refused.value) and value in shown for key, value in wrong.items()) or \
        "- Ready" in shown, (shown, str(refused.value))
