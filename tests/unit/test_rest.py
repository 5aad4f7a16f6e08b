"""The REST layer of the HTTP front as pure functions: discovery, tables, errors, watches, OpenAPI."""

from __future__ import annotations

import json

import pytest

from fakes.apiserver import ApiServer
from fakes.apiserver._rest import Request, Response, Rest, WatchRequest
from fakes.apiserver._select import Selector
from fakes.apiserver._tables import human_duration, jsonpath
from harness import EPOCH
from tests.conftest import notification

BASE = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def rest() -> Rest:
    return Rest(ApiServer(clock=lambda: EPOCH), clock=lambda: EPOCH + 125)


def call(rest: Rest, method: str, target: str, body: object = None, **headers: str) -> Response:
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    answer = rest.handle(Request(method, target, data, {k.replace("_", "-"): v for k, v in headers.items()}))
    assert isinstance(answer, Response)
    return answer


def test_discovery_lists_the_group_with_short_names_and_the_status_subresource(rest: Rest) -> None:
    groups = call(rest, "GET", "/apis").body["groups"]
    assert "kubernaut.ai" in [g["name"] for g in groups]
    resources = call(rest, "GET", "/apis/kubernaut.ai/v1alpha1").body["resources"]
    main = next(r for r in resources if r["name"] == "notificationrequests")
    assert main["shortNames"] == ["notif", "notifs"] and main["kind"] == "NotificationRequest" and main["namespaced"]
    assert "notificationrequests/status" in [r["name"] for r in resources]


def test_create_get_and_list_round_trip(rest: Rest) -> None:
    created = call(rest, "POST", BASE, notification("a"))
    assert created.code == 201 and created.body["metadata"]["resourceVersion"] == "2"
    assert call(rest, "GET", f"{BASE}/a").body["metadata"]["uid"] == created.body["metadata"]["uid"]
    listed = call(rest, "GET", BASE).body
    assert listed["kind"] == "NotificationRequestList" and [i["metadata"]["name"] for i in listed["items"]] == ["a"]


