"""Label and field selectors on lists and watches, through the `KubeApi` port, on both transports."""

from __future__ import annotations

from typing import Any

import pytest

from notifier import EVENTS, LEASES, NOTIFICATIONS, BadRequestError, KubeObject, WatchEvent
from tests.conftest import Cluster, notification


def _labelled(name: str, **labels: str) -> KubeObject:
    body = notification(name)
    body["metadata"]["labels"] = labels
    return body


def _relabel(cluster: Cluster, name: str, **labels: str | None) -> None:
    cluster.run(cluster.api.patch(NOTIFICATIONS, "default", name, {"metadata": {"labels": labels}}))


def _names(cluster: Cluster, label_selector: str = "", field_selector: str = "") -> list[str]:
    listed = cluster.run(cluster.api.list(NOTIFICATIONS, "default", label_selector=label_selector,
                                          field_selector=field_selector))
    return [item["metadata"]["name"] for item in listed.items]


def test_a_watch_sees_an_object_enter_its_label_selector_as_added_and_leave_it_as_deleted(cluster: Cluster) -> None:
    """`convertToWatchEvent` (apiserver `storage/cacher/cache_watcher.go`): the new object passing and the old
    not is ADDED; both, MODIFIED; the old passing and the new not is DELETED, carrying the *old* object at the
    change's resourceVersion; neither, nothing. The same from history and live."""
    cluster.create(_labelled("a", team="sre"))
    cluster.create(_labelled("b"))
    start = cluster.server.revision
    _relabel(cluster, "b", team="sre")      # enters
    _relabel(cluster, "a", team="db")       # leaves
    _relabel(cluster, "a", team="web")      # outside, stays outside: nothing

    async def scenario() -> list[WatchEvent]:
        async def live() -> None:
            await cluster.runtime.sleep(0.2)
            await cluster.api.patch(NOTIFICATIONS, "default", "b", {"metadata": {"labels": {"tier": "1"}}})
            await cluster.api.delete(NOTIFICATIONS, "default", "b")  # deleted while matching
        cluster.runtime.spawn(live(), name="writer")
        events: list[WatchEvent] = []
        async for event in cluster.api.watch(NOTIFICATIONS, "default", str(start), label_selector="team=sre"):
            events.append(event)
            if len(events) == 4:
                break
        return events

    seen = [(e.type, e.object["metadata"]["name"], int(e.object["metadata"]["resourceVersion"]),
             e.object["metadata"].get("labels")) for e in cluster.run(scenario())]
    assert seen == [("ADDED", "b", start + 1, {"team": "sre"}),
                    ("DELETED", "a", start + 2, {"team": "sre"}),
                    ("MODIFIED", "b", start + 4, {"team": "sre", "tier": "1"}),
                    ("DELETED", "b", start + 5, {"team": "sre", "tier": "1"})]


def test_set_based_label_selectors_filter_a_list(cluster: Cluster) -> None:
    """`labels.Parse` (apimachinery `pkg/labels/selector.go`): `in`, `notin`, exists, `!`, `gt`/`lt` and
    equality, ANDed by commas; `!=` and `notin` also match an object without the label."""
    cluster.create(_labelled("a", team="sre", tier="1"))
    cluster.create(_labelled("b", team="db", tier="3"))
    cluster.create(_labelled("c"))
    assert _names(cluster, "team in (sre, web)") == ["a"]
    assert _names(cluster, "team notin (sre)") == ["b", "c"]
    assert _names(cluster, "team,!tier") == []
    assert _names(cluster, "!team") == ["c"]
    assert _names(cluster, "tier>2") == ["b"]
    assert _names(cluster, "tier<2,team==sre") == ["a"]
    assert _names(cluster, "team!=db") == ["a", "c"]


