"""`notifier-sim reproduce`: from what kubectl shows of a cluster to a failing seed, shrunk, with its story.

1. The dump is read (`harness._observed`): the notifications with their spec and status, their Events, the
   Leases; the symptom it shows is stated in one line (or the user names it).
2. A scenario of that world is built: the replicas seen, a channel set per routing the notifications resolved
   to (named after its receiver, so that the simulator's channels have the cluster's names), each external
   channel answering in the order the attempts record (a 503, then a 200; a lost answer), the notifications in
   their creation order and spacing, the scheduling faults of the catalogue, and the symptom as the scenario's
   `symptom` check.
3. The campaign runner searches it (`sites`, then `pct` and `swarm` in turns, on every process it is given)
   for a run whose end, rendered as kubectl would print it and read by the same reader, shows the symptom with
   the same attempts, counters and phase; the others are ranked by how much of the dump they match.
4. The best match is shrunk (`harness._shrink`) and told: its story, the replay line, the regression test and
   the timeline.

Matching compares only what the dump shows; nothing of the simulator's own state, and no harness artifact, is
read to decide it.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from harness._campaign import runs
from harness._matching import PARTS, Match, compare, features
from harness._observed import BENIGN, SYMPTOMS, Observed, Seen, Symptom, observe
from harness._observed import load as load_dump
from harness._observed import symptoms as shown_symptoms
from harness._replay import Artifact, run_recorded
from harness._run import RunResult
from harness._scenario import Scenario
from harness._world import DEFAULT_MAX_STEPS
from notifier import ConfigFileError, parse_time
from notifier.model import CHANNEL_KINDS, EXTERNAL_KINDS, AttemptStatus, DeliveryAttempt

#: The faults a reproduction explores: scheduling, the API, watches, caches, replicas. The channels' answers
#: are not among them: they are scripted from the outcomes the dump records.
SEARCHED: Final[dict[str, dict[str, float]]] = {
    "api.latency": {"probability": 0.2, "max_seconds": 0.2},
    "api.conflict": {"probability": 0.05},
    "api.error": {"probability": 0.03},
    "api.timeout-before-apply": {"probability": 0.02},
    "api.timeout-after-apply": {"probability": 0.02},
    "watch.delay": {"probability": 0.3, "max_seconds": 3},
    "watch.disconnect": {"probability": 0.05},
    "informer.stale-view": {"probability": 0.2},
    "informer.hold-event": {"probability": 0.2},
    "reconcile.concurrent": {"probability": 0.2},
    "replica.crash": {"probability": 0.01, "max_seconds": 10},
    "replica.pause": {"probability": 0.01, "max_seconds": 60},
    "http.latency": {"probability": 0.2, "max_seconds": 1},
}
#: The strategies in the order the search takes them: `sites` first (systematic: every single fault where it
#: can fire), then pct and swarm in turns, `ROUND` seeds at a time.
ROUND: Final = 64
SITES_LIMIT: Final = 400
#: A reproduction's step budget: enough for any schedule of a world this size, so that a controller that
#: loops is stopped (as `no-progress`) in a fraction of a second instead of the default budget's many.
STEPS: Final = 20_000
STEPS_PER_NOTIFICATION: Final = 5_000
_CODE: Final = re.compile(r"returned (\d{3})")


@dataclass(frozen=True, slots=True)
class Built:
    """The scenario of a dump, the symptom it carries, and the channel names it gave (simulated -> observed)."""

    scenario: Scenario
    symptom: Symptom
    channels: dict[str, dict[str, str]]


def build(observed: Observed, symptom: Symptom, *, replicas: int | None = None, workers: int = 1,
          told: bool = False) -> Built:
    """The scenario of the observed world (module docstring, step 2)."""
    sets: dict[str, tuple[str, ...]] = {}
    keys: dict[tuple[str, ...], str] = {}
    renamed: dict[str, dict[str, str]] = {}
    notes: list[dict[str, Any]] = []
    recreated: list[tuple[str, float]] = []
    born = {seen.name: _born(seen) for seen in observed.notifications.values()}
    t0 = min(born.values())
    same_second: dict[float, int] = {}
    for seen in observed.notifications.values():
        channels = tuple(seen.channels) or ("console",)
        kinds = [_kind(c, seen.name, observed.source) for c in channels]
        twice = sorted({k for k in kinds if kinds.count(k) > 1})
        if twice:
            raise ConfigFileError(observed.source, 0, f"NotificationRequest {seen.name}", f"it went to more than one "
                                  f"{twice[0]} channel ({', '.join(c for c in channels if c.startswith(twice[0]))}); "
                                  f"a simulated notification has one channel of each kind, so this world cannot be "
                                  f"built: reproduce from a dump without it")
        if channels not in keys:
            keys[channels] = _set_name(channels, sets)
            sets[keys[channels]] = tuple(kinds)
        name = keys[channels]
        renamed[seen.name] = {_simulated(c, name): c for c in channels}
        index = same_second.get(born[seen.name], 0)
        same_second[born[seen.name]] = index + 1
        notes.append(_notification(seen, name, born[seen.name], born[seen.name] - t0, index))
        # an object of that name deleted before it (the dump shows traces of it): created again, as often
        if seen.earlier:
            recreated += [(seen.name, then) for then in [*sorted(math.floor(t) for t in seen.earlier.values())[1:],
                                                         seen.created]]
    # notifications created in the same second are spread over it, in the order the dump lists them
    for note in notes:
        count = same_second[float(note.pop("_created"))]
        note["start"] = round(note["start"] + note.pop("_index") / count, 3)
    # created again no sooner than it was first created (both may fall in one second of the dump's)
    start = {note["name"]: note["start"] for note in notes}
    traffic = [{"at": round(max(then - t0, start[name] + 0.01), 3), "action": "recreate", "name": name}
               for name, then in recreated]
    backends = _backends(observed, renamed)
    tokens = any(a.fencing_token for seen in observed.notifications.values() for a in seen.attempts)
    external = any(_kind(a.channel, seen.name, observed.source) in EXTERNAL_KINDS
                   for seen in observed.notifications.values()
                   for a in seen.attempts)
    lock = "lease" if tokens or observed.leases or not external else "none"
    times = [a.timestamp for seen in observed.notifications.values() for a in seen.attempts if a.timestamp]
    span = max([*(parse_time(t) - t0 for t in times), *(step["at"] for step in traffic)], default=0.0)
    channel = next((sim for sim, seen_as in renamed[symptom.notification].items() if seen_as == symptom.channel),
                   "") if symptom.channel else ""
    data = {
        "name": "reproduce",
        "description": f"Built by `notifier-sim reproduce` from {observed.source}: {symptom.line()}",
        "world": {"replicas": replicas or max(1, len(observed.replicas)), "workers": workers, "lock": lock,
                  "max_steps": min(DEFAULT_MAX_STEPS, STEPS + STEPS_PER_NOTIFICATION * len(notes)),
                  **({"lease_duration": observed.lease_seconds} if observed.lease_seconds else {})},
        "channels": {k: list(v) for k, v in sets.items()},
        "backends": backends,
        "notifications": notes,
        "traffic": sorted(traffic, key=lambda step: (step["at"], step["name"])),
        # a pause can outlast the Lease the dump's controller took (twice its duration at most)
        "faults": {**SEARCHED, "replica.pause": {**SEARCHED["replica.pause"],
                                                 "max_seconds": 2 * (observed.lease_seconds or 30.0)}},
        "phases": {"fault": round(max(30.0, span + 10.0), 3), "quiet": 900, "bound": 900},
        "campaign": {"seeds": 200, "strategy": "sites"},
        "symptom": {"kind": symptom.kind, "notification": symptom.notification, "channel": channel,
                    "told": told},
    }
    try:
        scenario = Scenario.model_validate(data)
    except ValueError as error:
        raise ConfigFileError(observed.source, 0, "", f"the dump's world cannot be simulated: {error}") from None
    return Built(scenario, symptom, renamed)


def _set_name(channels: tuple[str, ...], taken: dict[str, Any]) -> str:
    """A channel set is named after the receiver its external channels name (`kind:receiver`), so that the
    simulator's channels have the same names; local-only sets, or one name taken already, get another."""
    receivers = {c.split(":")[1] for c in channels if c.count(":") == 1}
    base = next(iter(receivers)) if len(receivers) == 1 and all(c.count(":") <= 1 for c in channels) else "local"
    base = re.sub(r"[^a-z0-9-]", "-", base.lower()).strip("-") or "local"
    return next(name for name in itertools.chain([base], (f"{base}-{i}" for i in itertools.count(2)))
                if name not in taken)


