"""Routing (spec 3.2): an Alertmanager-style route tree from spec attributes to receivers to channel keys.

The config model and `resolve` are pure. `Router` holds the current config and the channels it registers
(per-receiver Slack, PagerDuty and Teams keys, with their credentials); a reload that fails validation keeps
the previous config. Unlike the Go controller, channel keys from several receivers are de-duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from notifier._channels import Channel
from notifier._errors import ConfigError
from notifier._model import Notification, flatten_context
from notifier._yamlload import ConfigFileError, load_model

FALLBACK_RECEIVER = "default-console-fallback"
INITIAL_RECEIVER = "console-fallback"
#: The kinds of channel, and those of them that leave the cluster (need credentials, can duplicate): the one
#: place they are written.
ExternalKind = Literal["slack", "pagerduty", "teams"]
ChannelKind = Literal[ExternalKind, "console", "file", "log"]
EXTERNAL_KINDS: tuple[str, ...] = get_args(ExternalKind)
CHANNEL_KINDS: tuple[str, ...] = get_args(ChannelKind)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class CredentialConfig(_Strict):
    credential_ref: str = Field(default="", alias="credentialRef")


class SlackConfig(CredentialConfig):
    channel: str = ""
    username: str = ""
    icon_emoji: str = Field(default="", alias="iconEmoji")


class PagerDutyConfig(CredentialConfig):
    url: str = ""
    severity: str = ""


class TeamsConfig(CredentialConfig):
    pass


class PlainConfig(_Strict):
    enabled: bool = True
    to: str = ""
    url: str = ""


class Receiver(_Strict):
    name: str = Field(min_length=1)
    slack_configs: tuple[SlackConfig, ...] = Field(default=(), alias="slackConfigs")
    pagerduty_configs: tuple[PagerDutyConfig, ...] = Field(default=(), alias="pagerdutyConfigs")
    teams_configs: tuple[TeamsConfig, ...] = Field(default=(), alias="teamsConfigs")
    email_configs: tuple[PlainConfig, ...] = Field(default=(), alias="emailConfigs")
    webhook_configs: tuple[PlainConfig, ...] = Field(default=(), alias="webhookConfigs")
    console_configs: tuple[PlainConfig, ...] = Field(default=(), alias="consoleConfigs")
    file_configs: tuple[PlainConfig, ...] = Field(default=(), alias="fileConfigs")
    log_configs: tuple[PlainConfig, ...] = Field(default=(), alias="logConfigs")

    def credentialed(self) -> list[tuple[str, str, CredentialConfig]]:
        """(kind, channel key, config) for Slack, PagerDuty and Teams, in that order."""
        out: list[tuple[str, str, CredentialConfig]] = []
        groups: tuple[tuple[str, tuple[CredentialConfig, ...]], ...] = (
            ("slack", self.slack_configs), ("pagerduty", self.pagerduty_configs), ("teams", self.teams_configs))
        for kind, configs in groups:
            for index, config in enumerate(configs):
                if not config.credential_ref:
                    key = kind
                elif len(configs) > 1:
                    key = f"{kind}:{self.name}:{index}"
                else:
                    key = f"{kind}:{self.name}"
                out.append((kind, key, config))
        return out

    def channels(self) -> list[str]:
        """`QualifiedChannels`: credentialed keys, then email, webhook, console, file, log; console if none."""
        keys = [key for _, key, _ in self.credentialed()]
        for kind, configs in (("email", self.email_configs), ("webhook", self.webhook_configs),
                              ("console", self.console_configs), ("file", self.file_configs),
                              ("log", self.log_configs)):
            if configs:
                keys.append(kind)
        return keys or ["console"]


class Route(_Strict):
    receiver: str = ""
    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict, alias="matchRe")
    continue_: bool = Field(default=False, alias="continue")
    routes: tuple[Route, ...] = ()

    @field_validator("match_re")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        for key, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"matchRe {key!r}: {pattern!r} is not a valid regex: {error}") from None
        return value

    def matches(self, attributes: Mapping[str, str]) -> bool:
        if any(attributes.get(key, "") != value for key, value in self.match.items()):
            return False
        return all(key in attributes and re.search(pattern, attributes[key]) for key, pattern in self.match_re.items())

    def receivers_of(self) -> list[str]:
        return [self.receiver] + [name for route in self.routes for name in route.receivers_of()]


class RoutingConfig(_Strict):
    route: Route
    receivers: tuple[Receiver, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> RoutingConfig:
        names = [receiver.name for receiver in self.receivers]
        for name in self.route.receivers_of():
            if name and name not in names:
                raise ValueError(f"route refers to receiver {name!r}, which is not defined; defined: {names}")
        for receiver in self.receivers:
            for kind, key, config in receiver.credentialed():
                if not config.credential_ref:
                    raise ValueError(f"receiver {receiver.name!r}: every {kind} config needs a credentialRef ({key})")
        return self

    def receiver(self, name: str) -> Receiver | None:
        return next((r for r in self.receivers if r.name == name), None)


def initial_config() -> RoutingConfig:
    """Before any file is loaded: everything to console."""
    return RoutingConfig(route=Route(receiver=INITIAL_RECEIVER),
                         receivers=(Receiver.model_validate({"name": INITIAL_RECEIVER, "consoleConfigs": [{}]}),))


def routing_attributes(n: Notification) -> dict[str, str]:
    """Spec fields, then the flattened context, then extensions; earlier keys win. Pure."""
    attrs: dict[str, str] = {}
    for key, value in (("type", n.type), ("severity", n.severity), ("phase", n.phase_hint),
                       ("review-source", n.review_source), ("priority", n.priority)):
        if value:
            attrs[key] = value
    for source in (flatten_context(n.context), n.extensions):
        for key, value in source.items():
            attrs.setdefault(key, value)
    return attrs


def find_receivers(route: Route, attributes: Mapping[str, str]) -> list[str]:
    """The receivers of the first matching children (more while `continue`), else the route's own. Pure."""
    found: list[str] = []
    for child in route.routes:
        if not child.matches(attributes):
            continue
        names = find_receivers(child, attributes) if child.routes else [child.receiver]
        found.extend(name for name in names if name not in found)
        if not child.continue_:
            break
    return found or [route.receiver]


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """The channels of one notification, and what to say about how they were found."""

    channels: tuple[str, ...]
    receivers: tuple[str, ...]
    fallback: bool
    attributes: tuple[tuple[str, str], ...]

    def condition(self) -> dict[str, str]:
        """The RoutingResolved condition; attributes in sorted order, so the message is stable."""
        attrs = ", ".join(f"{k}={v}" for k, v in self.attributes)
        if self.fallback:
            return {"type": "RoutingResolved", "status": "True", "reason": "RoutingFallback",
                    "message": f"No routing rules matched (attributes: {attrs}), using console fallback"}
        return {"type": "RoutingResolved", "status": "True", "reason": "RoutingRuleMatched",
                "message": f"Matched rules [{', '.join(self.receivers)}] (attributes: {attrs}) "
                           f"\u2192 channels: {', '.join(self.channels)}"}


