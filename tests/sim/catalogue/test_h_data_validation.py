"""Catalogue H (spec 7.2): data validation and sanitization, through the simulated API server and channels."""

from __future__ import annotations

import pytest

from harness._simfixture import Sim
from notifier import NOTIFICATIONS, InvalidError
from tests.conftest import Cluster, notification
from tests.sim.catalogue._kit import deliver


def test_minimal_valid_notification_is_delivered(sim: Sim) -> None:
    """7.2 H43: should successfully deliver minimal valid notification: Sent, 1/0."""
    status = deliver(sim).status("alert")
    assert (status["phase"], status["successfulDeliveries"], status["failedDeliveries"]) == ("Sent", 1, 0)


def test_maximum_subject_length_is_accepted_and_preserved(sim: Sim) -> None:
    """7.2 H44: should successfully deliver notification with maximum allowed subject length (500)."""
    run = deliver(sim, subject="s" * 500)
    assert run.status("alert")["phase"] == "Sent" and run.object("alert")["spec"]["subject"] == "s" * 500


def test_large_body_is_delivered(sim: Sim) -> None:
    """7.2 H45: should successfully deliver notification with large body content."""
    run = deliver(sim, "slack-only", body="b" * 64_000)
    assert run.status("alert")["phase"] == "Sent"
    assert run.receipts("alert")[0].payload["blocks"][1]["text"]["text"] == "b" * 64_000


def test_optional_fields_may_be_omitted(sim: Sim) -> None:
    """7.2 H46: should accept notification with optional fields omitted (BR-NOT-065)."""
    run = deliver(sim)
    assert "retryPolicy" not in run.object("alert")["spec"] and run.status("alert")["phase"] == "Sent"


def test_channels_come_from_routing_when_omitted(sim: Sim) -> None:
    """7.2 H47: should accept notification when channels omitted (routing rules apply): console fallback."""
    run = deliver(sim, "default")
    assert [a["channel"] for a in run.attempts("alert")] == ["console"]


def test_oversized_subject_is_rejected(cluster: Cluster) -> None:
    """7.2 H48: should reject notification with oversized subject (>500 chars)."""
    with pytest.raises(InvalidError, match=r"spec\.subject"):
        cluster.create(notification(subject="s" * 501))


def test_invalid_priority_is_rejected_naming_priority(cluster: Cluster) -> None:
    """7.2 H49: should reject notification with invalid priority value; the error mentions priority."""
    with pytest.raises(InvalidError, match="priority"):
        cluster.create(notification(priority="Urgent"))


def test_unicode_and_emoji_are_preserved(sim: Sim) -> None:
    """7.2 H50: should correctly handle and deliver notification with Unicode and emoji."""
    run = deliver(sim, "slack-only", subject="🔥 ディスク満杯", body="节点 😱 ok")
    assert run.object("alert")["spec"]["subject"] == "🔥 ディスク満杯" and run.status("alert")["phase"] == "Sent"
    assert "ディスク満杯" in run.receipts("alert")[0].payload["blocks"][0]["text"]["text"]


def test_duplicate_channels_are_delivered_once(sim: Sim) -> None:
    """7.2 H51: should handle duplicate channels gracefully with idempotency protection.

    Differs: channel keys are de-duplicated (DESIGN §4), so the outcome is Sent, never PartiallySent 1/2.
    """
    run = deliver(sim, "console-only")
    status = run.status("alert")
    assert (status["phase"], status["successfulDeliveries"], status["totalAttempts"]) == ("Sent", 1, 1)


def test_special_characters_and_html_are_safe(sim: Sim) -> None:
    """7.2 H52: should safely handle notification with special characters and HTML tags."""
    run = deliver(sim, "slack-only", body='<script>alert("x")</script> & <b>bold</b>')
    text = run.receipts("alert")[0].payload["blocks"][1]["text"]["text"]
    assert "<script>" not in text and "&lt;script&gt;" in text and run.status("alert")["successfulDeliveries"] == 1


def test_password_is_redacted_before_delivery(sim: Sim) -> None:
    """7.2 H53: should redact password in notification before delivery."""
    run = deliver(sim, "slack-only", body="db login failed: password=hunter2")
    text = run.receipts("alert")[0].payload["blocks"][1]["text"]["text"]
    assert "hunter2" not in text and "[REDACTED]" in text


def test_multiple_secrets_are_redacted(sim: Sim) -> None:
    """7.2 H54: should redact multiple secrets in single notification."""
    run = deliver(sim, "slack-only", body="token: abc123 and api_key=zzz9 and Bearer eyJhbGciOi.x.y")
    text = run.receipts("alert")[0].payload["blocks"][1]["text"]["text"]
    assert not any(secret in text for secret in ("abc123", "zzz9", "eyJhbGciOi"))


def test_alert_context_is_preserved_while_redacting(sim: Sim) -> None:
    """7.2 H55: should preserve alert context while redacting secrets (sanitization works on a copy)."""
    body = "pod web-1 OOMKilled; password=hunter2"
    run = deliver(sim, "slack-only", body=body)
    assert run.object("alert")["spec"]["body"] == body
    assert "pod web-1 OOMKilled" in run.receipts("alert")[0].payload["blocks"][1]["text"]["text"]


def test_secrets_in_urls_are_handled_safely(sim: Sim) -> None:
    """7.2 H56: should handle notifications with secrets in URLs safely."""
    run = deliver(sim, "slack-only", body="see postgres://admin:s3cret@db:5432/app")
    assert "s3cret" not in run.receipts("alert")[0].payload["blocks"][1]["text"]["text"]


def test_create_round_trips_through_the_api(cluster: Cluster) -> None:
    """7.2 H43 (API part): a minimal notification is stored as sent."""
    stored = cluster.create(notification())
    assert stored["spec"]["subject"] == "disk full" and cluster.server.get(NOTIFICATIONS, "default", "n1")
