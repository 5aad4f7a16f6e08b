"""Lists in pages, lists at a resourceVersion, and WatchList, on both transports: what a reflector meets."""

from __future__ import annotations

import pytest

from fakes.apiserver._list import INCONSISTENT_CONTINUE, decode_continue
from notifier import NOTIFICATIONS, GoneError
from tests.conftest import Cluster, notification

BASE = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"


def _names(items: list[dict[str, object]]) -> list[str]:
    return [item["metadata"]["name"] for item in items]  # type: ignore[index]


def _create(cluster: Cluster, *names: str) -> None:
    for name in names:
        cluster.create(notification(name))


def test_a_list_in_pages_reads_every_page_at_the_first_pages_revision(cluster: Cluster) -> None:
    """`limit` and `continue` (apiserver `storage/etcd3/store.go` `GetList`): pages in key order, each page at
    the revision of the first (the token carries it, `storage/continue.go`), so a change between pages is
    not seen; no token after the last page."""
    _create(cluster, "a", "b", "c", "d", "e")
    first = cluster.run(cluster.api.list(NOTIFICATIONS, "default", limit=2))
    assert _names(first.items) == ["a", "b"] and first.continue_token
    assert decode_continue(first.continue_token) == (int(first.resource_version), "b\x00")
    cluster.run(cluster.api.patch(NOTIFICATIONS, "default", "c", {"metadata": {"labels": {"seen": "later"}}}))
    cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "d"))
    cluster.create(notification("f"))
    second = cluster.run(cluster.api.list(NOTIFICATIONS, "default", limit=2, continue_token=first.continue_token))
    assert _names(second.items) == ["c", "d"] and second.resource_version == first.resource_version
    assert "labels" not in second.items[0]["metadata"]  # c as it was at the first page's revision
    last = cluster.run(cluster.api.list(NOTIFICATIONS, "default", limit=2, continue_token=second.continue_token))
    assert (_names(last.items), last.continue_token) == (["e"], "")


def test_a_continue_whose_revision_was_compacted_is_expired_with_a_token_that_goes_on(cluster: Cluster) -> None:
    """`handleCompactedErrorForPaging` (`storage/etcd3/errors.go`): 410 Expired, the inconsistent-continue
    message, and in the Status's list metadata a token (`rv: -1`) that continues from the latest revision
    at the same key."""
    _create(cluster, "a", "b", "c")
    code, first = cluster.rest("GET", f"{BASE}?limit=1")
    assert code == 200 and first["metadata"]["remainingItemCount"] == 2
    cluster.create(notification("b2"))
    cluster.server.compact()
    with pytest.raises(GoneError):
        cluster.run(cluster.api.list(NOTIFICATIONS, "default", limit=1,
                                     continue_token=first["metadata"]["continue"]))
    code, gone = cluster.rest("GET", f"{BASE}?limit=1&continue={first['metadata']['continue']}")
    assert (code, gone["reason"], gone["message"]) == (410, "Expired", INCONSISTENT_CONTINUE)
    assert decode_continue(gone["metadata"]["continue"]) == (-1, "a\x00")
    code, rest = cluster.rest("GET", f"{BASE}?limit=5&continue={gone['metadata']['continue']}")
    assert code == 200 and _names(rest["items"]) == ["b", "b2", "c"]


def test_remaining_item_count_is_given_only_when_no_selector_narrows_the_list(cluster: Cluster) -> None:
    _create(cluster, "a", "b", "c", "d")
    _, plain = cluster.rest("GET", f"{BASE}?limit=1")
    assert plain["metadata"]["remainingItemCount"] == 3
    _, narrowed = cluster.rest("GET", f"{BASE}?limit=1&fieldSelector=metadata.name%21%3Dz")
    assert "remainingItemCount" not in narrowed["metadata"] and narrowed["metadata"]["continue"]


def test_resource_version_0_is_served_whole_whatever_the_limit(cluster: Cluster) -> None:
    """The watch cache serves `resourceVersion=0` and ignores `limit` (`computeListLimit` in
    `storage/cacher`): every item, no continue token."""
    _create(cluster, "a", "b", "c")
    code, body = cluster.rest("GET", f"{BASE}?limit=1&resourceVersion=0")
    assert code == 200 and _names(body["items"]) == ["a", "b", "c"] and "continue" not in body["metadata"]


