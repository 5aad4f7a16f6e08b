"""What a cluster shows: `kubectl get notificationrequests,leases,events -A -o yaml` read into an observed world,
and the symptoms it shows (how closely another world's showing matches it: `harness._matching`).

Everything here reads only what kubectl prints (a NotificationRequest's spec and status, its Events, the
Leases); the same reader reads a simulated world's end, rendered through the fake server's REST front
(`harness._dump`), so that a simulated world is compared with a cluster on exactly what the cluster shows.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from notifier import ConfigFileError, field_line, format_micro_time, parse_time
from notifier.assembly import delivery_lease_name
from notifier.model import NOT_ATTEMPTS, TERMINAL, AttemptStatus, DeliveryAttempt, Phase, Reason, count_deliveries

#: The symptoms a dump can show, most telling first; `redelivery` is no bug (at-least-once after an unknown
#: outcome) but is what a user sees as "the channel got it twice".
SYMPTOMS: Final[Mapping[str, str]] = {
    "duplicate-delivery": "a channel got the notification more often than its attempts explain",
    "foreign-attempts": "the status holds attempts made for another object of that name (one deleted before it)",
    "too-many-attempts": "a channel has more attempts than the retry policy's maxAttempts",
    "attempt-after-permanent": "a channel was tried again after a permanent error",
    "lost-attempts": "a channel's attempt numbers skip: attempts once made are missing from the status",
    "counters-disagree": "totalAttempts or the delivery counters disagree with the attempts",
    "early-retry": "a channel was tried again before the retryAt its failed attempt set",
    "phase-disagrees": "the final phase disagrees with what the channels' attempts say",
    "never-ended": "the notification never reached a final phase",
    "redelivery": "a channel got the notification again after an unknown outcome (at-least-once, explained)",
}
#: Symptoms that are no bug of the controller.
BENIGN: Final = frozenset({"redelivery"})
_DEFAULT_MAX_ATTEMPTS: Final = 5  # the CRD's default for spec.retryPolicy.maxAttempts
_LISTED: Final = re.compile(r"channels: (.+)$")
#: The controller's delivery Leases' names begin so (`notifier.assembly.delivery_lease_name`).
DELIVERY_LEASE: Final = delivery_lease_name("").rsplit("-", 1)[0] + "-"
#: The reasons each final phase is written with (spec 1.7).
_FINAL_REASONS: Final[Mapping[str, tuple[str, ...]]] = {
    Phase.SENT: (Reason.ALL_SUCCEEDED,), Phase.PARTIALLY_SENT: (Reason.PARTIAL_SUCCESS,),
    Phase.FAILED: (Reason.NO_CHANNELS, Reason.ALL_FAILED, Reason.EXHAUSTED)}
#: How long after something fell due for a notification its controller may still not have acted on it.
GRACE_SECONDS: Final = 60.0


@dataclass(frozen=True, slots=True)
class Symptom:
    kind: str
    notification: str
    channel: str
    detail: str

    def line(self) -> str:
        where = f"{self.notification} {self.channel}".rstrip()
        return f"{self.kind}: {where}: {self.detail}"


@dataclass(slots=True)
class Seen:
    """One NotificationRequest as the dump shows it."""

    name: str
    namespace: str
    uid: str
    created: float
    spec: dict[str, Any]
    phase: str
    reason: str
    counters: tuple[int, int, int] | None
    attempts: list[DeliveryAttempt]
    #: The channels its routing resolved to (the RoutingResolved condition), then any only its attempts name.
    channels: list[str]
    #: The channels its routing resolved to last, as its RoutingResolved condition lists them (None: no such
    #: condition): what its phase is decided on (a routing reload may have dropped a channel attempted before).
    resolved: list[str] | None = None
    #: "Delivered to <channel>" Events: how many each reporting replica recorded.
    delivered: dict[str, dict[str, int]] = field(default_factory=dict)
    completion: float | None = None
    #: Other objects of this name that the dump shows traces of (Events about them, attempts made for them):
    #: each one's uid, and the first time a trace of it shows. The object was deleted and created again.
    earlier: dict[str, float] = field(default_factory=dict)

    def attempts_of(self, channel: str) -> list[DeliveryAttempt]:
        return [a for a in self.attempts if a.channel == channel]

    def foreign(self, attempt: DeliveryAttempt) -> bool:
        """Whether the attempt was made for another object of this name (its uid is not this one's)."""
        return bool(attempt.uid and self.uid and attempt.uid != self.uid)

    @property
    def max_attempts(self) -> int:
        return int((self.spec.get("retryPolicy") or {}).get("maxAttempts") or _DEFAULT_MAX_ATTEMPTS)

    def due(self, lease_seconds: float) -> float:
        """When the controller had something to do for it last: its creation, each attempt, each retry its
        failures set, and the end of the Lease an intent still pending was made under."""
        times = [self.created]
        for a in self.attempts:
            if a.timestamp:
                times.append(parse_time(a.timestamp) + (lease_seconds if a.status is AttemptStatus.PENDING else 0))
            if a.retry_at:
                times.append(parse_time(a.retry_at))
        return max(times)


@dataclass(slots=True)
class Observed:
    """A dump: its notifications (in creation order), the controller's delivery Leases (name, holder,
    transitions) and replicas (in order of first appearance)."""

    notifications: dict[str, Seen]
    leases: list[tuple[str, str, int]]
    replicas: list[str]
    source: str = "dump"
    #: The Leases' duration, as the controller set it (None: no Lease says).
    lease_seconds: float | None = None
    #: When the dump was taken (seconds since the epoch): given, or the latest time it shows.
    at: float = 0.0


# -- reading --------------------------------------------------------------------------------------------------


class _Bad(Exception):
    """A field of an object that is not what kubectl prints there."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def load(paths: Iterable[Path], *, at: float | None = None, namespace: str | None = None) -> Observed:
    """Read dump files (YAML or JSON; a `List`, several documents, or single objects; a directory of them).

    Raises:
        ConfigFileError: a file cannot be read or parsed, or an object is not what kubectl prints (its file,
            line and field named).
    """
    objects: list[tuple[str, int, dict[str, Any]]] = []
    names: list[str] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() \
            else [path]
        if path.is_dir() and not files:
            raise ConfigFileError(str(path), 0, "", "the directory holds no .yaml, .yml or .json file")
        for file in files:
            names.append(str(file))
            objects += [(str(file), index, item) for index, item in enumerate(_documents(file))]
    observed = observe(objects, source=", ".join(names), at=at, namespace=namespace, locate=_line)
    if not observed.notifications:
        raise ConfigFileError(names[0] if len(names) == 1 else ", ".join(names), 0, "items",
                              "no NotificationRequest in the dump" + (f" in namespace {namespace!r}" if namespace
                                                                       else "") +
                              "; dump them with `kubectl get notificationrequests,leases,events -A -o yaml`")
    return observed


def _documents(file: Path) -> list[dict[str, Any]]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(str(file), 0, "", f"cannot read the file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(str(file), 0, "", "not a text file (UTF-8)") from None
    try:
        docs = [json.loads(text)] if file.suffix == ".json" else list(yaml.safe_load_all(text))
    except json.JSONDecodeError as error:
        raise ConfigFileError(str(file), error.lineno, "", f"not valid JSON: {error.msg}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigFileError(str(file), mark.line + 1 if mark else 0, "",
                              f"not valid YAML: {getattr(error, 'problem', None) or error}") from None
    out: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ConfigFileError(str(file), 0, "", "expected a Kubernetes object or a List of them")
        listed = str(doc.get("kind", "")).endswith("List") or ("kind" not in doc and isinstance(doc.get("items"), list))
        out += [i for i in doc.get("items") or [] if isinstance(i, dict)] if listed else [doc]
    return out


def _nodes(text: str) -> list[yaml.MappingNode]:
    """The node of each object of the text, in the order `_documents` reads them (JSON is YAML too)."""
    nodes: list[yaml.MappingNode] = []
    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if not isinstance(node, yaml.MappingNode):
                continue
            fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
            kind = fields.get("kind")
            if (isinstance(kind, yaml.ScalarNode) and str(kind.value).endswith("List")) or \
                    (kind is None and isinstance(fields.get("items"), yaml.SequenceNode)):
                items = fields.get("items")
                if isinstance(items, yaml.SequenceNode):
                    nodes += [i for i in items.value if isinstance(i, yaml.MappingNode)]
                continue
            nodes.append(node)
    except yaml.YAMLError:
        return []
    return nodes


def _line(file: str, index: int, field: str) -> int:
    """The line of `field` (`status.deliveryAttempts[0].timestamp`) of the `index`th object of `file` (0: not to
    be told). Composed only for an error: a dump that reads well is parsed once."""
    try:
        nodes = _nodes(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return 0
    if index >= len(nodes):
        return 0
    return field_line(nodes[index], [int(i) if i else n for n, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field)])


def observe(objects: Iterable[tuple[str, int, dict[str, Any]]] | Iterable[dict[str, Any]], *,
            source: str = "dump", at: float | None = None, namespace: str | None = None,
            locate: Callable[[str, int, str], int] | None = None) -> Observed:
    """The observed world of kubectl's objects (each alone, or with the file it came from and its place there);
    `at` is when the dump was taken (default: the latest time it shows), `namespace` the only one read, `locate`
    the line of a field of an object (file, place, field), for an error to name it.

    Raises:
        ConfigFileError: an object is not what kubectl prints (a field of the wrong shape), or two
            NotificationRequests of different namespaces have one name and no namespace was chosen.
    """
    notes: list[tuple[int, Seen]] = []
    events: dict[tuple[str, str], tuple[str, int, dict[str, Any]]] = {}
    leases: list[tuple[str, str, int]] = []
    durations: list[float] = []
    times: list[float] = []
    for entry in objects:
        where, place, obj = entry if isinstance(entry, tuple) else (source, 0, entry)
        kind = obj.get("kind")
        try:
            meta = _map(obj.get("metadata"), "metadata")
            if namespace is not None and kind in ("NotificationRequest", "Event", "Lease") and \
                    str(meta.get("namespace") or "default") != namespace:
                continue
            if meta.get("creationTimestamp"):
                times.append(_time(meta["creationTimestamp"], "metadata.creationTimestamp"))
            if kind == "NotificationRequest":
                notes.append((_version(meta), _seen(obj, meta)))
            elif kind == "Event":
                _event_times(obj, times)
                event_key = (str(meta.get("namespace") or ""), str(meta.get("name") or f"#{len(events)}"))
                if event_key not in events or _version(meta) >= _version(events[event_key][2].get("metadata")):
                    events[event_key] = (where, place, obj)
            elif kind == "Lease" and str(meta.get("name") or "").startswith(DELIVERY_LEASE):
                # only the controller's delivery Leases: a cluster's node and leader-election Leases are not
                spec = _map(obj.get("spec"), "spec")
                if spec.get("leaseDurationSeconds"):
                    durations.append(_number(spec["leaseDurationSeconds"], "spec.leaseDurationSeconds"))
                for key in ("acquireTime", "renewTime"):
                    if spec.get(key):
                        times.append(_time(spec[key], f"spec.{key}"))
                leases.append((str(meta.get("name") or ""), str(spec.get("holderIdentity") or ""),
                               _int(spec.get("leaseTransitions") or 0, "spec.leaseTransitions")))
        except _Bad as bad:
            name = str((obj.get("metadata") or {}).get("name") or "") if isinstance(obj.get("metadata"), dict) \
                else ""
            raise ConfigFileError(where, locate(where, place, bad.field) if locate else 0,
                                  f"{kind or 'object'}{' ' + name if name else ''}: {bad.field}", bad.problem) from None
    # One object read twice (overlapping files): its latest version, by resourceVersion, stands.
    latest: dict[tuple[str, str], tuple[int, Seen]] = {}
    for version, seen in notes:
        if (seen.namespace, seen.name) not in latest or version >= latest[(seen.namespace, seen.name)][0]:
            latest[(seen.namespace, seen.name)] = (version, seen)
    by_name: dict[str, Seen] = {}
    for _, seen in sorted(latest.values(), key=lambda vs: (vs[1].created, vs[1].namespace, vs[1].name)):
        other = by_name.setdefault(seen.name, seen)
        if other is not seen:
            raise ConfigFileError(source, 0, "metadata.namespace", f"NotificationRequests named {seen.name!r} in "
                                  f"namespaces {other.namespace!r} and {seen.namespace!r}: reproduce one namespace "
                                  f"at a time (--namespace)")
    reporters: set[str] = set()
    for where, place, event in events.values():
        try:
            _delivered(event, by_name, reporters)
        except _Bad as bad:
            raise ConfigFileError(where, locate(where, place, bad.field) if locate else 0, f"Event: {bad.field}",
                                  bad.problem) from None
    replicas: list[str] = []
    for attempt in sorted((a for n in by_name.values() for a in n.attempts), key=lambda a: a.timestamp):
        if attempt.replica and attempt.replica not in replicas:
            replicas.append(attempt.replica)
    for name in sorted(reporters | {holder for _, holder, _ in leases if holder}):
        if name and name not in replicas:
            replicas.append(name)
    times += [parse_time(a.timestamp) for n in by_name.values() for a in n.attempts if a.timestamp]
    times += [n.completion for n in by_name.values() if n.completion is not None]
    shown_at = max(times, default=0.0)
    return Observed(by_name, sorted(leases), replicas, source, max(durations) if durations else None,
                    at=max(at, shown_at) if at is not None else shown_at)


def _delivered(event: dict[str, Any], by_name: Mapping[str, Seen], reporters: set[str]) -> None:
    """Count a "Delivered to <channel>" Event of a NotificationRequest of the dump, by the replica reporting it."""
    regarding = _map(event.get("regarding") or event.get("involvedObject"), "regarding")
    if regarding.get("kind") != "NotificationRequest":
        return  # an Event about something else (a Pod of that name, say) says nothing of a delivery
    note = str(event.get("note") or event.get("message") or "")
    reporter = str(event.get("reportingInstance") or _map(event.get("source"), "source").get("host") or "")
    if reporter:
        reporters.add(reporter)  # a replica that reconciled it, whether or not it sent anything
    seen = by_name.get(str(regarding.get("name", "")))
    if seen is None or str(regarding.get("namespace") or seen.namespace) != seen.namespace:
        return
    if regarding.get("uid") and seen.uid and regarding["uid"] != seen.uid:
        # an Event of an earlier object of that name is not this one's, but says that there was one
        if (first := _first_time(event)) is not None:
            _earlier(seen, str(regarding["uid"]), first)
        return
    if not note.startswith("Delivered to "):
        return
    series = _map(event.get("series"), "series")
    count = _int(series.get("count") or event.get("deprecatedCount") or event.get("count") or 1, "series.count")
    per = seen.delivered.setdefault(note.removeprefix("Delivered to "), {})
    per[reporter] = per.get(reporter, 0) + count


def _first_time(event: dict[str, Any]) -> float | None:
    """When an Event (a series: its first occurrence) happened, if it says."""
    times: list[float] = []
    _event_times(event, times)
    return min(times, default=None)


def _version(meta: Any) -> int:
    version = str((meta or {}).get("resourceVersion") or "0") if isinstance(meta, dict) else "0"
    return int(version) if version.isdigit() else 0


def _event_times(event: dict[str, Any], times: list[float]) -> None:
    for key in ("eventTime", "lastTimestamp", "firstTimestamp", "deprecatedLastTimestamp"):
        if event.get(key):
            times.append(_time(event[key], key))
    series = _map(event.get("series"), "series")
    if series.get("lastObservedTime"):
        times.append(_time(series["lastObservedTime"], "series.lastObservedTime"))


def _seen(obj: dict[str, Any], meta: dict[str, Any]) -> Seen:
    name = str(meta.get("name") or "")
    if not name:
        raise _Bad("metadata.name", "a NotificationRequest without a name")
    status = _map(obj.get("status"), "status")
    if str(status.get("phase") or "") not in {p.value for p in Phase}:
        raise _Bad("status.phase", f"{status.get('phase')!r} is no phase (one of "
                                   f"{', '.join(p.value for p in Phase if p.value)})")
    spec = _map(obj.get("spec"), "spec")
    if _map(spec.get("retryPolicy"), "spec.retryPolicy").get("maxAttempts") is not None:
        _int(spec["retryPolicy"]["maxAttempts"], "spec.retryPolicy.maxAttempts")
    attempts = [_attempt(raw, f"status.deliveryAttempts[{i}]")
                for i, raw in enumerate(_list(status.get("deliveryAttempts"), "status.deliveryAttempts"))]
    created = _time(meta.get("creationTimestamp") or "1970-01-01T00:00:00Z", "metadata.creationTimestamp")
    completion = _time(status["completionTime"], "status.completionTime") if status.get("completionTime") else None
    counters = None
    if "totalAttempts" in status:
        counters = (_int(status.get("totalAttempts") or 0, "status.totalAttempts"),
                    _int(status.get("successfulDeliveries") or 0, "status.successfulDeliveries"),
                    _int(status.get("failedDeliveries") or 0, "status.failedDeliveries"))
    resolved: list[str] | None = None
    for i, condition in enumerate(_list(status.get("conditions"), "status.conditions")):
        condition = _map(condition, f"status.conditions[{i}]")
        listed = _LISTED.search(str(condition.get("message") or "")) if condition.get("type") == \
            "RoutingResolved" else None
        if listed:
            resolved = [*(resolved or []), *(c.strip() for c in listed.group(1).split(",") if c.strip())]
    channels = list(dict.fromkeys(resolved or []))
    for attempt in attempts:
        if attempt.channel not in channels:
            channels.append(attempt.channel)
    seen = Seen(name=name, namespace=str(meta.get("namespace") or "default"), uid=str(meta.get("uid") or ""),
                created=created, spec=dict(spec), phase=str(status.get("phase") or ""),
                reason=str(status.get("reason") or ""), counters=counters, attempts=attempts, channels=channels,
                resolved=resolved, completion=completion)
    for attempt in attempts:
        if seen.foreign(attempt) and attempt.timestamp:
            _earlier(seen, attempt.uid, parse_time(attempt.timestamp))
    return seen


def _earlier(seen: Seen, uid: str, at: float) -> None:
    seen.earlier[uid] = min(at, seen.earlier.get(uid, at))


def _attempt(raw: Any, where: str) -> DeliveryAttempt:
    raw = _map(raw, where)
    _int(raw.get("attempt", 0), f"{where}.attempt")
    try:
        AttemptStatus(raw.get("status", "failed"))
    except ValueError:
        raise _Bad(f"{where}.status", f"{raw.get('status')!r} is no attempt status (one of "
                                      f"{', '.join(s.value for s in AttemptStatus)})") from None
    for key in ("timestamp", "retryAt"):
        if raw.get(key):
            _time(raw[key], f"{where}.{key}")
    if raw.get("durationSeconds") is not None:
        _number(raw["durationSeconds"], f"{where}.durationSeconds")
    return DeliveryAttempt.from_json(raw)


def _map(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Bad(where, f"expected a mapping, not {_shape(value)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(where, f"expected a list, not {_shape(value)}")
    return value


def _int(value: Any, where: str) -> int:
    return int(_parsed(value, where, int, "an integer"))


def _number(value: Any, where: str) -> float:
    return float(_parsed(value, where, float, "a number"))


def _parsed(value: Any, where: str, kind: type[int] | type[float], name: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | str) or (kind is int and
                                                                                 isinstance(value, float)):
        raise _Bad(where, f"expected {name}, not {_shape(value)}")
    try:
        return kind(value)
    except ValueError:
        raise _Bad(where, f"expected {name}, not {value!r}") from None


def _time(value: Any, where: str) -> float:
    try:
        return parse_time(str(value))
    except ValueError:
        raise _Bad(where, f"expected an RFC 3339 time such as 2026-01-01T00:00:00Z, not {value!r}") from None


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    return "a mapping" if isinstance(value, dict) else repr(value)


# -- symptoms -------------------------------------------------------------------------------------------------


def symptoms(observed: Observed) -> list[Symptom]:
    """Every symptom the dump shows, most telling kind first, then by notification and channel."""
    found = [s for seen in observed.notifications.values() for s in _symptoms_of(seen, observed)]
    order = list(SYMPTOMS)
    return sorted(found, key=lambda s: (order.index(s.kind), s.notification, s.channel))


def _symptoms_of(seen: Seen, observed: Observed) -> Iterable[Symptom]:
    name = seen.name
    foreign = [a for a in seen.attempts if seen.foreign(a)]
    if foreign:
        yield Symptom("foreign-attempts", name, "", "attempt " + ", ".join(
            f"{a.channel} {a.attempt} ({a.status.value} at {a.timestamp})" for a in foreign) +
            f" made for uid {', '.join(dict.fromkeys(a.uid for a in foreign))}, not for this object's {seen.uid}: "
            f"a status write found its object by name only")
    for channel in seen.channels:
        # what happened to this object on the channel (an earlier one's attempts are the symptom above)
        attempts = [a for a in seen.attempts_of(channel) if not seen.foreign(a)]
        counted = [a for a in attempts if a.status not in NOT_ATTEMPTS]
        successes = [a for a in counted if a.status is AttemptStatus.SUCCESS]
        unknown = [a for a in counted if a.status is AttemptStatus.UNKNOWN]
        # A redelivery follows an attempt whose outcome its sender could not know: one the status shows unknown,
        # or a success recorded only after the redelivery was claimed (the late write of a sender that was
        # paused or lost its answer turns the unknown it had been marked back into a success). What the dump
        # shows cannot tell that late success from one the redelivering replica should have seen: when the
        # redelivery was claimed is not in it (its timestamp is when it was sent, after the sends before it in
        # its batch and any pause its Lease allowed), so no time it shows can be compared with the claim.
        explained = [a for a in successes if a.redelivery and any(e.attempt < a.attempt for e in unknown + successes)]
        reported = seen.delivered.get(channel, {})
        if len(successes) - len(explained) > 1:
            yield Symptom("duplicate-delivery", name, channel,
                          f"{len(successes)} successful attempts ({_numbers(successes)}), and no unknown outcome "
                          f"before the later ones")
        elif len(reported) > len(successes) + len(unknown):
            # Counted by replica: each replica that says it delivered sent once at least; one replica's own
            # Events may say it again without a send (a re-emission), so their count proves nothing more.
            by = ", ".join(f"{r or '?'} x{n}" for r, n in sorted(reported.items()))
            yield Symptom("duplicate-delivery", name, channel,
                          f"{len(reported)} replicas' Events say they delivered it ({by}) but the status records "
                          f"{len(successes)} successful attempt(s) and {len(unknown)} unknown outcome(s)")
        elif explained:
            yield Symptom("redelivery", name, channel,
                          f"attempt {_numbers(unknown)} had an unknown outcome, and attempt "
                          f"{_numbers(explained)} delivered it again" if unknown else
                          f"attempt {_numbers(explained)} delivered it again after attempt "
                          f"{_numbers([a for a in successes if a not in explained])}, whose success may have been "
                          f"recorded only after the redelivery was claimed")
        if len(counted) > seen.max_attempts:
            yield Symptom("too-many-attempts", name, channel,
                          f"{len(counted)} attempts, more than maxAttempts {seen.max_attempts}")
        permanent = next((a for a in counted if a.permanent), None)
        if permanent is not None and counted[-1] is not permanent:
            later = [a for a in counted if a.attempt > permanent.attempt]
            yield Symptom("attempt-after-permanent", name, channel,
                          f"attempt {_numbers(later)} after attempt {permanent.attempt} failed permanently")
        numbers = sorted(a.attempt for a in attempts)
        # numbered from 1, or, after an earlier object's attempts on this status, from after theirs
        after = max((a.attempt for a in seen.attempts_of(channel) if seen.foreign(a)), default=0)
        if numbers and numbers not in (list(range(1, len(numbers) + 1)),
                                       list(range(after + 1, after + len(numbers) + 1))):
            yield Symptom("lost-attempts", name, channel, f"attempt numbers {_ranges(numbers)}, not 1 to "
                                                          f"{len(numbers)}")
        for earlier, later_attempt in itertools.pairwise(counted):
            if earlier.retry_at and later_attempt.timestamp and \
                    parse_time(later_attempt.timestamp) < parse_time(earlier.retry_at) - 0.001:
                yield Symptom("early-retry", name, channel,
                              f"attempt {later_attempt.attempt} at {later_attempt.timestamp}, before attempt "
                              f"{earlier.attempt}'s retryAt {earlier.retry_at}")
                break
    if seen.counters is not None:
        total = sum(1 for a in seen.attempts if a.status not in NOT_ATTEMPTS)
        derived = (total, *count_deliveries(seen.attempts))
        if seen.counters != derived:
            yield Symptom("counters-disagree", name, "",
                          f"(totalAttempts, successful, failed) = {seen.counters}, the attempts say {derived}")
    # the phase is decided on the channels its routing resolved to last (a reload may have dropped one)
    decided = list(dict.fromkeys(seen.resolved)) if seen.resolved is not None else seen.channels
    delivered = {c for c in decided if any(a.status is AttemptStatus.SUCCESS for a in seen.attempts_of(c))}
    if seen.phase in TERMINAL:
        wrong = bool(decided) and {"Sent": delivered != set(decided),
                                   "PartiallySent": not delivered or delivered == set(decided),
                                   "Failed": bool(delivered)}[seen.phase]
        if wrong:
            yield Symptom("phase-disagrees", name, "",
                          f"phase {seen.phase}, but {len(delivered)} of {len(decided)} channels delivered")
        elif seen.reason not in _FINAL_REASONS[seen.phase]:
            yield Symptom("phase-disagrees", name, "", f"phase {seen.phase} with reason {seen.reason or '(none)'}, "
                                                       f"which is not one of {', '.join(_FINAL_REASONS[seen.phase])}")
        elif seen.completion is None:
            yield Symptom("phase-disagrees", name, "", f"phase {seen.phase}, but no completionTime")
    else:
        due = seen.due(observed.lease_seconds or 30.0)
        if due + GRACE_SECONDS < observed.at:
            # nothing was left to wait for (no retry, no Lease of a send in flight) long before the dump's time
            last = max((a.timestamp for a in seen.attempts), default="")
            yield Symptom("never-ended", name, "", f"phase {seen.phase or '(none)'}" + (
                f", its last attempt at {last}" if last else ", no attempt made") +
                f"; nothing due after {format_micro_time(due)}, and the dump is of {format_micro_time(observed.at)}")


def _numbers(attempts: list[DeliveryAttempt]) -> str:
    return ", ".join(str(a.attempt) for a in attempts)


def _ranges(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
