"""The CRD schema's formats, patterns and item counts, and `fieldValidation`, on both transports."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.apiserver._schema import validate
from notifier import NOTIFICATIONS, InvalidError
from tests.conftest import Cluster, notification


def test_a_status_time_that_is_no_date_time_is_invalid_and_named_from_the_status_root(cluster: Cluster) -> None:
    """`format: date-time` (kube-openapi `validate/values.go` `FormatOf`, `strfmt.IsDateTime`): a bad value is
    a 422 worded `... must be of type date-time: "..."`; the status subresource's validator is rooted at
    `status` (apiextensions `ValidateStatusUpdate`), so the field is `status.completionTime` and the body
    path `completionTime`."""
    created = cluster.create(notification())
    body = {**created, "status": {"phase": "Sent", "completionTime": "yesterday"}}
    with pytest.raises(InvalidError) as caught:
        cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", body))
    assert str(caught.value) == ('NotificationRequest.kubernaut.ai "n1" is invalid: status.completionTime: '
                                 'Invalid value: "yesterday": completionTime in body must be of type date-time: '
                                 '"yesterday"')
    good = {**created, "status": {"phase": "Sent", "completionTime": "2026-01-01T00:00:00.5+01:00"}}
    written = cluster.run(cluster.api.update_status(NOTIFICATIONS, "default", good))
    assert written["status"]["completionTime"] == "2026-01-01T00:00:00.5+01:00"


SCHEMA: dict[str, Any] = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "code": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$"},
    "tags": {"type": "array", "maxItems": 2, "minItems": 1, "items": {"type": "string"}},
    "day": {"type": "string", "format": "date"},
}}}}


@pytest.mark.parametrize(("spec", "message"), [
    ({"code": "ab-1"}, "spec.code: Invalid value: \"ab-1\": spec.code in body should match '^[A-Z]+-[0-9]+$'"),
    ({"tags": ["a", "b", "c"]}, "spec.tags: Too many: 3: must have at most 2 items"),
    ({"tags": []}, "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items"),
    ({"day": "2026-02-30"}, ('spec.day: Invalid value: "2026-02-30": spec.day in body must be of type date: '
                            '"2026-02-30"')),
])
def test_pattern_item_counts_and_date_are_checked_in_kube_openapis_words(spec: dict[str, Any], message: str) -> None:
    """kube-openapi `pkg/validation/errors/schema.go` (`patternFail`, `typeFailWithData`) through apiextensions'
    `kubeOpenAPIResultToFieldErrors` (MaxItems becomes `field.TooMany`)."""
    errors = validate(SCHEMA, {"spec": spec})
    assert [f"{e.field}: {e.message}" for e in errors] == [message]
    assert validate(SCHEMA, {"spec": {"code": "AB-12", "tags": ["a"], "day": "2026-02-28"}}) == []


BASE = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"


def _with_unknown_fields(name: str = "n1") -> dict[str, Any]:
    body = notification(name)
    body["spec"]["colour"] = "red"
    body["metadata"]["labelz"] = {"a": "b"}
    return body


def test_unknown_fields_are_a_bad_request_under_strict_field_validation(cluster: Cluster) -> None:
    """`fieldValidation=Strict`: the fields pruning would drop are a 400 in `transformDecodeError`'s words
    (apiserver `handlers/rest.go`), from apiextensions' `schemaCoercingDecoder`; nothing is stored."""
    code, body = cluster.rest("POST", f"{BASE}?fieldValidation=Strict", _with_unknown_fields())
    assert (code, body["reason"]) == (400, "BadRequest")
    assert body["message"] == ('NotificationRequest in version "v1alpha1" cannot be handled as a NotificationRequest: '
                               'strict decoding error: unknown field "metadata.labelz", unknown field "spec.colour"')
    assert cluster.rest("GET", f"{BASE}/n1")[0] == 404


def test_unknown_fields_are_dropped_with_a_warning_by_default_and_silently_when_ignored(cluster: Cluster) -> None:
    """With no `fieldValidation` the server warns (`Warn` is its default), one `Warning: 299 - "..."` header
    per dropped field (`addStrictDecodingWarnings`); `Ignore` drops them without a word. Either way the
    object is stored without them."""
    code, body = cluster.rest("POST", BASE, _with_unknown_fields("n1"))
    assert code == 201 and "colour" not in body["spec"] and "labelz" not in body["metadata"]
    assert cluster.warnings == ['299 - "unknown field \\"metadata.labelz\\""',
                                '299 - "unknown field \\"spec.colour\\""']
    code, _ = cluster.rest("POST", f"{BASE}?fieldValidation=Ignore", _with_unknown_fields("n2"))
    assert code == 201 and cluster.warnings == []
    # A merge patch is judged by what the patched object would gain: a null removes, so it adds nothing unknown.
    code, _ = cluster.rest("PATCH", f"{BASE}/n2?fieldValidation=Strict", {"metadata": {"labels": {"x": "1"}},
                                                                           "spec": {"shade": None}},
                           content_type="application/merge-patch+json")
    assert code == 200
    code, body = cluster.rest("PATCH", f"{BASE}/n2?fieldValidation=Strict", {"spec": {"shade": "blue"}},
                              content_type="application/merge-patch+json")
    assert (code, body["message"]) == (400, ('NotificationRequest in version "v1alpha1" cannot be handled as a '
                                            'NotificationRequest: strict decoding error: unknown field "spec.shade"'))


def test_a_lease_has_the_fields_of_its_go_struct_under_strict_field_validation(cluster: Cluster) -> None:
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l1"},
             "spec": {"holderIdentity": "a", "holder": "b"}}
    code, body = cluster.rest("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases?fieldValidation=Strict",
                              lease)
    assert (code, body["message"]) == (400, ('Lease in version "v1" cannot be handled as a Lease: strict decoding '
                                             'error: unknown field "spec.holder"'))


def test_an_unknown_field_validation_is_invalid(cluster: Cluster) -> None:
    code, body = cluster.rest("POST", f"{BASE}?fieldValidation=Loose", notification())
    assert (code, body["message"]) == (422, ('CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported '
                                            'value: "Loose": supported values: "", "Ignore", "Strict", "Warn"'))