def test_an_exact_resource_version_lists_the_state_of_then(cluster: Cluster) -> None:
    _create(cluster, "a", "b")
    then = cluster.server.revision
    cluster.run(cluster.api.delete(NOTIFICATIONS, "default", "a"))
    cluster.create(notification("c"))
    _, old = cluster.rest("GET", f"{BASE}?resourceVersion={then}&resourceVersionMatch=Exact")
    assert _names(old["items"]) == ["a", "b"] and old["metadata"]["resourceVersion"] == str(then)
    _, now = cluster.rest("GET", f"{BASE}?resourceVersion={then}&resourceVersionMatch=NotOlderThan")
    assert _names(now["items"]) == ["b", "c"]
    cluster.server.compact()
    code, gone = cluster.rest("GET", f"{BASE}?resourceVersion={then}&resourceVersionMatch=Exact")
    assert (code, gone["reason"], gone["message"]) == (410, "Expired",
                                                       "The resourceVersion for the provided list is too old.")


def test_a_resource_version_the_server_has_not_reached_is_a_timeout_to_retry(cluster: Cluster) -> None:
    """`NewTooLargeResourceVersionError` (apiserver `storage/errors.go`): 504 Timeout with the cause
    `ResourceVersionTooLarge`, `retryAfterSeconds: 1` and a `Retry-After: 1` header (`ErrorNegotiated`)."""
    _create(cluster, "a")
    current = cluster.server.revision
    code, body = cluster.rest("GET", f"{BASE}?resourceVersion={current + 10}&resourceVersionMatch=NotOlderThan")
    assert (code, body["reason"]) == (504, "Timeout")
    assert body["message"] == f"Timeout: Too large resource version: {current + 10}, current: {current}"
    assert body["details"] == {"causes": [{"reason": "ResourceVersionTooLarge",
                                           "message": "Too large resource version"}], "retryAfterSeconds": 1}
    assert cluster.retry_after == "1"


@pytest.mark.parametrize(("query", "message"), [
    ("resourceVersionMatch=Exact", ("resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                                   "resourceVersion is provided")),
    ("resourceVersion=0&resourceVersionMatch=Exact", ('resourceVersionMatch: Forbidden: resourceVersionMatch '
                                                     '"exact" is forbidden for resourceVersion "0"')),
    ("resourceVersion=1&resourceVersionMatch=Newest", ('resourceVersionMatch: Unsupported value: "Newest": '
                                                      'supported values: "Exact", "NotOlderThan", ""')),
    ("sendInitialEvents=true", "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"),
])
def test_list_options_are_validated_as_validate_list_options_words_it(cluster: Cluster, query: str,
                                                                       message: str) -> None:
    """apimachinery `apis/meta/internalversion/validation` `ValidateListOptions`: 422 on ListOptions."""
    code, body = cluster.rest("GET", f"{BASE}?{query}")
    assert (code, body["message"]) == (422, f'ListOptions.meta.k8s.io "" is invalid: {message}')


def test_a_continue_with_a_resource_version_is_a_bad_request(cluster: Cluster) -> None:
    _create(cluster, "a", "b")
    _, first = cluster.rest("GET", f"{BASE}?limit=1")
    code, body = cluster.rest("GET", f"{BASE}?limit=1&resourceVersion=2&continue={first['metadata']['continue']}")
    assert (code, body["message"]) == (400, "specifying resource version is not allowed when using continue")
    code, body = cluster.rest("GET", f"{BASE}?limit=1&continue=not-a-token")
    assert (code, body["message"]) == (400, "invalid continue token: continue key is not valid")


def test_watch_list_sends_the_objects_then_a_bookmark_marking_their_end(cluster: Cluster) -> None:
    """`sendInitialEvents=true` with `resourceVersionMatch=NotOlderThan` (client-go's WatchList, KEP-3157):
    an ADDED per object, then a bookmark annotated `k8s.io/initial-events-end: "true"` at the revision they
    were read at (`storage/cacher`, `AnnotateInitialEventsEndBookmark`)."""
    _create(cluster, "a", "b")
    current = cluster.server.revision
    events = cluster.rest_watch(f"{BASE}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                                f"&allowWatchBookmarks=true", 3)
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert _names([e["object"] for e in events[:2]]) == ["a", "b"]
    assert events[2]["object"]["metadata"] == {"resourceVersion": str(current),
                                               "annotations": {"k8s.io/initial-events-end": "true"}}
    code, body = cluster.rest("GET", f"{BASE}?watch=1&sendInitialEvents=true")
    assert (code, body["message"]) == (422, ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: '
                                            'Forbidden: sendInitialEvents requires setting resourceVersionMatch to '
                                            'NotOlderThan'))
