"""What a cluster shows: `kubectl get notificationrequests,leases,events -A -o yaml` read into an observed world,
the symptoms it shows, and how closely another world's showing matches it.

Everything here reads only what kubectl prints (a NotificationRequest's spec and status, its Events, the
Leases); the same reader reads a simulated world's end, rendered through the fake server's REST front
(`harness._dump`), so that a simulated world is compared with a cluster on exactly what the cluster shows.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from notifier import ConfigFileError, parse_time
from notifier.model import NOT_ATTEMPTS, TERMINAL, AttemptStatus, DeliveryAttempt, count_deliveries

#: The symptoms a dump can show, most telling first; `redelivery` is no bug (at-least-once after an unknown
#: outcome) but is what a user sees as "the channel got it twice".
SYMPTOMS: Final[Mapping[str, str]] = {
    "duplicate-delivery": "a channel got the notification more often than its attempts explain",
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
    #: "Delivered to <channel>" Events: how many each reporting replica recorded.
    delivered: dict[str, dict[str, int]] = field(default_factory=dict)
    completion: float | None = None

    def attempts_of(self, channel: str) -> list[DeliveryAttempt]:
        return [a for a in self.attempts if a.channel == channel]

    @property
    def max_attempts(self) -> int:
        return int((self.spec.get("retryPolicy") or {}).get("maxAttempts") or _DEFAULT_MAX_ATTEMPTS)


@dataclass(slots=True)
class Observed:
    """A dump: its notifications (in creation order), Leases (name, holder, transitions) and replicas (in
    order of first appearance)."""

    notifications: dict[str, Seen]
    leases: list[tuple[str, str, int]]
    replicas: list[str]
    source: str = "dump"
    #: The Leases' duration, as the controller set it (None: no Lease says).
    lease_seconds: float | None = None


# -- reading --------------------------------------------------------------------------------------------------


def load(paths: Iterable[Path]) -> Observed:
    """Read dump files (YAML or JSON; a `List`, several documents, or single objects; a directory of them).

    Raises:
        ConfigFileError: a file cannot be read or parsed, or an object lacks what kubectl always prints.
    """
    objects: list[tuple[str, dict[str, Any]]] = []
    names: list[str] = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() \
            else [path]
        if path.is_dir() and not files:
            raise ConfigFileError(str(path), 0, "", "the directory holds no .yaml, .yml or .json file")
        for file in files:
            names.append(str(file))
            objects += [(str(file), item) for item in _documents(file)]
    observed = observe(objects, source=", ".join(names))
    if not observed.notifications:
        raise ConfigFileError(names[0] if len(names) == 1 else ", ".join(names), 0, "items",
                              "no NotificationRequest in the dump; dump them with `kubectl get "
                              "notificationrequests,leases,events -A -o yaml`")
    return observed


def _documents(file: Path) -> list[dict[str, Any]]:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(str(file), 0, "", f"cannot read the file: {error.strerror}") from None
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
        out += [i for i in doc.get("items") or [] if isinstance(i, dict)] if str(doc.get("kind", "")).endswith(
            "List") else [doc]
    return out


def observe(objects: Iterable[tuple[str, dict[str, Any]]] | Iterable[dict[str, Any]], *,
            source: str = "dump") -> Observed:
    """The observed world of kubectl's objects (each alone, or with the file it came from)."""
    notes: list[Seen] = []
    events: list[dict[str, Any]] = []
    leases: list[tuple[str, str, int]] = []
    durations: list[float] = []
    for entry in objects:
        where, obj = entry if isinstance(entry, tuple) else (source, entry)
        kind = obj.get("kind")
        if kind == "NotificationRequest":
            notes.append(_seen(where, obj))
        elif kind == "Event":
            events.append(obj)
        elif kind == "Lease":
            spec = obj.get("spec") or {}
            if spec.get("leaseDurationSeconds"):
                durations.append(float(spec["leaseDurationSeconds"]))
            leases.append((str((obj.get("metadata") or {}).get("name", "")), str(spec.get("holderIdentity") or ""),
                           int(spec.get("leaseTransitions") or 0)))
    notes.sort(key=lambda n: (n.created, n.name))
    by_name = {n.name: n for n in notes}
    reporters: set[str] = set()
    for event in events:
        regarding = event.get("regarding") or event.get("involvedObject") or {}
        seen = by_name.get(str(regarding.get("name", "")))
        note = str(event.get("note") or event.get("message") or "")
        reporter = str(event.get("reportingInstance") or (event.get("source") or {}).get("host") or "")
        if regarding.get("kind") == "NotificationRequest" and reporter:
            reporters.add(reporter)  # a replica that reconciled it, whether or not it sent anything
        if seen is None or not note.startswith("Delivered to ") or regarding.get("uid", seen.uid) != seen.uid:
            continue  # an Event of an earlier object of that name is not this one's
        series = event.get("series") or {}
        count = int(series.get("count") or event.get("deprecatedCount") or event.get("count") or 1)
        per = seen.delivered.setdefault(note.removeprefix("Delivered to "), {})
        per[reporter] = per.get(reporter, 0) + count
    replicas: list[str] = []
    for attempt in sorted((a for n in notes for a in n.attempts), key=lambda a: a.timestamp):
        if attempt.replica and attempt.replica not in replicas:
            replicas.append(attempt.replica)
    for name in sorted(reporters | {holder for _, holder, _ in leases if holder}):
        if name and name not in replicas:
            replicas.append(name)
    return Observed(by_name, sorted(leases), replicas, source, max(durations) if durations else None)


