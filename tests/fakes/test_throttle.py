"""A request the API server sheds (429 with `Retry-After`), and the controller's API waiting it out, on both
transports: the `api.throttle` fault in the simulation, the max-in-flight answer over HTTPS."""

from __future__ import annotations

import pytest

from notifier import NOTIFICATIONS, TooManyRequestsError
from notifier._throttle import MAX_RETRIES, RetryAfter
from tests.conftest import Cluster, notification


def test_a_shed_request_is_a_429_that_says_when_to_ask_again(cluster: Cluster) -> None:
    """max-in-flight and APF answer `http.Error(w, "Too many requests, please try again later.", 429)` with a
    `Retry-After` header (apiserver `server/filters`); the adapter makes it a `TooManyRequestsError` that
    carries the wait. (A create: urllib3 itself retries only idempotent methods on a 429.)"""
    cluster.shed(1, retry_after=2)
    with pytest.raises(TooManyRequestsError) as caught:
        cluster.create(notification())
    assert (caught.value.code, caught.value.details.get("retryAfterSeconds")) == (429, 2)
    assert cluster.server.revision == 1  # nothing was processed


def test_the_controllers_api_asks_again_after_the_wait_it_was_given(cluster: Cluster) -> None:
    """client-go's `checkWait` (`rest/request.go`): after a 429 the request is sent again once `Retry-After`
    has passed, for a write as for a read."""
    api = RetryAfter(cluster.api, cluster.runtime)
    cluster.shed(2, retry_after=1)
    before = cluster.now()
    created = cluster.run(api.create(NOTIFICATIONS, "default", notification()))
    assert created["metadata"]["name"] == "n1"
    assert cluster.now() - before >= 2.0


def test_the_controllers_api_gives_up_after_client_gos_retries(cluster: Cluster) -> None:
    if cluster.transport == "https":
        pytest.skip("eleven waits of a second each: the in-process run says the same in virtual time")
    api = RetryAfter(cluster.api, cluster.runtime)
    cluster.shed(MAX_RETRIES + 1, retry_after=1)
    with pytest.raises(TooManyRequestsError):
        cluster.run(api.create(NOTIFICATIONS, "default", notification()))
    assert cluster.now() == MAX_RETRIES


def test_a_429_without_retry_after_is_not_asked_again(cluster: Cluster) -> None:
    """client-go retries only when the answer says when (`checkWait` reads `Retry-After`)."""
    from notifier._throttle import retry_after

    assert retry_after(TooManyRequestsError("Too many requests, please try again later.")) is None
    assert retry_after(TooManyRequestsError("shed", details={"retryAfterSeconds": 3})) == 3.0