def _kind(channel: str, notification: str, source: str = "dump") -> str:
    kind = channel.partition(":")[0]
    if kind not in CHANNEL_KINDS:
        raise ConfigFileError(source, 0, f"NotificationRequest {notification}: status.deliveryAttempts",
                              f"channel {channel!r} is of no kind the controller has ({', '.join(CHANNEL_KINDS)})")
    return kind


def _simulated(channel: str, set_name: str) -> str:
    kind = channel.partition(":")[0]
    return f"{kind}:{set_name}" if kind in EXTERNAL_KINDS else kind


def _born(seen: Seen) -> float:
    """When the first object of the notification's name was created: its own creation, or, if the dump shows
    traces of earlier objects of that name, the second of the first trace (the first was created then or before),
    if that is earlier."""
    return min(float(math.floor(min(seen.earlier.values()))), seen.created) if seen.earlier else seen.created


def _notification(seen: Seen, channel_set: str, born: float, start: float, index: int) -> dict[str, Any]:
    spec = seen.spec
    out: dict[str, Any] = {"name": seen.name, "channels": channel_set, "start": start, "_index": index,
                           "_created": born}
    for key in ("priority", "type", "subject", "body", "severity", "reviewSource", "context", "retryPolicy"):
        if spec.get(key):
            out[key] = spec[key]
    extensions = {k: str(v) for k, v in (spec.get("extensions") or {}).items() if k != "test-channel-set"}
    if extensions:
        out["extensions"] = extensions
    return out


