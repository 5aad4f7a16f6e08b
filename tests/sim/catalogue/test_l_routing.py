"""Catalogue L (spec 7.2): routing, fanout, hot reload, credentials, skip-reason attributes."""

from __future__ import annotations

from typing import Any

import pytest

from harness._simfixture import Sim
from notifier._channels import ConsoleChannel
from notifier._model import Notification
from notifier._routing import Router, routing_attributes
from notifier._yamlload import ConfigFileError
from tests.conftest import notification
from tests.sim.catalogue._kit import deliver

TREE = """\
route:
  receiver: default-console
  routes:
    - match: {notification-target: signal}
      matchRe: {team: "^(sre|platform)$"}
      receiver: signal
    - matchRe: {notification-target: "rca"}
      receiver: rca
    - match: {fanout: "yes"}
      receiver: slack-sre
      continue: true
    - match: {fanout: "yes"}
      receiver: pagerduty-escalation
receivers:
  - name: default-console
    consoleConfigs: [{}]
  - name: signal
    slackConfigs: [{credentialRef: signal-hook}]
  - name: rca
    teamsConfigs: [{credentialRef: rca-hook}]
  - name: slack-sre
    slackConfigs: [{credentialRef: sre-hook}]
  - name: pagerduty-escalation
    pagerdutyConfigs: [{credentialRef: pd-key}]
"""
SECRETS = {"signal-hook": "u1", "rca-hook": "u2", "sre-hook": "u3", "pd-key": "k"}


def router(secrets: dict[str, str] | None = None, text: str = TREE) -> Router:
    creds = dict(SECRETS if secrets is None else secrets)
    r = Router(lambda kind, key, cfg, secret: ConsoleChannel(), lambda: creds)
    r.load_text(text)
    return r


def routed(r: Router, **extensions: str) -> Any:
    return r.resolve(Notification.from_object(notification(extensions=extensions)))


def test_fanout_delivers_to_every_matched_receiver(sim: Sim) -> None:
    """7.2 L75: should deliver to channels from all matched receivers (continue: console and file)."""
    run = deliver(sim, "console-file")
    assert run.status("alert")["successfulDeliveries"] == 2
    (condition,) = [c for c in run.status("alert")["conditions"] if c["type"] == "RoutingResolved"]
    assert condition["status"] == "True" and "console-file" in condition["message"]


def test_continue_routes_to_several_receivers() -> None:
    """7.2 L76: should route to multiple receivers via continue and deliver both channel sets."""
    resolution = routed(router(), fanout="yes")
    assert resolution.receivers == ("slack-sre", "pagerduty-escalation")
    assert resolution.channels == ("slack:slack-sre", "pagerduty:pagerduty-escalation")


def test_single_receiver_routing_still_works() -> None:
    """7.2 L77: should preserve backward-compatible single-receiver routing."""
    assert routed(router(), **{"notification-target": "rca"}).receivers == ("rca",)


def test_match_re_routes_on_target_and_team() -> None:
    """7.2 L78: should route on notification-target and team with matchRe; the rest goes to default-console."""
    r = router()
    assert routed(r, **{"notification-target": "signal", "team": "sre"}).receivers == ("signal",)
    assert routed(r, **{"notification-target": "signal", "team": "web"}).receivers == ("default-console",)
    assert routed(r, **{"notification-target": "rca-2"}).receivers == ("rca",)


def test_console_file_log_without_any_config_cache(sim: Sim) -> None:
    """7.2 L79: controller starts and reconciles without a ConfigMap cache: console-file-log reaches Sent."""
    assert deliver(sim, "console-file-log").status("alert")["phase"] == "Sent"


def test_reload_replaces_the_registered_keys() -> None:
    """7.2 L80: a routing reload rebuilds the delivery services: new keys appear, old ones go."""
    r = router()
    r.load_text("route: {receiver: b}\nreceivers:\n  - name: b\n    slackConfigs: [{credentialRef: sre-hook}]\n")
    assert sorted(r.channels) == ["slack:b"]


def test_credentials_are_read_before_routing_loads() -> None:
    """7.2 L81: startup ordering ensures credentials are ready before the routing reload."""
    assert "slack:signal" in router().channels


def test_no_routing_file_starts_with_the_console_fallback() -> None:
    """7.2 L82: with no routing file the default is console-fallback; a file loaded later takes over."""
    r = Router(lambda kind, key, cfg, secret: ConsoleChannel(), lambda: SECRETS)
    assert r.resolve(Notification.from_object(notification())).receivers == ("console-fallback",)
    r.load_text("route: {receiver: late-receiver}\nreceivers:\n  - name: late-receiver\n    consoleConfigs: [{}]\n")
    assert r.resolve(Notification.from_object(notification())).receivers == ("late-receiver",)