def _seen(where: str, obj: dict[str, Any]) -> Seen:
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    if not name:
        raise ConfigFileError(where, 0, "metadata.name", "a NotificationRequest without a name")
    status = obj.get("status") or {}
    try:
        attempts = [DeliveryAttempt.from_json(raw) for raw in status.get("deliveryAttempts") or []]
        created = parse_time(str(meta.get("creationTimestamp") or "1970-01-01T00:00:00Z"))
        completion = parse_time(status["completionTime"]) if status.get("completionTime") else None
    except (ValueError, TypeError, KeyError) as error:
        raise ConfigFileError(where, 0, f"{name}: status", f"cannot be read: {error}") from None
    counters = None
    if "totalAttempts" in status:
        counters = (int(status.get("totalAttempts") or 0), int(status.get("successfulDeliveries") or 0),
                    int(status.get("failedDeliveries") or 0))
    channels: list[str] = []
    for condition in status.get("conditions") or []:
        listed = _LISTED.search(str(condition.get("message") or "")) if condition.get("type") == \
            "RoutingResolved" else None
        if listed:
            channels += [c.strip() for c in listed.group(1).split(",") if c.strip()]
    for attempt in attempts:
        if attempt.channel not in channels:
            channels.append(attempt.channel)
    return Seen(name=name, namespace=str(meta.get("namespace") or "default"), uid=str(meta.get("uid") or ""),
                created=created,
                spec=dict(obj.get("spec") or {}), phase=str(status.get("phase") or ""),
                reason=str(status.get("reason") or ""), counters=counters, attempts=attempts, channels=channels,
                completion=completion)


# -- symptoms -------------------------------------------------------------------------------------------------


def symptoms(observed: Observed) -> list[Symptom]:
    """Every symptom the dump shows, most telling kind first, then by notification and channel."""
    found = [s for seen in observed.notifications.values() for s in _symptoms_of(seen)]
    order = list(SYMPTOMS)
    return sorted(found, key=lambda s: (order.index(s.kind), s.notification, s.channel))


def _symptoms_of(seen: Seen) -> Iterable[Symptom]:
    name = seen.name
    for channel in seen.channels:
        attempts = seen.attempts_of(channel)
        counted = [a for a in attempts if a.status not in NOT_ATTEMPTS]
        successes = [a for a in counted if a.status is AttemptStatus.SUCCESS]
        unknown = [a for a in counted if a.status is AttemptStatus.UNKNOWN]
        explained = [a for a in successes if a.redelivery and any(u.attempt < a.attempt for u in unknown)]
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
                          f"{_numbers(explained)} delivered it again")
        if len(counted) > seen.max_attempts:
            yield Symptom("too-many-attempts", name, channel,
                          f"{len(counted)} attempts, more than maxAttempts {seen.max_attempts}")
        permanent = next((a for a in counted if a.permanent), None)
        if permanent is not None and counted[-1] is not permanent:
            later = [a for a in counted if a.attempt > permanent.attempt]
            yield Symptom("attempt-after-permanent", name, channel,
                          f"attempt {_numbers(later)} after attempt {permanent.attempt} failed permanently")
        numbers = sorted(a.attempt for a in attempts)
        if numbers and numbers != list(range(1, len(numbers) + 1)):
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
    delivered = {c for c in seen.channels if any(a.status is AttemptStatus.SUCCESS for a in seen.attempts_of(c))}
    if seen.phase in TERMINAL and seen.channels:
        wrong = {"Sent": delivered != set(seen.channels),
                 "PartiallySent": not delivered or delivered == set(seen.channels),
                 "Failed": bool(delivered)}[seen.phase]
        if wrong:
            yield Symptom("phase-disagrees", name, "",
                          f"phase {seen.phase}, but {len(delivered)} of {len(seen.channels)} channels delivered")
    elif seen.phase not in TERMINAL:
        last = max((a.timestamp for a in seen.attempts), default="")
        yield Symptom("never-ended", name, "", f"phase {seen.phase or '(none)'}" + (
            f", its last attempt at {last}" if last else ", no attempt made"))


