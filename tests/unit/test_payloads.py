"""Each external channel's payload shape (spec 3.6) and Slack's mrkdwn conversion."""

from __future__ import annotations

import json
from typing import Any

import pytest

from notifier import BackendRejectedError
from notifier._markdown import to_mrkdwn
from notifier._model import Notification
from notifier._webhooks import PAGERDUTY_LIMIT, TEAMS_LIMIT, TRUNCATED, pagerduty_payload, slack_payload, teams_payload
from tests.conftest import notification


def n(**spec: Any) -> Notification:
    body = notification("disk-alert", namespace="prod", **spec)
    body["metadata"]["uid"] = "u-1"
    return Notification.from_object(body)


@pytest.mark.parametrize(("priority", "emoji"), [
    ("Critical", "\U0001f6a8"), ("High", "\u26a0\ufe0f"), ("Medium", "\u2139\ufe0f"), ("Low", "\U0001f4ac")])
def test_slack_header_carries_the_priority_emoji(priority: str, emoji: str) -> None:
    blocks = slack_payload(n(priority=priority))["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": f"{emoji} disk full"}}


def test_slack_payload_is_blocks_only_with_section_and_context() -> None:
    payload = slack_payload(n(body="**hot** disk"))
    assert list(payload) == ["blocks"]
    assert payload["blocks"][1] == {"type": "section", "text": {"type": "mrkdwn", "text": "*hot* disk"}}
    assert payload["blocks"][2]["elements"] == [{"type": "mrkdwn", "text": "*Priority:* High | *Type:* Simple"}]


@pytest.mark.parametrize(("markdown", "mrkdwn"), [
    ("**bold** and __bold__", "*bold* and *bold*"),
    ("~~gone~~", "~gone~"),
    ("[docs](https://d.example/x)", "<https://d.example/x|docs>"),
    ("![graph](https://g.example/p.png)", "<https://g.example/p.png|graph>"),
    ("# Heading", "*Heading*"),
    ("a & b < c", "a &amp; b &lt; c"),
    ("> quoted", "> quoted"),
    ("`**code**`", "`**code**`"),
    ("```python\nx = 1 < 2\n```", "```\nx = 1 < 2\n```"),
])
def test_markdown_becomes_slack_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


@pytest.mark.parametrize(("priority", "severity"), [("Critical", "critical"), ("High", "error"),
                                                    ("Medium", "warning"), ("Low", "info")])
def test_pagerduty_severity_follows_priority(priority: str, severity: str) -> None:
    assert pagerduty_payload(n(priority=priority), "rk")["payload"]["severity"] == severity


def test_pagerduty_payload_shape() -> None:
    spec = {"context": {"analysis": {"rootCause": "disk leak"}, "workflow": {"confidence": "0.9"},
                        "target": {"targetResource": "Node/node-1"}},
            "remediationRequestRef": {"name": "rr-7"}}
    payload = pagerduty_payload(n(**spec), "routing-key")
    assert payload["routing_key"] == "routing-key" and payload["event_action"] == "trigger"
    assert payload["dedup_key"] == "disk-alert"
    assert payload["payload"] == {
        "summary": "disk full", "severity": "error", "source": "kubernaut", "component": "prod",
        "custom_details": {"notification_type": "Simple", "correlation_id": "disk-alert", "rca_summary": "disk leak",
                           "confidence": "0.9", "affected_resource": "Node/node-1",
                           "kubectl_command": "kubectl kubernaut chat rar/rr-7 -n prod"}}


def test_pagerduty_empty_routing_key_is_permanent() -> None:
    with pytest.raises(BackendRejectedError):
        pagerduty_payload(n(), "")


def test_pagerduty_truncates_a_huge_rca_summary() -> None:
    payload = pagerduty_payload(n(context={"analysis": {"rootCause": "x" * (PAGERDUTY_LIMIT + 1000)}}), "rk")
    assert len(json.dumps(payload).encode()) <= PAGERDUTY_LIMIT
    assert payload["payload"]["custom_details"]["rca_summary"].endswith(TRUNCATED)


def test_teams_payload_is_one_adaptive_card() -> None:
    payload = teams_payload(n(priority="Critical"))
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.0")
    assert card["body"][0]["text"] == "CRITICAL: disk full" and card["body"][0]["color"] == "attention"
    assert card["body"][1]["text"] == "Priority: CRITICAL | Type: Simple"
    assert card["body"][-1]["facts"] == [{"title": "Correlation ID", "value": "disk-alert"}]


def test_teams_high_priority_header_is_a_warning() -> None:
    header = teams_payload(n(priority="High"))["attachments"][0]["content"]["body"][0]
    assert (header["text"], header["color"]) == ("HIGH: disk full", "warning")


def test_teams_payload_is_cut_to_28_kib() -> None:
    payload = teams_payload(n(body="y" * (TEAMS_LIMIT * 2)))
    assert len(json.dumps(payload).encode()) <= TEAMS_LIMIT
