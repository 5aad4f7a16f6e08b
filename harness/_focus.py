"""The smallest world a failure's violation allows, and its race found there with the timing it had.

A shrink's case (`_Case`) is a scripted run: a scenario, its firings with their delays' seconds, its other
choices by name. `_retimed` cuts the case's world down to the violation's notification on the two replicas
that did most about it, and keeps the timing the rest of the world gave the race by explicit delays, after
DEMi's idea (Scott et al., NSDI'16) of keeping a schedule while events are removed. `_fewer` and `_merged`
then take out firings whose work timing alone, or one freeze, does.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from harness._run import RunResult, run
from harness._scenario import NotificationSpec, Scenario
from harness._sites import Firing, Site


def _members(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """A notification spec of `count` notifications as that many specs of one, each with its own name and
    creation time."""
    names = NotificationSpec.model_validate(spec).names()
    return [{**spec, "name": name, "count": 1, "start": spec["start"] + i * spec["every"], "every": 0.0}
            for i, name in enumerate(names)]


def _valid(data: dict[str, Any]) -> Scenario | None:
    """The candidate as a scenario, its client actions kept to the notifications it still creates; None if it
    is no valid scenario (a smaller one that cannot be written is no candidate)."""
    try:
        names = {name for n in data["notifications"] for name in NotificationSpec.model_validate(n).names()}
        return Scenario.model_validate({**data, "traffic": [step for step in data["traffic"]
                                                           if step["name"] in names]})
    except ValidationError:
        return None


@dataclass(frozen=True, slots=True)
class _Case:
    """A scripted run: what a shrink step changes and tries."""

    scenario: Scenario
    strategy: str
    firings: frozenset[Firing]
    durations: dict[Firing, float]
    script: dict[str, int]
    #: The seed of the controller's own randomness (its backoff jitter): the run's it was found in.
    seed: int = 0


def _weight(scenario: Scenario) -> int:
    """How big a world is: its notifications and replicas."""
    return sum(n.count for n in scenario.notifications) + scenario.world.replicas


@dataclass(frozen=True, slots=True)
class _Focus:
    """The smallest world a violation allows, and what of the case's world it keeps."""

    scenario: Scenario
    #: The same, with the faults that keep a race's timing (`_retime`) enabled.
    timed: Scenario
    #: The notifications the violation names.
    names: frozenset[str]
    #: The replicas of the case's world that the race involves, in the order they become replica-0, replica-1.
    replicas: tuple[str, ...]
    #: When each of their passages (`Site`) about those notifications went on, in the case's run.
    timing: dict[Site, float]
    #: The pauses of those replicas at passages about other notifications, carried to the passage about these
    #: that each froze in flight, with how long that passage stayed frozen (`_carried`).
    carried: dict[Firing, float] = dataclasses.field(default_factory=dict)
    #: When each of those replicas was frozen by a pause in the case's run, wherever the pause fired.
    frozen: dict[str, list[tuple[float, float]]] = dataclasses.field(default_factory=dict)


def _focus(case: _Case, invariant: str, mutant: str | None, *, faults: dict[str, Any]) -> _Focus | None:
    """The case's world cut down to the notifications its violation names, on the (at most two) replicas that
    did most about them, with one worker each, no client actions on the others, and `faults` (None: no such
    world can be written)."""
    result, timing, delays, began, passed = _timed(case, mutant)
    names = frozenset(v.notification.partition("@")[0] for v in result.violations if v.invariant == invariant)
    data = case.scenario.model_dump(mode="json", by_alias=True)
    kept = [member for spec in data["notifications"] for member in _members(spec) if member["name"] in names]
    if not kept:
        return None
    # The replicas the violation names first (the holder and the claimant of a Lease), then those whose
    # faults concern the notifications, then those that passed a site about them.
    named = [who for v in result.violations if v.invariant == invariant
             for who in re.findall(r"\breplica-\d+\b", v.message)]
    fired = Counter(f.site.who for f in case.firings if _about(f.site, names))
    involved = {site.who for site in timing if _about(site, names)}
    ranked = sorted(involved | set(fired), key=lambda who: (who not in named, -fired[who], _index(who)))
    replicas = tuple(sorted(ranked[:2], key=_index))
    small = {**data, "notifications": kept, "clients": None, "faults": faults,
             "world": {**data["world"], "replicas": min(2, data["world"]["replicas"]), "workers": 1}}
    # Delays are how the world keeps the original's timing (`_retime`); scripted, they fire only where a
    # firing says.
    lease = case.scenario.world.lease_duration
    scenario, timed = _valid(small), _valid({**small, "faults": {
        **{fault: {"probability": 0.1, "max_seconds": lease} for fault in sorted(DELAYS)}, **faults}})
    if scenario is None or timed is None:
        return None
    return _Focus(scenario, timed, names, replicas, {site: when for site, when in timing.items()
                                                     if site.who in replicas and _about(site, names)},
                  _carried(case, names, replicas, delays, began, passed, timing),
                  {who: [(began[f], began[f] + delays[f]) for f in sorted(case.firings)
                         if f.fault == "replica.pause" and f.site.who == who and f in delays and f in began]
                   for who in replicas})