def _backends(observed: Observed, renamed: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Each external channel's answers, in the order its attempts were made, as the dump records them; after
    them, a channel whose last attempt failed goes on failing as it did (a 503 where the record names no answer:
    an open circuit breaker sent nothing, so the failures that opened it are not in the record)."""
    out: dict[str, list[Any]] = {}
    then: dict[str, Any] = {}
    for channel, attempts in by_channel(observed).items():
        for notification, attempt in attempts:
            simulated = next(s for s, o in renamed[notification].items() if o == channel)
            if simulated.partition(":")[0] not in EXTERNAL_KINDS or attempt.status in (AttemptStatus.PENDING,
                                                                                         AttemptStatus.CANCELLED):
                continue
            answer = _answer(attempt)
            if answer is not None:
                out.setdefault(simulated, []).append(_slow(answer, attempt.duration_seconds))
            then[simulated] = _slow(200 if attempt.status is AttemptStatus.SUCCESS else
                                    answer if isinstance(answer, int) and answer != 200 else 503,
                                    attempt.duration_seconds)
    return {key: {"default": then.get(key, 200), "script": out.get(key, [])} for key in sorted(set(out) | set(then))
            if then.get(key, 200) != 200 or any(b != 200 for b in out.get(key, []))}


def _slow(answer: Any, seconds: float) -> Any:
    """A status answer that took as long as its attempt did (a Slack that answers in 3 s keeps a send in flight
    for 3 s, and a race may need that); other outcomes as they are."""
    if seconds < 0.001 or not isinstance(answer, int):
        return answer
    return {"status": answer, "latency": round(seconds, 3)}


def by_channel(observed: Observed) -> dict[str, list[tuple[str, DeliveryAttempt]]]:
    """Each channel's attempts across notifications, in the order they were made, as (notification, attempt)."""
    out: dict[str, list[tuple[str, str, int, DeliveryAttempt]]] = defaultdict(list)
    for seen in observed.notifications.values():
        for attempt in seen.attempts:
            out[attempt.channel].append((attempt.timestamp, seen.name, attempt.attempt, attempt))
    return {channel: [(name, attempt) for _, name, _, attempt in sorted(rows, key=lambda r: r[:3])]
            for channel, rows in sorted(out.items())}


def _answer(attempt: DeliveryAttempt) -> Any:
    """How the channel answered the request of an attempt, as far as its record says (None: no request left)."""
    error = attempt.error.lower()
    if attempt.status is AttemptStatus.SUCCESS:
        return 200
    if attempt.status in (AttemptStatus.PENDING, AttemptStatus.CANCELLED) or "circuit breaker" in error:
        return None
    if attempt.status is AttemptStatus.UNKNOWN:
        # a sender that stopped: the request may have gone out and been answered; a read timeout: it went out
        return 200 if "sender stopped" in error else {"outcome": "timeout-after-receive"}
    if attempt.status is AttemptStatus.TIMEOUT:
        return {"outcome": "timeout-after-receive"}
    code = _CODE.search(error)
    if code:
        return int(code.group(1))
    if "certificate" in error or "tls" in error or "x509" in error:
        return {"outcome": "tls-error"}
    return {"outcome": "reset"}


def with_routing(observed: Observed, path: Path) -> int:
    """Fill in, from the routing file the controller ran with, the channels of every notification the dump
    shows none for (never routed, nothing attempted); what the dump shows stands. How many were filled in.

    Raises:
        ConfigFileError: the file cannot be read or is no routing file (its line and field named).
    """
    from notifier import load_model
    from notifier.model import Notification, RoutingConfig, resolve_routing

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigFileError(str(path), 0, "", f"cannot read the file: {error.strerror}") from None
    config = load_model(text, RoutingConfig, str(path))
    filled = 0
    for seen in observed.notifications.values():
        if not seen.channels:
            obj = {"metadata": {"name": seen.name, "namespace": seen.namespace, "uid": seen.uid}, "spec": seen.spec}
            seen.channels = list(resolve_routing(config, Notification.from_object(obj)).channels)
            filled += 1
    return filled


# -- the search ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Candidate:
    """One run of the search: where it ran, whether it shows the symptom, and how well it matches the dump."""

    strategy: str
    seed: int
    shows: bool
    match: Match
    own: Match

    @property
    def reproduces(self) -> bool:
        """The symptom, with the same attempts, counters and phase on the notification it concerns."""
        return self.shows and self.own.exact

    def rank(self) -> tuple[bool, bool, float, float]:
        return (self.reproduces, self.shows, self.own.score, self.match.score)


@dataclass(slots=True)
class Search:
    runs: int = 0
    seconds: float = 0.0
    best: Candidate | None = None
    by_strategy: dict[str, int] = field(default_factory=dict)


def search(built: Built, wanted: dict[str, Any], *, budget: float, jobs: int, mutant: str | None,
           on_run: Callable[[Search], None] | None = None) -> Search:
    """Run the built scenario's seeds under sites, then pct and swarm in turns, until a run matches the dump
    in everything it shows, or the budget is spent; the best run is kept."""
    started = time.perf_counter()
    deadline = started + budget
    found = Search()
    for strategy, seeds in _plan():
        for outcome in runs(built.scenario, seeds, strategy=strategy, mutant=mutant, jobs=jobs, deadline=deadline):
            if outcome.cut:
                break
            found.runs += 1
            found.by_strategy[strategy] = found.by_strategy.get(strategy, 0) + 1
            candidate = _candidate(built, wanted, strategy, outcome.seed, outcome.result)
            if found.best is None or candidate.rank() > found.best.rank():
                found.best = candidate
            if on_run is not None:
                on_run(found)
            if candidate.reproduces:  # the first, in the plan's order: the same on every machine
                found.seconds = time.perf_counter() - started
                return found
        if time.perf_counter() >= deadline:
            break
    found.seconds = time.perf_counter() - started
    return found


def _plan() -> Iterator[tuple[str, range]]:
    yield "sites", range(SITES_LIMIT)
    for k in itertools.count():
        for strategy in ("pct", "swarm"):
            yield strategy, range(k * ROUND, (k + 1) * ROUND)


def _candidate(built: Built, wanted: dict[str, Any], strategy: str, seed: int, result: RunResult) -> Candidate:
    simulated = _as_observed(built, result.observed or {})
    shows = any(v.invariant == "symptom" for v in result.violations)
    return Candidate(strategy, seed, shows, compare(wanted, simulated),
                     compare(wanted, simulated, only=built.symptom.notification))


def _as_observed(built: Built, simulated: dict[str, Any]) -> dict[str, Any]:
    """A simulated world's features with its channels under the names the cluster gave them."""
    out: dict[str, Any] = {}
    for name, feature in simulated.items():
        names = built.channels.get(name, {})
        out[name] = {**feature, **{part: {names.get(c, c): seq for c, seq in feature.get(part, {}).items()}
                                   for part in PARTS}}
    return out


# -- the command ---------------------------------------------------------------------------------------------


def search_dump(objects: list[dict[str, Any]], *, mutant: str | None = None, budget: float = 60.0, jobs: int = 1,
                source: str = "dump", at: float | None = None) -> tuple[Symptom | None, Search | None]:
    """`reproduce` without its files: the symptom kubectl's objects show (None: none) and the search for it;
    `at` is when the dump was taken (seconds since the epoch; default: the latest time it shows)."""
    observed = observe(objects, source=source, at=at)
    chosen, _ = choose(observed, None, None, None)
    if chosen is None:
        return None, None
    return chosen, search(build(observed, chosen), features(observed), budget=budget, jobs=jobs, mutant=mutant)


def choose(observed: Observed, kind: str | None, notification: str | None, channel: str | None
           ) -> tuple[Symptom | None, bool]:
    """The symptom to reproduce: the dump's most telling bug (of `kind`, on `notification`/`channel` if named);
    a duplicate delivery the user names that the dump explains (a redelivery after an unknown outcome) is that
    redelivery; one the dump does not show at all is the user's (then `told`). With no `kind`, a redelivery is
    no symptom: it is what at-least-once delivery does."""
    if notification is not None and notification not in observed.notifications:
        raise ConfigFileError("--notification", 0, "", f"no NotificationRequest {notification!r} in the dump (it "
                              f"shows {', '.join(observed.notifications)})")
    if channel is not None:
        known = sorted({c for n, seen in observed.notifications.items() if notification in (None, n)
                        for c in seen.channels})
        if channel not in known:
            raise ConfigFileError("--channel", 0, "", f"no channel {channel!r} in the dump"
                                  + (f" for {notification}" if notification else "")
                                  + f" (it shows {', '.join(known) or 'none'})")
    where = [s for s in shown_symptoms(observed)
             if (notification is None or s.notification == notification) and (channel is None or s.channel == channel)]
    shown = [s for s in where if s.kind == kind] if kind is not None else [s for s in where if s.kind not in BENIGN]
    if not shown and kind == "duplicate-delivery":
        shown = [s for s in where if s.kind == "redelivery"]
    if shown:
        return shown[0], False
    if kind is None:
        return None, False
    if kind not in SYMPTOMS:
        raise ConfigFileError("--symptom", 0, "", f"unknown symptom {kind!r}; known: {', '.join(SYMPTOMS)}")
    if notification is None:
        names = list(observed.notifications)
        if len(names) != 1:
            raise ConfigFileError("--symptom", 0, "", f"the dump does not show {kind}; name the notification it "
                                  f"concerns with --notification (one of {', '.join(names)})")
        notification = names[0]
    return Symptom(kind, notification, channel or "", "as the user tells it; the dump does not show it"), True


def wanted_of(observed: Observed) -> dict[str, Any]:
    return features(observed)


def scenario_yaml(scenario: Scenario) -> str:
    return yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True), sort_keys=False,
                          width=110, default_flow_style=None)


