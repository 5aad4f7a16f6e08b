"""The external channels: Slack (Block Kit), PagerDuty (Events v2) and Teams (adaptive card), over httpx.

Payload builders are pure. `WebhookChannel` posts through the injected `httpx.AsyncClient` (never one of its
own), classifies the answer (spec 3.5), and sends who it is and its fencing token in headers so that a
backend, real or fake, can tell which replica sent what under which lease.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import httpx

from notifier._channels import SendContext, classify_response, classify_transport_error
from notifier._errors import BackendRejectedError
from notifier._markdown import to_mrkdwn
from notifier._model import Notification, flatten_context

PAGERDUTY_URL: Final = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_LIMIT: Final = 512 * 1024
TEAMS_LIMIT: Final = 28 * 1024
TRUNCATED: Final = "[truncated -- full details in audit trail]"
EMOJI: Final = {"Critical": "\U0001f6a8", "High": "\u26a0\ufe0f", "Medium": "\u2139\ufe0f", "Low": "\U0001f4ac"}
PD_SEVERITY: Final = {"Critical": "critical", "High": "error", "Medium": "warning", "Low": "info"}

Payload = dict[str, Any]


def slack_payload(n: Notification) -> Payload:
    """Block Kit: a header with the priority emoji, the body as mrkdwn, a context line. Pure."""
    return {"blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": f"{EMOJI.get(n.priority, '📢')} {n.subject}"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": to_mrkdwn(n.body)}},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"*Priority:* {n.priority} | *Type:* {n.type}"}]},
    ]}


def pagerduty_payload(n: Notification, routing_key: str) -> Payload:
    """An Events v2 trigger, de-duplicated by the notification's name. Pure."""
    if not routing_key:
        raise BackendRejectedError("pagerduty routing key is empty")
    attrs = flatten_context(n.context)
    details: dict[str, str] = {"notification_type": n.type, "correlation_id": n.name}
    if attrs.get("rootCause"):
        details["rca_summary"] = attrs["rootCause"]
    if attrs.get("confidence"):
        details["confidence"] = attrs["confidence"]
    if attrs.get("targetResource"):
        details["affected_resource"] = attrs["targetResource"]
    if n.remediation_ref:
        details["kubectl_command"] = f"kubectl kubernaut chat rar/{n.remediation_ref} -n {n.namespace}"
    payload: Payload = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": n.name,
        "payload": {
            "summary": n.subject,
            "severity": PD_SEVERITY.get(n.priority, "warning"),
            "source": "kubernaut",
            "component": n.namespace,
            "custom_details": details,
        },
    }
    size = len(json.dumps(payload).encode())
    if size > PAGERDUTY_LIMIT and "rca_summary" in details:
        keep = max(0, len(details["rca_summary"]) - (size - PAGERDUTY_LIMIT) - len(TRUNCATED) - 16)
        details["rca_summary"] = details["rca_summary"][:keep] + TRUNCATED
    return payload


def teams_payload(n: Notification) -> Payload:
    """A Workflows message with one AdaptiveCard (version 1.0). Pure."""
    header: dict[str, Any] = {"type": "TextBlock", "text": n.subject, "weight": "Bolder", "size": "Large",
                              "wrap": True}
    if n.priority == "Critical":
        header.update(text=f"CRITICAL: {n.subject}", color="attention")
    elif n.priority == "High":
        header.update(text=f"HIGH: {n.subject}", color="warning")
    attrs = flatten_context(n.context)
    facts = [{"title": title, "value": attrs[key]} for title, key in
             (("Root Cause", "rootCause"), ("Confidence", "confidence"), ("Affected Resource", "targetResource"))
             if attrs.get(key)]
    body: list[dict[str, Any]] = [
        header,
        {"type": "TextBlock", "text": f"Priority: {n.priority.upper()} | Type: {n.type}", "isSubtle": True},
        {"type": "TextBlock", "text": n.body, "wrap": True},
    ]
    if facts:
        body.append({"type": "FactSet", "facts": facts})
    section = _teams_type_section(n, attrs)
    if section:
        body.append({"type": "FactSet", "facts": section})
    body.append({"type": "FactSet", "facts": [{"title": "Correlation ID", "value": n.remediation_ref or n.name}]})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.0", "body": body}
    payload: Payload = {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]}
    while len(json.dumps(payload).encode()) > TEAMS_LIMIT and len(body[2]["text"]) > len(TRUNCATED):
        text = body[2]["text"]
        body[2]["text"] = text[: len(text) // 2] + TRUNCATED
    return payload


def _teams_type_section(n: Notification, attrs: dict[str, str]) -> list[dict[str, str]]:
    keys = {
        "Approval": (("Approval Reason", "approvalReason"), ("Workflow", "selectedWorkflow")),
        "ManualReview": (("Review Reason", "reason"), ("Sub-reason", "subReason")),
        "Escalation": (("Outcome", "outcome"),),
        "Completion": (("Outcome", "outcome"), ("Workflow", "selectedWorkflow")),
    }.get(n.type, ())
    return [{"title": title, "value": attrs[key]} for title, key in keys if attrs.get(key)]


class WebhookChannel:
    """An external channel: POST a JSON payload, classify the answer.

    Args:
        kind: `slack`, `pagerduty` or `teams` (the circuit breaker's key).
        url: where to post; never logged or put in an error.
        client: the injected HTTP client.
        payload: builds the body from the notification.
        timeout: seconds before a request counts as timed out (retryable).
    """

    external = True

    def __init__(self, *, kind: str, url: str, client: httpx.AsyncClient,
                 payload: Callable[[Notification], Payload], timeout: float = 10.0) -> None:
        self.kind = kind
        self._url = url
        self._client = client
        self._payload = payload
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"WebhookChannel(kind={self.kind!r})"

    async def deliver(self, notification: Notification, context: SendContext) -> None:
        if not self._url:
            raise BackendRejectedError(f"{self.kind} webhook URL is empty")
        body = self._payload(notification)
        headers = {
            "X-Notifier-Notification": notification.uid,
            "X-Notifier-Channel": context.channel,
            "X-Notifier-Attempt": str(context.attempt),
            "X-Notifier-Replica": context.replica,
            "X-Notifier-Fencing-Token": context.fencing_token,
        }
        try:
            response = await self._client.post(self._url, json=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as error:
            raise classify_transport_error(self.kind, _scrub(error, self._url)) from None
        failure = classify_response(self.kind, response.status_code, response.text,
                                    response.headers.get("Retry-After"))
        if failure is not None:
            raise failure


def _scrub(error: httpx.HTTPError, url: str) -> Exception:
    """The same failure with the webhook URL cut out of its text (it is a secret)."""
    text = str(error).replace(url, "<webhook>")
    scrubbed = type(error)(text) if isinstance(error, httpx.TransportError) else RuntimeError(text)
    scrubbed.__cause__ = error.__cause__
    return scrubbed
