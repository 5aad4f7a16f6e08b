"""Catalogue Q (spec 7.2): concurrency, load and the circuit breaker, in virtual time (so, never flaky)."""

from __future__ import annotations

import pytest

from harness._simfixture import Sim
from tests.sim.catalogue._kit import deliver, policy


def names(count: int) -> list[str]:
    return [f"alert-{i:02d}" for i in range(count)] if count > 1 else ["alert"]


def all_sent(run: object, count: int) -> bool:
    return all(run.status(n)["phase"] == "Sent" for n in names(count))  # type: ignore[attr-defined]


def test_ten_concurrent_deliveries_without_races(sim: Sim) -> None:
    """7.2 Q127: should handle 10 concurrent notification deliveries without race conditions (10 Slack calls)."""
    run = deliver(sim, "slack-only", count=10, every=0.0, world={"workers": 5})
    assert all_sent(run, 10) and len(run.world.backends.receipts()) == 10


def test_rapid_successive_creations(sim: Sim) -> None:
    """7.2 Q128: should handle rapid successive CRD creations: all Sent, Slack calls == count."""
    run = deliver(sim, "slack-only", count=25, every=0.01, world={"workers": 5})
    assert all_sent(run, 25) and len(run.world.backends.receipts()) == 25


def test_concurrent_status_updates_without_conflicts(sim: Sim) -> None:
    """7.2 Q129: should handle concurrent status updates without conflicts: 5 Sent, successful 1 each."""
    run = deliver(sim, count=5, every=0.0, world={"workers": 5}, faults={"api.conflict": {"probability": 0.3}})
    assert all(run.status(n)["successfulDeliveries"] == 1 and run.status(n)["completionTime"] for n in names(5))


def test_breaker_opens_after_three_failures(sim: Sim) -> None:
    """7.2 Q130: should block requests after threshold failures (BR-NOT-061): attempts 4+ never reach Slack."""
    run = deliver(sim, "slack-only", slack=503, count=3, every=0.0, retry=policy(2))
    errors = [a["error"] for n in names(3) for a in run.attempts(n)]
    assert len(run.world.backends.receipts()) == 3
    assert sum("circuit breaker is open" in e for e in errors) == 3


def test_breaker_recovers_after_its_timeout(sim: Sim) -> None:
    """7.2 Q131: should allow requests after successful recovery: half-open after 30 s, then closed."""
    script = {"slack:slack-only": {"default": 200, "script": [503, 503, 503]}}
    run = deliver(sim, "slack-only", backends=script, count=3, every=0.0, retry=policy(5, initial=10))
    assert all_sent(run, 3)
    assert any("circuit breaker is open" in a["error"] for n in names(3) for a in run.attempts(n)
               if "error" in a) or len(run.world.backends.receipts()) == 6


@pytest.mark.parametrize(("body", "label"), [("x" * 1024, "1 KB"), ("y" * 500_000, "500 KB")])
def test_payload_sizes_are_delivered_untruncated(sim: Sim, body: str, label: str) -> None:
    """7.2 Q132-133: small (1 KB) and large (boundary) payloads are Sent and the stored body is whole."""
    run = deliver(sim, "slack-only", body=body)
    assert run.status("alert")["phase"] == "Sent" and run.object("alert")["spec"]["body"] == body
    assert run.completed_after("alert") < 10


def test_batch_of_large_payloads(sim: Sim) -> None:
    """7.2 Q134: should efficiently process batch of notifications with large payloads."""
    run = deliver(sim, "slack-only", count=10, every=0.1, body="z" * 100_000)
    assert all_sent(run, 10)


def test_fast_responses(sim: Sim) -> None:
    """7.2 Q135: should handle fast external service responses efficiently (< 10 s)."""
    assert deliver(sim, "slack-only").completed_after("alert") < 10


def test_mixed_payload_sizes_and_priorities(sim: Sim) -> None:
    """7.2 Q136: should maintain performance with mixed payload sizes and priorities: 100% success."""
    runs = [deliver(sim, "console-slack", priority=p, body=b) for p, b in
            (("Critical", "a"), ("Low", "b" * 50_000), ("Medium", "c" * 5_000))]
    assert all(r.status("alert")["phase"] == "Sent" for r in runs)


def test_burst_then_idle(sim: Sim) -> None:
    """7.2 Q137: should handle burst workload followed by idle period: all Sent, nothing left queued."""
    run = deliver(sim, count=30, every=0.0, world={"workers": 3}, quiet=600)
    assert all_sent(run, 30)
    assert all(len(r.manager.queue) == 0 for r in run.world.replicas)


def test_hundred_concurrent_console_deliveries(sim: Sim) -> None:
    """7.2 Q138: should handle 100 concurrent Console deliveries without resource exhaustion."""
    assert all_sent(deliver(sim, count=100, every=0.0, world={"workers": 10}), 100)


def test_hundred_concurrent_slack_deliveries(sim: Sim) -> None:
    """7.2 Q139: should handle 100 concurrent Slack deliveries: exactly 100 requests (the Go bound was 90-150)."""
    run = deliver(sim, "slack-only", count=100, every=0.0, world={"workers": 10})
    assert all_sent(run, 100) and len(run.world.backends.receipts()) == 100


def test_hundred_concurrent_mixed_deliveries(sim: Sim) -> None:
    """7.2 Q140: should handle 100 concurrent mixed-channel deliveries (Console + Slack)."""
    assert all_sent(deliver(sim, "console-slack", count=100, every=0.0, world={"workers": 10}), 100)


def test_many_slack_deliveries_share_one_client(sim: Sim) -> None:
    """7.2 Q141: should reuse HTTP connections for multiple Slack deliveries: 20 NRs, 20 requests, all Sent."""
    run = deliver(sim, "slack-only", count=20, every=0.05)
    assert all_sent(run, 20) and len(run.world.backends.receipts()) == 20


def test_delivery_continues_under_pressure(sim: Sim) -> None:
    """7.2 Q142: should continue delivering notifications even under resource pressure (slow API, lag)."""
    run = deliver(sim, "slack-only", count=20, every=0.05, faults={
        "api.latency": {"probability": 0.8, "max_seconds": 0.5}, "watch.delay": {"probability": 0.5,
                                                                                 "max_seconds": 2}})
    assert all_sent(run, 20)