def _carried(case: _Case, names: frozenset[str], replicas: tuple[str, ...], delays: dict[Firing, float],
             began: dict[Firing, float], passed: dict[Site, float], timing: dict[Site, float]
             ) -> dict[Firing, float]:
    """The pauses that froze a replica while one of its calls about the notifications was in flight, each as a
    pause at that call's passage, lasting until the original freeze ended. A pause freezes the whole replica
    wherever it fires: fired at another notification's passage, it held back the call the race is about (a
    claimant frozen during its Lease GET). The smaller world has no other notification to fire it at, so it
    fires where it mattered; when several calls were in flight, at the one passed last."""
    carried: dict[Firing, float] = {}
    for firing in sorted(case.firings):
        if (firing.fault != "replica.pause" or firing.site.who not in replicas or _about(firing.site, names)
                or firing not in delays or firing not in began):
            continue
        start = began[firing]
        end = start + delays[firing]
        in_flight = [site for site, when in passed.items()
                     if site.who == firing.site.who and _about(site, names) and when <= start < timing[site]
                     and site.place.startswith(("api.", "http."))]
        if in_flight:
            site = max(in_flight, key=lambda s: (passed[s], s))
            carried[Firing(site, "replica.pause")] = math.ceil((end - passed[site]) * 1000) / 1000
    return carried


def _about(site: Site, names: frozenset[str]) -> bool:
    """Whether a site concerns one of the notifications (its place ends with the notification's name)."""
    return site.place.rpartition(" ")[2] in names


def _index(replica: str) -> int:
    return int(replica.rpartition("-")[2])


def _timed(case: _Case, mutant: str | None
           ) -> tuple[RunResult, dict[Site, float], dict[Firing, float], dict[Firing, float], dict[Site, float]]:
    """Run the case; when each replica went on from each of its await points: when the API call made there
    reached the server (after its latency, and any freeze of the replica meanwhile), or else once the pause
    it took there, if one fired, was over; when a watch event sent its way reached it; how long each delay
    that fired lasted; when each firing fired; and when each await point was passed."""
    result = run(case.scenario, case.seed, strategy=case.strategy, mutant=mutant, firings=case.firings,
                 durations=case.durations, script=case.script, keep=True)
    assert result.world is not None
    injector = result.world.injector
    assert injector.sites is not None  # a scripted run has targets
    sites = injector.sites
    delays = {f: seconds for f, seconds in injector.log if seconds is not None}
    # A pause by the passage it froze the replica at (`SiteTargets.fired_at`).
    paused = {sites.fired_at[f]: seconds for f, seconds in delays.items()
              if f.fault == "replica.pause" and f in sites.fired_at}
    timing = {site: sites.applied.get(site, when + paused.get(site, 0.0)) for site, when in sites.passed.items()}
    result.world = result.rig = None
    return result, timing, delays, {f: sites.passed[site] for f, site in sites.fired_at.items()
                                    if site in sites.passed}, dict(sites.passed)


def _faults_of(scenario: Scenario) -> dict[str, Any]:
    return dict(scenario.model_dump(mode="json", by_alias=True)["faults"])


def _smaller_than(focus: _Focus, case: _Case) -> bool:
    """Whether the focused world is worth a search: smaller than the case's, or the case needs many firings."""
    return _weight(focus.scenario) < _weight(case.scenario) or len(case.firings) > 3


def _retimed(case: _Case, faults: dict[str, Any], invariant: str, mutant: str | None,
             on_run: Callable[[], None] | None) -> _Case | None:
    """The case's race in its focused world (`_focus`, with `faults`), timed as it was (`_retime`): with all
    the case's firings about it, else with its delays only, else without one firing that is not a delay (a
    firing may set a replica on another path in the smaller world, where its timing cannot be kept)."""
    focus = _focus(case, invariant, mutant, faults=faults)
    if focus is None or not _smaller_than(focus, case):
        return None
    found = _retime(case, focus, invariant, mutant, on_run)
    others = sorted(f for f in case.firings if f.fault not in DELAYS and _about(f.site, focus.names))
    if found is None and others:
        found = _retime(case, focus, invariant, mutant, on_run, frozenset(others))
    for drop in others if len(others) > 1 else ():  # (one other: dropping it was the delays-only try)
        if found is not None:
            break
        found = _retime(case, focus, invariant, mutant, on_run, frozenset({drop}))
    return found


def _fewer(case: _Case, invariant: str, mutant: str | None, on_run: Callable[[], None] | None,
           fewest: Callable[[_Case], _Case]) -> _Case | None:
    """The case with one firing fewer, or more, where what a firing did is done by the timing alone: each
    firing in turn taken out and the case's timing kept (`_retime`), kept if it then needs fewer firings."""
    focus = _focus(case, invariant, mutant, faults=_faults_of(case.scenario))
    if focus is None:
        return None
    for drop in sorted(case.firings):
        found = _retime(case, focus, invariant, mutant, on_run, frozenset({drop}))
        if found is not None:
            found = fewest(found)
            if len(found.firings) < len(case.firings):
                return found
    return None