def resolve(config: RoutingConfig, n: Notification) -> Resolution:
    """Route a notification to its channel keys, de-duplicated in first-seen order. Pure."""
    attributes = routing_attributes(n)
    names = find_receivers(config.route, attributes)
    receivers = [r for r in (config.receiver(name) for name in names) if r is not None]
    channels: list[str] = []
    for receiver in receivers:
        channels.extend(key for key in receiver.channels() if key not in channels)
    fallback = not channels or [r.name for r in receivers] == [FALLBACK_RECEIVER]
    return Resolution(channels=tuple(channels or ["console"]),
                      receivers=tuple(r.name for r in receivers) or (FALLBACK_RECEIVER,),
                      fallback=fallback, attributes=tuple(sorted(attributes.items())))


def read_credentials(directory: Path) -> dict[str, str]:
    """Every file of the directory: name = credential ref, stripped content = secret."""
    if not directory.is_dir():
        raise ConfigError(f"credentials directory {str(directory)!r} does not exist or is not a directory")
    return {path.name: path.read_text().strip() for path in sorted(directory.iterdir())
            if path.is_file() and not path.name.startswith(".")}


ChannelFactory = Callable[[str, str, CredentialConfig, str], Channel]


class Router:
    """The live routing config and the external channels it registers.

    Args:
        build: makes a channel from (kind, key, config, secret).
        credentials: reads the current credentials (ref -> secret).
    """

    def __init__(self, build: ChannelFactory, credentials: Callable[[], Mapping[str, str]]) -> None:
        self._build = build
        self._credentials = credentials
        self.config = initial_config()
        self.channels: dict[str, Channel] = {}
        self.generation = 0

    def load_text(self, text: str, path: str = "routing.yaml") -> None:
        """Validate and swap in a new config; on any error the previous one stays. Empty text is a no-op."""
        if not text.strip():
            return
        config = load_model(text, RoutingConfig, path)
        secrets = self._credentials()
        channels: dict[str, Channel] = {}
        for receiver in config.receivers:
            for kind, key, cfg in receiver.credentialed():
                secret = secrets.get(cfg.credential_ref)
                if secret is None:
                    raise ConfigFileError(path, 0, f"receivers.{receiver.name}",
                                          f"credentialRef {cfg.credential_ref!r} has no file in the credentials "
                                          f"directory")
                channels[key] = self._build(kind, key, cfg, secret)
        self.config, self.channels = config, channels
        self.generation += 1

    def resolve(self, n: Notification) -> Resolution:
        return resolve(self.config, n)
