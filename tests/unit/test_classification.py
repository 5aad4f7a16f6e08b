"""Error classification (spec 3.5) through the real Slack channel, httpx and a respx router."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest
import respx

from notifier import BackendError, BackendRejectedError, BackendUnavailableError
from notifier._channels import SendContext, classify_response, classify_transport_error, error_text
from notifier._model import Notification
from notifier._webhooks import WebhookChannel, slack_payload
from tests.conftest import notification

URL = "https://hooks.slack.test/services/T000/B000/SECRET"


def deliver(side_effect: object) -> BackendError | None:
    router = respx.MockRouter(using=None)
    router.post(URL).mock(side_effect=side_effect)

    async def main() -> BackendError | None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
            channel = WebhookChannel(kind="slack", url=URL, client=client, payload=slack_payload)
            n = Notification.from_object({**notification(), "metadata": {"name": "n", "namespace": "d", "uid": "u"}})
            try:
                await channel.deliver(n, SendContext(channel="slack", attempt=1))
            except BackendError as error:
                return error
            return None
    return asyncio.run(main())


@pytest.mark.parametrize("status", [200, 201, 204])
def test_2xx_is_success(status: int) -> None:
    assert deliver(httpx.Response(status)) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 408, 410, 422, 301])
def test_other_status_is_permanent(status: int) -> None:
    error = deliver(httpx.Response(status, text="nope"))
    assert isinstance(error, BackendRejectedError) and error.status == status
    assert str(error) == f"slack webhook returned {status} (permanent failure): nope"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_429_and_5xx_are_retryable(status: int) -> None:
    error = deliver(httpx.Response(status, text="busy"))
    assert isinstance(error, BackendUnavailableError) and error.status == status
    assert str(error) == f"slack webhook returned {status} (retryable): busy"


def test_retry_after_is_recorded_but_not_obeyed() -> None:
    error = deliver(httpx.Response(429, headers={"Retry-After": "30"}))
    assert isinstance(error, BackendUnavailableError) and error.retry_after == 30


def test_200_with_a_malformed_body_is_success() -> None:
    assert deliver(httpx.Response(200, text="{not json")) is None


@pytest.mark.parametrize("raised", [
    httpx.ReadTimeout("client timeout"), httpx.ConnectTimeout("connect timeout"),
    httpx.ConnectError("[Errno -2] Name or service not known"), httpx.ConnectError("connection refused"),
    httpx.RemoteProtocolError("peer closed connection"),
])
def test_transport_failures_are_retryable(raised: Exception) -> None:
    assert isinstance(deliver(raised), BackendUnavailableError)


def test_tls_failure_is_permanent() -> None:
    raised = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    error = deliver(raised)
    assert isinstance(error, BackendRejectedError)
    assert str(error).startswith("TLS certificate validation failed (permanent failure - BR-NOT-058): ")


def test_ssl_error_in_the_cause_chain_is_permanent() -> None:
    wrapped = httpx.ConnectError("handshake failed")
    wrapped.__cause__ = ssl.SSLError("bad handshake")
    assert isinstance(classify_transport_error("slack", wrapped), BackendRejectedError)


def test_the_webhook_url_never_appears_in_an_error() -> None:
    error = deliver(httpx.ConnectError(f"cannot connect to {URL}"))
    assert error is not None and "SECRET" not in str(error)


def test_empty_url_is_permanent() -> None:
    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200))) as client:
            channel = WebhookChannel(kind="teams", url="", client=client, payload=slack_payload)
            n = Notification.from_object(notification())
            await channel.deliver(n, SendContext(channel="teams", attempt=1))
    with pytest.raises(BackendRejectedError, match=r"^teams webhook URL is empty$"):
        asyncio.run(main())


def test_permanent_errors_are_stored_with_the_marker() -> None:
    assert error_text(BackendRejectedError("401")) == "permanent failure: 401"
    assert error_text(BackendUnavailableError("503")) == "503"


def test_classify_response_for_success_is_none() -> None:
    assert classify_response("pagerduty", 202, "") is None


def test_headers_carry_identity_and_fencing_token() -> None:
    seen: list[httpx.Request] = []
    router = respx.MockRouter(using=None)
    router.post(URL).mock(side_effect=lambda request: seen.append(request) or httpx.Response(200))

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
            channel = WebhookChannel(kind="slack", url=URL, client=client, payload=slack_payload)
            n = Notification.from_object({**notification(), "metadata": {"name": "n", "namespace": "d", "uid": "u1"}})
            await channel.deliver(n, SendContext(channel="slack:sre", attempt=2, replica="r0", fencing_token="r0@3"))
    asyncio.run(main())
    headers = seen[0].headers
    names = ("Notification", "Channel", "Attempt", "Replica", "Fencing-Token")
    assert tuple(headers[f"X-Notifier-{name}"] for name in names) == ("u1", "slack:sre", "2", "r0", "r0@3")