def _merged(case: _Case, invariant: str, mutant: str | None, on_run: Callable[[], None] | None) -> _Case | None:
    """The case with two firings replaced by one pause (just past the lease) at an await point the rest of the
    case passes: what two faults did to a replica's timing (a failed send and a slow retry hold a Lease) one
    freeze may do. Pairs in order, then await points in the order they are passed; the first that fails."""
    focus = _focus(case, invariant, mutant, faults=_faults_of(case.scenario))
    if focus is None:
        return None
    ordered = sorted(case.firings)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1:]:
            rest = case.firings - {first, second}
            base = _Case(focus.timed, case.strategy, rest, {f: d for f, d in case.durations.items() if f in rest},
                         case.script, case.seed)
            if on_run is not None:
                on_run()
            _, timing, _, _, _ = _timed(base, mutant)
            for site in timing:
                if not site.place.startswith(("api.", "http.")):
                    continue
                candidate = dataclasses.replace(base, firings=rest | {Firing(site, "replica.pause")})
                if on_run is not None:
                    on_run()
                result, _, _, _, _ = _timed(candidate, mutant)
                if any(v.invariant == invariant for v in result.violations):
                    return candidate
    return None


#: The fault that holds back what a replica does at a place (`api.get ...`, `http.send ...`, `watch ...`).
WAITS: Final = {"api": "api.latency", "http": "http.latency", "watch": "watch.delay"}
DELAYS: Final = frozenset({*WAITS.values(), "replica.pause"})
#: How many delays `_retime` adds, at most, before it gives up; and the least lag it makes up for.
RETIMES: Final = 24
LAG: Final = 0.001


def _retime(case: _Case, focus: _Focus, invariant: str, mutant: str | None,
            on_run: Callable[[], None] | None, drop: frozenset[Firing] = frozenset()) -> _Case | None:
    """The case's race in the focused world, timed as it was (after DEMi's idea of keeping the schedule when
    events are removed): the case's firings about the kept notifications, on the kept replicas renamed
    replica-0, replica-1; then, while it does not fail, a delay of the first call, send or watch event about
    them that now reaches its end earlier than it did in the case's world (other notifications' work,
    queueing, watch delays and pauses elsewhere made it wait), as long as it waited. None if the race does
    not come back."""
    rename = {old: f"replica-{i}" for i, old in enumerate(focus.replicas)}

    def moved(firing: Firing) -> Firing:
        return Firing(Site(rename[firing.site.who], firing.site.place, firing.site.occurrence), firing.fault)

    kept = {f for f in case.firings if f.site.who in rename and _about(f.site, focus.names) and f not in drop}
    firings = {moved(f) for f in kept}
    durations = {moved(f): d for f, d in case.durations.items() if f in kept}
    for pause, seconds in focus.carried.items():
        if pause not in drop and pause not in kept:
            firings.add(moved(pause))
            durations[moved(pause)] = seconds
    script = dict(case.script)
    for old, new in rename.items():
        script = {k.replace(f"@{old}, ", f"@{new}, "): v for k, v in script.items()}
    before = {Site(rename[s.who], s.place, s.occurrence): when for s, when in focus.timing.items()}
    frozen = {rename[who]: spans for who, spans in focus.frozen.items()}
    end = focus.scenario.phases.fault + focus.scenario.phases.quiet
    tried: Counter[Site] = Counter()
    for _ in range(RETIMES + 1):
        candidate = _Case(focus.timed, case.strategy, frozenset(firings), dict(durations), script, case.seed)
        if on_run is not None:
            on_run()
        result, timing, delays, _, _ = _timed(candidate, mutant)
        if any(v.invariant == invariant for v in result.violations):
            return candidate
        # A passage the case's run never made: not before the run ends. A passage its delay did not move
        # (a watch event its stream dropped when it restarted) is left as it is.
        early = next(((site, before.get(site, end) - when) for site, when in timing.items()
                      if _about(site, focus.names) and before.get(site, end) - when > LAG
                      and tried[site] < 2), None)
        if early is None:
            return None
        site, lag = early
        tried[site] += 1
        # The call, send or watch event is held back by a latency of its own; by a pause where the case's
        # replica was frozen meanwhile, which stopped its other work (its Lease renewals) as well.
        kind = site.place.partition(".")[0].partition(" ")[0]
        held = kind != "watch" and any(start < before.get(site, end) and stop > timing[site]
                                       for start, stop in frozen.get(site.who, ()))
        wait = Firing(site, "replica.pause" if held else WAITS[kind])
        # To the millisecond, up: a test states it, and the lag is made up for, not cut short.
        durations[wait] = math.ceil((delays.get(wait, 0.0) + lag) * 1000) / 1000
        firings.add(wait)
    return None
