"""Scenario files: a world, its traffic, its faults, what must hold, validated on load.

A scenario is YAML validated by pydantic; a bad file is a `ConfigFileError` naming the file, the line and the
field (the CLI prints it and exits 2). Channel sets route notifications by `extensions.test-channel-set`, the
way the Go integration suite did; each credentialed channel of a set gets its own fake endpoint
`<kind>:<set>`, whose behaviour the scenario scripts.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fakes.backends import Behavior
from harness._faults import FAULTS, FaultIntensity
from harness._invariants import INVARIANTS
from harness._observed import SYMPTOMS
from harness._rig import routing_for
from harness._world import DEFAULT_MAX_STEPS, DEFAULT_WALL_SECONDS
from notifier import ConfigFileError, load_model
from notifier.model import CHANNEL_KINDS, EXTERNAL_KINDS, ChannelKind, ExternalKind


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WorldSpec(_Strict):
    replicas: int = Field(default=1, ge=1, le=16)
    workers: int = Field(default=1, ge=1, le=64)
    lock: Literal["lease", "none"] = "lease"
    leader_election: bool = False
    guarantees: dict[ExternalKind, Literal["at-least-once", "at-most-once"]] = Field(
        default_factory=dict)
    lease_duration: float = Field(default=30.0, gt=0)
    garbage_collector: bool = Field(default=True, description="run kube-controller-manager's garbage "
                                    "collector: what a deleted object owned (its delivery Leases) is deleted too")
    max_steps: int = Field(default=DEFAULT_MAX_STEPS, ge=1, description="task steps before `no-progress`")
    wall_seconds: float = Field(default=DEFAULT_WALL_SECONDS, gt=0, description="wall seconds before `no-progress`")


class BehaviorSpec(_Strict):
    outcome: Literal["status", "timeout-after-receive", "reset", "tls-error"] = "status"
    status: int = Field(default=200, ge=100, le=599)
    latency: float = Field(default=0.0, ge=0)
    retry_after: float | None = Field(default=None, ge=0)

    def behavior(self) -> Behavior:
        return Behavior(outcome=self.outcome, status=self.status, latency=self.latency, retry_after=self.retry_after)


BehaviorLike = Annotated[int, Field(ge=100, le=599)] | BehaviorSpec


def _behavior(value: BehaviorLike) -> Behavior:
    return Behavior(status=value) if isinstance(value, int) else value.behavior()


class EndpointSpec(_Strict):
    default: BehaviorLike = 200
    script: tuple[BehaviorLike, ...] = ()


class PolicySpec(_Strict):
    max_attempts: int = Field(default=5, ge=1, le=10, alias="maxAttempts")
    initial_backoff_seconds: int = Field(default=30, ge=1, le=300, alias="initialBackoffSeconds")
    backoff_multiplier: int = Field(default=2, ge=1, le=10, alias="backoffMultiplier")
    max_backoff_seconds: int = Field(default=480, ge=60, le=3600, alias="maxBackoffSeconds")


class NotificationSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=200)
    count: int = Field(default=1, ge=1, le=10_000)
    channels: str = "default"
    start: float = Field(default=0.0, ge=0)
    every: float = Field(default=0.0, ge=0)
    priority: Literal["Critical", "High", "Medium", "Low"] = "High"
    type: Literal["Escalation", "Simple", "StatusUpdate", "Approval", "ManualReview", "Completion"] = "Simple"
    subject: str = Field(default="disk pressure on node-1", min_length=1, max_length=500)
    body: str = Field(default="node-1 disk usage is 95%", min_length=1)
    retry_policy: PolicySpec | None = Field(default=None, alias="retryPolicy")
    severity: str = ""
    review_source: Literal["AIAnalysis", "WorkflowExecution", "RoutingEngine"] | None = Field(
        default=None, alias="reviewSource")
    context: dict[str, dict[str, str | bool]] = Field(default_factory=dict)
    extensions: dict[str, str] = Field(default_factory=dict)

    def names(self) -> list[str]:
        if self.count == 1:
            return [self.name]
        width = max(2, len(str(self.count - 1)))
        return [f"{self.name}-{i:0{width}d}" for i in range(self.count)]


class FaultSpec(_Strict):
    probability: float = Field(ge=0, le=1)
    max_seconds: float = Field(default=0.0, ge=0)


class PhasesSpec(_Strict):
    fault: float = Field(default=120.0, ge=0)
    quiet: float = Field(default=900.0, gt=0)
    bound: float = Field(default=900.0, gt=0, description="liveness: terminal within this long after quiet begins")


class ExpectSpec(_Strict):
    name: str
    phase: Literal["Pending", "Sending", "Retrying", "Sent", "PartiallySent", "Failed"] | None = None
    reason: str | None = None
    total_attempts: int | None = Field(default=None, ge=0)
    successful: int | None = Field(default=None, ge=0)
    failed: int | None = Field(default=None, ge=0)
    completed_within: float | None = Field(default=None, ge=0,
                                           description="seconds from creation to completionTime, at most")

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.name)


#: What a client (kubectl, another controller) does to a notification, at a time the scenario scripts.
TRAFFIC: Final[Mapping[str, str]] = {
    "delete": "delete the notification (its deletion may land in the middle of a delivery)",
    "delete-held": "delete it while another party's finalizer holds it: it stays, marked for deletion, until that "
                   "party lets go `hold` seconds later",
    "recreate": "delete the notification and create it again under the same name (a new uid)",
    "label": "set a label (a metadata-only update: a watch event, a reconcile, nothing to deliver)",
    "annotate": "set an annotation (the same, through another field)",
    "update-spec": "change the spec, which the CRD makes immutable: the server must refuse it (422)",
}


Action = Literal["delete", "delete-held", "recreate", "label", "annotate", "update-spec"]


class TrafficSpec(_Strict):
    """One scripted client action: `action` on notification `name`, `at` virtual seconds into the run; a burst
    when `repeat` is above 1 (the action again every `every` seconds)."""

    at: float = Field(ge=0)
    action: Action
    name: str
    value: str = Field(default="traffic", pattern=r"^[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$", max_length=63)
    repeat: int = Field(default=1, ge=1, le=1000)
    every: float = Field(default=0.0, ge=0)
    hold: float = Field(default=5.0, ge=0, description="delete-held: seconds until the other party lets go")


class ClientsSpec(_Strict):
    """Client traffic the world draws from its choices, under random, pct and swarm (swarm enables a random
    subset of the actions): `count` actions, each on a notification of the scenario at a time in
    [start, end] (default end: the end of the fault phase), each a burst of up to `burst` repeats."""

    actions: tuple[Action, ...] = Field(min_length=1)
    count: int = Field(default=5, ge=1, le=10_000)
    start: float = Field(default=0.0, ge=0)
    end: float | None = Field(default=None, gt=0)
    burst: int = Field(default=1, ge=1, le=100)


class SymptomSpec(_Strict):
    """What a world must not end up showing (as kubectl would print it): a scenario `reproduce` built from a
    dump carries the symptom the dump showed, judged as the `symptom` check on the world's end."""

    kind: str
    notification: str
    channel: str = ""
    told: bool = Field(default=False, description="the user told it, the dump does not show it: a "
                       "duplicate delivery is then judged on what the channel received")

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in SYMPTOMS:
            raise ValueError(f"unknown symptom {value!r}; known: {', '.join(SYMPTOMS)}")
        return value


