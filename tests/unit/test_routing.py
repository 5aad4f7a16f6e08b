"""Routing (spec 3.2): attributes, route matching with match/matchRe/continue, channel keys, fallback, reload."""

from __future__ import annotations

from typing import Any

import pytest

from notifier import ConfigError
from notifier._channels import ConsoleChannel
from notifier._model import Notification
from notifier._routing import Router, RoutingConfig, initial_config, resolve, routing_attributes
from notifier._yamlload import ConfigFileError, load_model
from tests.conftest import notification

CONFIG = """\
route:
  receiver: default
  routes:
    - match: {severity: critical}
      receiver: pager
      continue: true
    - matchRe: {type: "Escal"}
      receiver: escalations
    - match: {test-channel-set: fanout}
      receiver: fanout-console
      continue: true
    - match: {test-channel-set: fanout}
      receiver: fanout-file
    - match: {team: nested}
      receiver: parent
      routes:
        - match: {priority: Low}
          receiver: quiet
receivers:
  - name: default
    consoleConfigs: [{}]
  - name: pager
    pagerdutyConfigs: [{credentialRef: pd}]
    slackConfigs: [{credentialRef: s1}, {credentialRef: s2}]
  - name: escalations
    teamsConfigs: [{credentialRef: t}]
    consoleConfigs: [{enabled: false}]
  - name: fanout-console
    consoleConfigs: [{}]
  - name: fanout-file
    fileConfigs: [{}]
    consoleConfigs: [{}]
  - name: parent
    logConfigs: [{}]
  - name: quiet
    emailConfigs: [{}]
"""


def config() -> RoutingConfig:
    return load_model(CONFIG, RoutingConfig, "routing.yaml")


def n(**spec: Any) -> Notification:
    return Notification.from_object(notification(**spec))


def channels(**spec: Any) -> tuple[str, ...]:
    return resolve(config(), n(**spec)).channels


def test_no_match_uses_the_root_receiver() -> None:
    assert channels() == ("console",)


def test_match_is_exact_and_case_sensitive() -> None:
    assert channels(severity="Critical") == ("console",)


def test_continue_collects_the_next_matching_route_too() -> None:
    resolution = resolve(config(), n(severity="critical", type="Escalation"))
    assert resolution.receivers == ("pager", "escalations")


def test_credentialed_keys_come_first_and_are_indexed_when_several() -> None:
    assert channels(severity="critical") == ("slack:pager:0", "slack:pager:1", "pagerduty:pager")


def test_match_re_is_an_unanchored_search() -> None:
    assert channels(type="Escalation") == ("teams:escalations", "console")


def test_disabled_console_config_still_yields_console() -> None:
    assert "console" in channels(type="Escalation")


def test_fanout_concatenates_and_deduplicates_channels() -> None:
    assert channels(extensions={"test-channel-set": "fanout"}) == ("console", "file")


def test_nested_routes_fall_back_to_the_parents_receiver() -> None:
    assert channels(extensions={"team": "nested"}) == ("log",)
    assert channels(priority="Low", extensions={"team": "nested"}) == ("email",)


def test_routing_resolved_condition_lists_sorted_attributes() -> None:
    condition = resolve(config(), n(severity="critical")).condition()
    assert condition["reason"] == "RoutingRuleMatched"
    assert condition["message"] == ("Matched rules [pager] (attributes: priority=High, severity=critical, "
                                     "type=Simple) \u2192 channels: slack:pager:0, slack:pager:1, pagerduty:pager")


def test_initial_config_routes_everything_to_console_as_a_fallback() -> None:
    resolution = resolve(initial_config(), n())
    assert resolution.channels == ("console",) and resolution.receivers == ("console-fallback",)


def test_attributes_take_spec_fields_then_context_then_extensions_without_overwriting() -> None:
    attrs = routing_attributes(n(severity="warn", reviewSource="AIAnalysis",
                                 context={"analysis": {"rootCause": "oom"}},
                                 extensions={"severity": "ignored", "team": "sre"}))
    assert attrs == {"type": "Simple", "severity": "warn", "review-source": "AIAnalysis", "priority": "High",
                     "rootCause": "oom", "team": "sre"}


def test_verification_flags_are_flattened_as_strings() -> None:
    attrs = routing_attributes(n(context={"verification": {"assessed": True, "outcome": "ok"}}))
    assert (attrs["verificationAssessed"], attrs["verificationDegraded"], attrs["verificationOutcome"]) == (
        "true", "false", "ok")


def _router(credentials: dict[str, str]) -> Router:
    return Router(lambda kind, key, cfg, secret: ConsoleChannel(), lambda: credentials)


def test_router_registers_credentialed_channels() -> None:
    router = _router({"pd": "k", "s1": "u1", "s2": "u2", "t": "u3"})
    router.load_text(CONFIG)
    assert sorted(router.channels) == ["pagerduty:pager", "slack:pager:0", "slack:pager:1", "teams:escalations"]


def test_reload_that_fails_keeps_the_previous_config() -> None:
    router = _router({"pd": "k", "s1": "u1", "s2": "u2", "t": "u3"})
    router.load_text(CONFIG)
    before = router.config
    with pytest.raises(ConfigFileError):
        router.load_text("route: {receiver: nowhere}\nreceivers: [{name: other}]\n")
    assert router.config is before and router.generation == 1


def test_missing_credential_is_refused() -> None:
    with pytest.raises(ConfigFileError, match="credentialRef 's1' has no file"):
        _router({}).load_text(CONFIG)


def test_empty_reload_is_a_no_op() -> None:
    router = _router({})
    router.load_text("   \n")
    assert router.generation == 0


@pytest.mark.parametrize(("text", "line", "field", "problem"), [
    ("route: {receiver: a}\nreceivers:\n  - name: a\n    slackConfigs: [{}]\n", 0, "",
     "every slack config needs a credentialRef"),
    ("route: {receiver: b}\nreceivers:\n  - name: a\n", 0, "", "refers to receiver 'b'"),
    ("route: {receiver: a}\nreceivers: []\n", 2, "receivers", "at least 1 item"),
    ("receivers:\n  - name: a\n", 1, "route", "required field is missing"),
    ("route: {receiver: a}\nreceivers:\n  - name: a\n    smsConfigs: [{}]\n", 4, "receivers[0].smsConfigs",
     "unknown field"),
    ("route: {receiver: a, matchRe: {x: '('}}\nreceivers:\n  - name: a\n", 1, "route.matchRe",
     "not a valid regex"),
    ("route: [\n", 2, "", "not valid YAML"),
])
def test_invalid_routing_files_name_line_and_field(text: str, line: int, field: str, problem: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        load_model(text, RoutingConfig, "routing.yaml")
    error = caught.value
    assert problem in str(error)
    if line:
        assert error.line == line
    if field:
        assert error.field == field
    assert isinstance(error, ConfigError)