def record(built: Built, candidate: Candidate, directory: Path, mutant: str | None
           ) -> tuple[RunResult, Artifact | None]:
    """The best match run again, with its artifact (it depends on its seed alone: the same run)."""
    return run_recorded(built.scenario, candidate.seed, directory, strategy=candidate.strategy, mutant=mutant,
                        stem="reproduced")


def history(feature: dict[str, Any]) -> list[str]:
    """A notification's attempts per channel, in words: `slack:alerts: 1 unknown by r0, 2 success (redelivery)
    by r1`."""
    return [f"{channel}: " + ", ".join(f"{n} {status}{' (redelivery)' if again else ''} by {who}"
                                       for (n, status, again), who in zip(seq, feature["replicas"][channel],
                                                                          strict=True))
            for channel, seq in feature["attempts"].items() if seq]


def answers(scenario: Scenario) -> list[str]:
    """What the channels were scripted to answer, where not a plain 200, in words."""
    words = {"timeout-after-receive": "received, and its answer was lost (the sender could not know whether it "
                                      "landed)", "reset": "never answered: the connection was reset",
             "tls-error": "refused at the TLS handshake"}
    out = []
    for key, spec in sorted(scenario.backends.items()):
        for index, behavior in enumerate(spec.script, start=1):
            if isinstance(behavior, int):
                if behavior != 200:
                    out.append(f"{key} answered its request {index} with {behavior}")
            elif behavior.outcome != "status" or behavior.status != 200:
                out.append(f"{key}: its request {index} was {words.get(behavior.outcome, behavior.outcome)}"
                           if behavior.outcome != "status" else f"{key} answered its request {index} with "
                                                                 f"{behavior.status}")
    return out