def test_credential_changes_are_picked_up_on_reload() -> None:
    """7.2 L83 and L87: a changed credential file changes the resolved secret on the next reload."""
    creds = dict(SECRETS)
    built: list[str] = []
    r = Router(lambda kind, key, cfg, secret: built.append(secret) or ConsoleChannel(), lambda: creds)
    r.load_text(TREE)
    creds["sre-hook"] = "rotated"
    r.load_text(TREE + "\n")
    assert "rotated" in built


def test_credential_ref_gives_a_per_receiver_key() -> None:
    """7.2 L84: routing config with credential_ref creates a per-receiver Slack key (slack:<receiver>)."""
    assert "slack:slack-sre" in router().channels


def test_receivers_deliver_to_distinct_endpoints(sim: Sim) -> None:
    """7.2 L85: multiple receivers deliver to distinct mock HTTP endpoints."""
    run = deliver(sim, "all-channels")
    assert {r.endpoint for r in run.receipts("alert")} == {"all-channels"}
    other = deliver(sim, "slack-only")
    assert {r.endpoint for r in other.receipts("alert")} == {"slack-only"}


def test_unresolvable_credential_is_rejected_and_the_previous_config_kept() -> None:
    """7.2 L86: a config with an unresolvable credential_ref is rejected; the previous config stays."""
    r = router()
    before = r.config
    with pytest.raises(ConfigFileError, match="credentialRef 'missing'"):
        r.load_text("route: {receiver: x}\nreceivers:\n  - name: x\n    slackConfigs: [{credentialRef: missing}]\n")
    assert r.config is before


def test_slack_and_console_give_a_qualified_and_a_plain_channel() -> None:
    """7.2 L88: a receiver with Slack and Console produces exactly slack:<receiver> and console."""
    text = ("route: {receiver: mixed-receiver}\nreceivers:\n  - name: mixed-receiver\n"
            "    slackConfigs: [{credentialRef: sre-hook}]\n    consoleConfigs: [{}]\n")
    assert routed(router(text=text)).channels == ("slack:mixed-receiver", "console")


def test_empty_credentials_reject_every_reference() -> None:
    """7.2 L89: an empty credentials directory rejects all credential_refs."""
    with pytest.raises(ConfigFileError):
        router(secrets={})


@pytest.mark.parametrize("reason", ["PreviousExecutionFailed", "ExhaustedRetries", "ResourceBusy",
                                    "RecentlyRemediated"])
def test_skip_reason_values_are_accepted(sim: Sim, reason: str) -> None:
    """7.2 L91-94: should accept all DD-WE-004 skip reason values; each is preserved and the NR completes."""
    run = deliver(sim, extensions={"skip-reason": reason})
    assert run.object("alert")["spec"]["extensions"]["skip-reason"] == reason
    assert run.status("alert")["phase"] == "Sent"


def test_skip_reason_is_preserved_through_creation(sim: Sim) -> None:
    """7.2 L90: should preserve the skip-reason label through CRD creation and retrieval."""
    run = deliver(sim, severity="critical", extensions={"skip-reason": "ResourceBusy"})
    spec = run.object("alert")["spec"]
    assert (spec["severity"], spec["extensions"]["skip-reason"]) == ("critical", "ResourceBusy")


def test_combined_skip_reason_and_environment(sim: Sim) -> None:
    """7.2 L95: should process notification with combined skip-reason and environment attributes."""
    run = deliver(sim, extensions={"skip-reason": "ExhaustedRetries", "environment": "prod"})
    assert run.status("alert")["phase"] == "Sent"


def test_no_skip_reason_uses_the_fallback_route(sim: Sim) -> None:
    """7.2 L96: should process notification without skip-reason label (fallback routing)."""
    assert deliver(sim, "default").status("alert")["phase"] == "Sent"


def test_routing_uses_spec_fields_not_labels() -> None:
    """7.2 L97: should use spec fields for routing, not kubernaut.ai labels."""
    body = notification(extensions={"team": "sre"})
    body["metadata"]["labels"] = {"kubernaut.ai/team": "web"}
    attrs = routing_attributes(Notification.from_object(body))
    assert attrs["team"] == "sre" and not any(key.startswith("kubernaut.ai/") for key in attrs)