def _numbers(attempts: list[DeliveryAttempt]) -> str:
    return ", ".join(str(a.attempt) for a in attempts)


def _ranges(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


# -- matching -------------------------------------------------------------------------------------------------


def features(observed: Observed) -> dict[str, Any]:
    """What matching compares, per notification: phase, reason, counters, and per channel the attempts in order
    (number, status, whether a redelivery) and which replica made each, the replicas renamed r0, r1, ... in the
    order they first appear (a cluster's pod names are not the simulator's)."""
    rename = {name: f"r{i}" for i, name in enumerate(observed.replicas)}
    out: dict[str, Any] = {}
    for name, seen in observed.notifications.items():
        out[name] = {
            "phase": seen.phase, "reason": seen.reason, "counters": list(seen.counters or ()),
            "attempts": {c: [[a.attempt, a.status.value, a.redelivery] for a in seen.attempts_of(c)]
                         for c in seen.channels},
            "replicas": {c: [rename.get(a.replica, "?") for a in seen.attempts_of(c)] for c in seen.channels},
        }
    return out


@dataclass(frozen=True, slots=True)
class Match:
    """How a world's features compare with the observed ones: the share that agree, and what differs."""

    agree: int
    total: int
    differences: tuple[str, ...]

    @property
    def score(self) -> float:
        return self.agree / self.total if self.total else 1.0

    @property
    def exact(self) -> bool:
        return not self.differences


def compare(observed: dict[str, Any], simulated: dict[str, Any], *, only: str | None = None) -> Match:
    """Compare features (`features`) of the observed world with a simulated one's, on every notification the
    dump shows (or only `only`): each phase, reason, counters, each channel's attempts, and who made them."""
    agree = total = 0
    differences: list[str] = []
    for name, want in observed.items():
        if only is not None and name != only:
            continue
        got = simulated.get(name)
        for key in ("phase", "reason", "counters"):
            total += 1
            if got is not None and got[key] == want[key]:
                agree += 1
            else:
                differences.append(f"{name}: {key} {_shown(want[key])} observed, "
                                   f"{_shown(got[key]) if got else 'no such notification'} simulated")
        for part in ("attempts", "replicas"):
            for channel, seq in want[part].items():
                total += 1
                other = (got or {}).get(part, {}).get(channel, [])
                if other == seq:
                    agree += 1
                else:
                    differences.append(f"{name}: {channel} {part} {_shown(seq)} observed, {_shown(other)} "
                                       f"simulated")
    return Match(agree, total, tuple(differences))


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "[" + ", ".join(f"{n} {s}{' (redelivery)' if r else ''}" for n, s, r in value) + "]"
    return json.dumps(value) if not isinstance(value, str) else (value or "(none)")


def by_channel(observed: Observed) -> dict[str, list[tuple[str, DeliveryAttempt]]]:
    """Each channel's attempts across notifications, in the order they were made, as (notification, attempt)."""
    out: dict[str, list[tuple[str, str, int, DeliveryAttempt]]] = defaultdict(list)
    for seen in observed.notifications.values():
        for attempt in seen.attempts:
            out[attempt.channel].append((attempt.timestamp, seen.name, attempt.attempt, attempt))
    return {channel: [(name, attempt) for _, name, _, attempt in sorted(rows, key=lambda r: r[:3])]
            for channel, rows in sorted(out.items())}