def command(paths: list[Path], *, symptom: str | None, notification: str | None, channel: str | None,
            replicas: int | None, workers: int, budget: float, jobs: int, mutant: str | None, out: Path,
            routing: Path | None = None, at: float | None = None, namespace: str | None = None,
            shrinking: bool = True, write: Callable[[str], None] = print,
            on_run: Callable[[Search], None] | None = None) -> int:
    """`notifier-sim reproduce`: 0 when a run reproduces the dump's symptom, 1 when none does (or the dump shows
    no symptom to reproduce)."""
    from harness._shrink import shrink, sized

    observed = load_dump(paths, at=at, namespace=namespace)
    if routing is not None and (filled := with_routing(observed, routing)):
        write(f"routed {filled} notification(s) the dump shows no channels for by {routing}")
    chosen, told = choose(observed, symptom, notification, channel)
    write(f"read {len(observed.notifications)} notification(s), {len(observed.leases)} Lease(s), "
          f"{len(observed.replicas)} replica(s) from {observed.source}")
    if chosen is None:
        write("the dump shows no symptom (every notification ended or has a retry or a send still due, and its "
              "attempts, counters and phase agree): "
              "nothing to reproduce; name one with --symptom if you saw it elsewhere")
        explained = [s for s in shown_symptoms(observed) if s.kind in BENIGN]
        if explained:
            write(f"it shows {len(explained)} explained redelivery(ies), which at-least-once delivery makes after an "
                  f"unknown outcome, such as {explained[0].line()}; --symptom redelivery finds how one came about")
        return 1
    if told and chosen.kind != "duplicate-delivery":
        # Only a duplicate is seen at the channel, outside the dump; every other symptom is read from the status
        # kubectl prints, so a run that matches that status cannot show one the status does not.
        write(f"the dump does not show {chosen.kind} on {chosen.notification} ({SYMPTOMS[chosen.kind]}): it is "
              f"read from the status the dump holds, so no run matching it can show it; nothing to reproduce"
              + ("; if the dump was taken later than the latest time it shows, say when with --at"
                 if chosen.kind == "never-ended" else ""))
        return 1
    write(f"symptom: {chosen.line()}")
    built = build(observed, chosen, replicas=replicas, workers=workers, told=told)
    out.mkdir(parents=True, exist_ok=True)
    scenario_path = out / "scenario.yaml"
    scenario_path.write_text(scenario_yaml(built.scenario))
    world = built.scenario.world
    write(f"scenario: {scenario_path} ({world.replicas} replica(s), {len(built.scenario.notifications)} "
          f"notification(s), {len(built.scenario.backends)} scripted channel(s))")
    found = search(built, wanted_of(observed), budget=budget, jobs=jobs, mutant=mutant, on_run=on_run)
    tried = ", ".join(f"{n} {s}" for s, n in found.by_strategy.items())
    best = found.best
    if best is None or not best.reproduces:
        write(f"not reproduced: {found.runs} runs in {found.seconds:.1f} s ({tried}) found no run that shows "
              f"the symptom with the same attempts, counters and phase")
        if best is not None:
            write(f"closest: {best.strategy} run {best.seed}, "
                  f"{'showing' if best.shows else 'not showing'} the symptom, matching "
                  f"{best.match.agree} of {best.match.total} things the dump shows; what differed:")
            for line in (best.own.differences or best.match.differences)[:12]:
                write(f"  {line}")
            if not best.own.differences and not best.match.differences:
                write("  nothing it compares: every attempt, counter and phase matched, but the symptom did not show")
        if best is None or not best.shows:
            return 1
        write("the closest run shows the same symptom with another history: kept and shrunk, for what it is")
    else:
        write(f"reproduced in {found.seconds:.1f} s, {found.runs} runs ({tried}): {best.strategy} run {best.seed} "
              f"matches {best.match.agree} of {best.match.total} things the dump shows")
        for line in best.match.differences[:8]:
            write(f"  differs: {line}")
    result, artifact = record(built, best, out, mutant)
    if artifact is None:
        raise RuntimeError("the reproducing run did not show the symptom again: a harness bug")
    simulated = _as_observed(built, result.observed or {}).get(chosen.notification)
    for title, feature in (("in the dump", wanted_of(observed)[chosen.notification]), ("simulated", simulated)):
        for line in history(feature) if feature else []:
            write(f"  {chosen.notification} {title:>11}: {line}")
    write(f"replay: notifier-sim replay {artifact.path}")
    for line in answers(built.scenario):
        write(f"  from the dump: {line}")
    verdict = 0 if best.reproduces else 1
    if not shrinking:
        return verdict
    done = shrink(artifact, out / "regressions", benign=chosen.kind in BENIGN,
                  found_by=f"`notifier-sim reproduce` from {observed.source}")
    write(f"shrunk to {sized(done.after)}:")
    for line in [*answers(done.scenario), *done.story]:
        write(f"  {line}")
    write(f"regression test: {done.test_path}")
    if done.timeline is not None:
        write(f"timeline: {done.timeline}")
    return verdict