def test_a_table_has_the_crd_print_columns_and_an_age(rest: Rest) -> None:
    call(rest, "POST", BASE, notification("a", priority="Critical"))
    table = call(rest, "GET", BASE, Accept=TABLE).body
    assert table["kind"] == "Table"
    names = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert names == [("Name", 0), ("Type", 0), ("Priority", 0), ("Phase", 0), ("Attempts", 0), ("Reason", 1),
                     ("Age", 0)]
    assert table["rows"][0]["cells"] == ["a", "Simple", "Critical", None, None, None, "2m5s"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_errors_are_status_bodies_with_codes_and_reasons(rest: Rest) -> None:
    missing = call(rest, "GET", f"{BASE}/nope")
    assert (missing.code, missing.body["kind"], missing.body["reason"]) == (404, "Status", "NotFound")
    call(rest, "POST", BASE, notification("a"))
    again = call(rest, "POST", BASE, notification("a"))
    assert (again.code, again.body["reason"]) == (409, "AlreadyExists")
    invalid = call(rest, "POST", BASE, notification("b", priority="Urgent"))
    assert invalid.code == 422 and invalid.body["details"]["causes"][0]["field"] == "spec.priority"
    malformed = call(rest, "POST", BASE, b"{not json")
    assert (malformed.code, malformed.body["reason"]) == (400, "BadRequest")
    strategic = call(rest, "PATCH", f"{BASE}/a", {"metadata": {}},
                     Content_Type="application/strategic-merge-patch+json")
    assert (strategic.code, strategic.body["reason"]) == (415, "UnsupportedMediaType")
    assert call(rest, "DELETE", "/apis").code == 405


def test_merge_patch_and_status_patch(rest: Rest) -> None:
    call(rest, "POST", BASE, notification("a"))
    labelled = call(rest, "PATCH", f"{BASE}/a", {"metadata": {"labels": {"team": "sre"}}},
                    Content_Type="application/merge-patch+json")
    assert labelled.body["metadata"]["labels"] == {"team": "sre"}
    status = call(rest, "PATCH", f"{BASE}/a/status", {"status": {"phase": "Pending"}},
                  Content_Type="application/merge-patch+json")
    assert status.code == 200 and status.body["status"]["phase"] == "Pending"


def test_delete_with_a_stale_precondition_is_a_conflict(rest: Rest) -> None:
    call(rest, "POST", BASE, notification("a"))
    stale = call(rest, "DELETE", f"{BASE}/a", {"preconditions": {"resourceVersion": "99"}})
    assert (stale.code, stale.body["reason"]) == (409, "Conflict")
    done = call(rest, "DELETE", f"{BASE}/a", {"preconditions": {"resourceVersion": "2"}})
    assert done.body["status"] == "Success" and call(rest, "GET", f"{BASE}/a").code == 404


def test_a_watch_request_carries_its_parameters(rest: Rest) -> None:
    answer = rest.handle(Request("GET", f"{BASE}?watch=true&resourceVersion=5&allowWatchBookmarks=true"
                                        f"&timeoutSeconds=30&fieldSelector=metadata.name%3Da", b"", {"Accept": TABLE}))
    assert answer == WatchRequest(answer.resource, "default", "5", True, 30.0,  # type: ignore[union-attr]
                                  Selector.parse(field_selector="metadata.name=a"), True)


def test_an_unsupported_field_selector_is_bad_request(rest: Rest) -> None:
    """Only the CRD's `selectableFields` (`spec.type` is one) and the name and namespace may be selected on."""
    answer = call(rest, "GET", f"{BASE}?fieldSelector=spec.subject%3Ddisk")
    assert (answer.code, answer.body["message"]) == (400, "field label not supported: spec.subject")
    assert call(rest, "GET", f"{BASE}?fieldSelector=spec.type%3DSimple").code == 200


def test_openapi_v3_offers_field_validation_on_patch(rest: Rest) -> None:
    root = call(rest, "GET", "/openapi/v3").body["paths"]
    document = call(rest, "GET", root["apis/kubernaut.ai/v1alpha1"]["serverRelativeURL"]).body
    patch = document["paths"]["/apis/kubernaut.ai/v1alpha1/namespaces/{namespace}/notificationrequests/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "NotificationRequest"
    assert {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}} in patch["parameters"]


def test_the_crd_is_served_read_only(rest: Rest) -> None:
    crd = call(rest, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/notificationrequests.kubernaut.ai")
    assert crd.body["spec"]["names"]["kind"] == "NotificationRequest"
    assert {c["type"] for c in crd.body["status"]["conditions"]} == {"NamesAccepted", "Established"}
    assert call(rest, "DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x").code == 405


def test_jsonpath_follows_fields_indexes_and_filters() -> None:
    obj = {"status": {"conditions": [{"type": "Other", "reason": "x"}, {"type": "Ready", "reason": "Done"}]}}
    assert jsonpath(obj, '.status.conditions[?(@.type=="Ready")].reason') == "Done"
    assert jsonpath(obj, ".status.conditions[0].type") == "Other"
    assert jsonpath(obj, ".status.phase") is None
    with pytest.raises(ValueError):
        jsonpath(obj, ".status..phase")


@pytest.mark.parametrize(("seconds", "shown"), [
    (-5, "<invalid>"), (0, "0s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600, "3h"),
    (3 * 3600 + 120, "3h2m"), (30 * 3600, "30h"), (3 * 86400 + 3600, "3d1h"), (40 * 86400, "40d"),
    (3 * 365 * 86400 + 86400, "3y1d"),
])
def test_ages_print_as_kubectl_prints_them(seconds: float, shown: str) -> None:
    assert human_duration(seconds) == shown


def test_openapi_v2_is_an_empty_protobuf_document_for_old_kubectl(rest: Rest) -> None:
    answer = call(rest, "GET", "/openapi/v2")
    assert answer.content_type == "application/octet-stream"
    assert answer.encoded().startswith(b"\n\x032.0\x12") and b"Kubernetes" in answer.encoded()


def test_label_selectors_filter_lists_by_equality_existence_and_sets(rest: Rest) -> None:
    for name, labels in (("a", {"team": "sre"}), ("b", {"team": "db"}), ("c", {})):
        body = notification(name)
        body["metadata"]["labels"] = labels
        call(rest, "POST", BASE, body)

    def names(selector: str) -> list[str]:
        return [i["metadata"]["name"] for i in call(rest, "GET", f"{BASE}?labelSelector={selector}").body["items"]]

    assert names("team%3Dsre") == ["a"]
    assert names("team%21%3Dsre") == ["b", "c"]
    assert names("team") == ["a", "b"]
    assert names("%21team") == ["c"]
    assert names("team+in+%28sre%2Cweb%29") == ["a"]
    assert names("team+notin+%28sre%29") == ["b", "c"]
    assert call(rest, "GET", f"{BASE}?labelSelector=team+in+sre").code == 400