class CampaignSpec(_Strict):
    seeds: int = Field(default=200, ge=1, le=1_000_000)
    strategy: Literal["random", "pct", "swarm", "sites", "hypothesis"] = "swarm"


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][-a-z0-9]*$")
    description: str = ""
    world: WorldSpec = WorldSpec()
    channels: dict[str, tuple[ChannelKind, ...]] = Field(
        default_factory=dict, validate_default=True)
    backends: dict[str, EndpointSpec] = Field(default_factory=dict)
    notifications: tuple[NotificationSpec, ...] = Field(min_length=1)
    faults: dict[str, FaultSpec] = Field(default_factory=dict)
    phases: PhasesSpec = PhasesSpec()
    invariants: tuple[str, ...] = ("all",)
    expect: tuple[ExpectSpec, ...] = ()
    campaign: CampaignSpec = CampaignSpec()
    reload_channels: dict[str, tuple[str, ...]] | None = None
    traffic: tuple[TrafficSpec, ...] = ()
    clients: ClientsSpec | None = None
    symptom: SymptomSpec | None = None

    @field_validator("channels")
    @classmethod
    def _some_channels(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if not value:
            raise ValueError("a scenario needs at least one channel set for its notifications, e.g. "
                             "channels: {slack-only: [slack]}")
        for name, kinds in value.items():
            if not kinds:
                raise ValueError(f"channel set {name!r} names no channel; use some of {', '.join(CHANNEL_KINDS)}")
        return value

    @field_validator("faults")
    @classmethod
    def _known_faults(cls, value: dict[str, FaultSpec]) -> dict[str, FaultSpec]:
        for name in value:
            if name not in FAULTS:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
        return value

    @field_validator("invariants")
    @classmethod
    def _known_invariants(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name != "all" and name not in INVARIANTS:
                raise ValueError(f"unknown invariant {name!r}; known: all, {', '.join(INVARIANTS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        for spec in self.notifications:
            if spec.channels != "default" and spec.channels not in self.channels:
                raise ValueError(f"notification {spec.name!r} uses channel set {spec.channels!r}, which is not "
                                 f"defined; defined: {sorted(self.channels)}")
        names = {name for spec in self.notifications for name in spec.names()}
        for step in self.traffic:
            if step.name not in names:
                raise ValueError(f"traffic names notification {step.name!r}, which the scenario does not create")
        if self.symptom is not None and self.symptom.notification not in names:
            raise ValueError(f"the symptom names notification {self.symptom.notification!r}, which the scenario "
                             f"does not create")
        endpoints = set(self.endpoint_keys())
        for key in self.backends:
            if key not in endpoints:
                raise ValueError(f"backend {key!r} matches no credentialed channel; expected one of "
                                 f"{sorted(endpoints)}")
        return self

    def endpoint_keys(self) -> list[str]:
        return [f"{kind}:{name}" for name, kinds in self.channels.items() for kind in kinds if kind in EXTERNAL_KINDS]

    def invariant_names(self) -> list[str]:
        return list(INVARIANTS) if "all" in self.invariants else list(self.invariants)

    def routing(self, channels: dict[str, tuple[str, ...]] | None = None) -> str:
        sets = channels if channels is not None else self.channels
        return routing_for(*((name, list(kinds)) for name, kinds in sorted(sets.items())))

    def intensities(self) -> dict[str, FaultIntensity]:
        return {name: FaultIntensity(probability=f.probability, max_seconds=f.max_seconds)
                for name, f in sorted(self.faults.items())}

    def behaviors(self, key: str) -> tuple[Behavior, tuple[Behavior, ...]]:
        spec = self.backends.get(key, EndpointSpec())
        return _behavior(spec.default), tuple(_behavior(b) for b in spec.script)


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; raises ConfigFileError naming file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(str(path), 0, "", f"cannot read the file: {error.strerror}") from None
    return load_model(text, Scenario, str(path))


def bundled_dir() -> Path:
    """The scenarios shipped with the project: `harness/scenarios/` in an installed wheel, `scenarios/` beside
    the packages in a checkout (and an editable install)."""
    here = Path(__file__).resolve().parent
    shipped = here / "scenarios"
    return shipped if shipped.is_dir() else here.parent / "scenarios"


def bundled() -> list[Path]:
    return sorted(bundled_dir().glob("*.yaml"))


def resolve_scenario(text: str) -> Path:
    """A scenario argument: a path to a file, or the name of a bundled scenario (as `list` prints it).

    Raises:
        ConfigFileError: neither a file nor a bundled name (the message lists the bundled names).
    """
    path = Path(text)
    if path.is_file() or path.suffix in (".yaml", ".yml") or "/" in text:
        return path  # loading it names the file if it cannot be read
    named = bundled_dir() / f"{text}.yaml"
    if named.is_file():
        return named
    names = ", ".join(p.stem for p in bundled())
    raise ConfigFileError(text, 0, "", f"no such scenario file, and no bundled scenario of that name; bundled: "
                                       f"{names}")