@pytest.mark.parametrize(("selector", "message"), [
    ("team in sre", "unable to parse requirement: found 'sre' expected: '('"),
    ("team in (sre", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("!team=sre", "found '=', expected: ',' or 'end of string'"),
    ("team sre", "unable to parse requirement: found 'sre', expected: in, notin, =, ==, !=, gt, lt"),
    ("tier>x", ("unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, "
                "the value must be an integer")),
    ("team=sre,", "found '', expected: identifier after ','"),
])
def test_a_malformed_label_selector_is_a_bad_request_in_the_parsers_words(cluster: Cluster, selector: str,
                                                                           message: str) -> None:
    """`labels.Parse`'s errors, answered verbatim as a 400 (`listOpts` in apiserver `handlers/get.go`); the
    messages are those the real parser gives for these selectors."""
    cluster.create(_labelled("a", team="sre"))
    with pytest.raises(BadRequestError) as caught:
        _names(cluster, selector)
    assert (caught.value.code, str(caught.value)) == (400, message)


def test_an_empty_place_in_a_set_is_the_empty_value(cluster: Cluster) -> None:
    cluster.create(_labelled("a", team=""))
    cluster.create(_labelled("b", team="sre"))
    assert _names(cluster, "team in ()") == ["a"]
    assert _names(cluster, "team in (sre,)") == ["a", "b"]
    assert _names(cluster, "team=") == ["a"]


def test_field_selectors_take_inequality_and_the_crds_selectable_fields(cluster: Cluster) -> None:
    """`fields.ParseSelector` has `=`, `==` and `!=`; a CustomResource may be selected on its name, its
    namespace and the CRD's `selectableFields` (here `spec.type`, `spec.severity`, ...), anything else is a
    400 `field label not supported` (apiextensions' field label conversion)."""
    cluster.create(notification("a", type="Simple"))
    cluster.create(notification("b", type="Escalation"))
    cluster.create(notification("c", type="Simple"))
    assert _names(cluster, field_selector="spec.type=Simple") == ["a", "c"]
    assert _names(cluster, field_selector="spec.type!=Simple") == ["b"]
    assert _names(cluster, field_selector="metadata.name!=a,spec.type==Simple") == ["c"]
    assert _names(cluster, field_selector="metadata.namespace=other") == []
    with pytest.raises(BadRequestError) as caught:
        _names(cluster, field_selector="spec.subject=disk full")
    assert str(caught.value) == "field label not supported: spec.subject"


def test_leases_and_events_have_their_own_field_labels(cluster: Cluster) -> None:
    """A Lease's field labels are its name and namespace only (`DefaultMetaV1FieldSelectorConversion`); an
    Event's add what its strategy exposes (`regarding.name`, `reason`, `type`, `source`, ...)."""
    with pytest.raises(BadRequestError) as caught:
        cluster.run(cluster.api.list(LEASES, "default", field_selector="spec.holderIdentity=a"))
    assert str(caught.value) == ('"spec.holderIdentity" is not a known field selector: only "metadata.name", '
                                 '"metadata.namespace"')
    target = cluster.create(notification("a"))

    def event(name: str, regarding: str, reason: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "default"}, "eventTime": "2026-01-01T00:00:00.000000Z",
                "reportingController": "notifier", "reportingInstance": "replica-0", "action": "Deliver",
                "reason": reason, "type": "Normal",
                "regarding": {"kind": "NotificationRequest", "namespace": "default", "name": regarding,
                              "uid": target["metadata"]["uid"]}}

    cluster.run(cluster.api.create(EVENTS, "default", event("e1", "a", "Sent")))
    cluster.run(cluster.api.create(EVENTS, "default", event("e2", "z", "Failed")))
    listed = cluster.run(cluster.api.list(EVENTS, "default", field_selector="regarding.name=a,type=Normal"))
    assert [item["metadata"]["name"] for item in listed.items] == ["e1"]
    listed = cluster.run(cluster.api.list(EVENTS, "default", field_selector="reason!=Sent,source=notifier"))
    assert [item["metadata"]["name"] for item in listed.items] == ["e2"]


@pytest.mark.parametrize(("selector", "message"), [
    ("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
    ("metadata.name=a=b", "invalid field selector: unescaped character in value: 61"),
    ("metadata.name=a\\b", "invalid field selector: invalid escape sequence: \\b"),
])
def test_a_malformed_field_selector_is_a_bad_request_in_the_parsers_words(cluster: Cluster, selector: str,
                                                                           message: str) -> None:
    """`fields.ParseSelector` and `UnescapeValue`, as the real parser words them."""
    with pytest.raises(BadRequestError) as caught:
        _names(cluster, field_selector=selector)
    assert str(caught.value) == message


def test_selector_corners_as_the_real_parsers_read_them(cluster: Cluster) -> None:
    """`in` and `notin` are values where a value is due (the lexer's Values mode); `>`/`<` match decimal
    integers only (Go's `strconv.ParseInt`: no `1_0`); a trailing backslash is an invalid escape."""
    cluster.create(_labelled("a", env="in", size="1_0"))
    cluster.create(_labelled("b", env="prod", size="10"))
    assert _names(cluster, "env=in") == ["a"]
    assert _names(cluster, "env in (in,notin)") == ["a"]
    assert _names(cluster, "size>5") == ["b"]
    with pytest.raises(BadRequestError) as caught:
        _names(cluster, field_selector="metadata.name=a\\")
    assert str(caught.value) == "invalid field selector: invalid escape sequence: \\"
