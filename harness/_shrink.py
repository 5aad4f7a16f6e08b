"""Shrinking a failure down to a regression test, and telling its race.

`shrink` turns any run into its script (explicit firings at named sites, its other choices by name), exactly,
then minimises the world, the firings, the delays and the choices while the same invariant still fails, and
writes a standalone pytest test. `story` tells a failure in a few lines.
"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from harness._focus import (
    _Case,
    _faults_of,
    _fewer,
    _focus,
    _members,
    _merged,
    _retimed,
    _smaller_than,
    _valid,
    _weight,
)
from harness._replay import Artifact, run_recorded
from harness._report import tell, write_timeline
from harness._run import RunResult, run
from harness._scenario import Scenario
from harness._sites import Firing, decode, decode_durations, encode
from harness.mutants import MUTANTS
from notifier import ConfigFileError


def shrink_scenario(scenario: Scenario, fails: Callable[[Scenario], bool]) -> Scenario:
    """Fewer replicas, notifications, channel sets, client actions (a reload of the routing is one), fault
    kinds and workers, in that order of preference, while it still fails: the first smaller candidate that
    fails is kept, and the search starts again from it. Deterministic."""
    best = scenario
    changed = True
    while changed:
        changed = False
        for candidate in _smaller(best):
            if fails(candidate):
                best, changed = candidate, True
                break
    return best


def _smaller(s: Scenario) -> list[Scenario]:
    data = s.model_dump(mode="json", by_alias=True)
    out: list[dict[str, Any]] = []
    if data["world"]["replicas"] > 1:
        out.append({**data, "world": {**data["world"], "replicas": data["world"]["replicas"] - 1}})
    notes = data["notifications"]
    for i, n in enumerate(notes):
        if n["count"] > 1:
            # Each half keeps its members' names (sites are named after them), so the halves are written out
            # one notification each, at the times they were created.
            members = _members(n)
            half = len(members) // 2
            for kept in (members[:half], members[half:]):
                out.append({**data, "notifications": [*notes[:i], *kept, *notes[i + 1:]]})
        if len(notes) > 1:
            out.append({**data, "notifications": notes[:i] + notes[i + 1:]})
    used = {n["channels"] for n in notes}
    for name in sorted(data["channels"]):
        if name not in used and len(data["channels"]) > 1:
            reload = data.get("reload_channels")
            out.append({**data, "channels": {k: v for k, v in data["channels"].items() if k != name},
                        "backends": {k: v for k, v in data["backends"].items() if k.partition(":")[2] != name},
                        # the routing a reload brings names the channel sets that are left, and no other
                        "reload_channels": {k: v for k, v in reload.items() if k != name} if reload else reload})
    if data.get("clients") is not None:
        out.append({**data, "clients": None})
    for i in range(len(data["traffic"])):
        out.append({**data, "traffic": data["traffic"][:i] + data["traffic"][i + 1:]})
    if data.get("reload_channels") is not None:
        out.append({**data, "reload_channels": None})
    for name in sorted(data["faults"]):
        out.append({**data, "faults": {k: v for k, v in data["faults"].items() if k != name}})
    if data["world"]["workers"] > 1:
        out.append({**data, "world": {**data["world"], "workers": 1}})
    return [scenario for candidate in out if (scenario := _valid(candidate)) is not None]


def sized(size: dict[str, int]) -> str:
    """A world's size in words: `1 notifications, 0 faults, 2 replicas, ...`."""
    return ", ".join(f"{count} {what}" for what, count in size.items())


def size_of(scenario: Scenario) -> dict[str, int]:
    return {"notifications": sum(n.count for n in scenario.notifications), "faults": len(scenario.faults),
            "replicas": scenario.world.replicas, "workers": scenario.world.workers}


@dataclass(frozen=True, slots=True)
class Shrunk:
    scenario: Scenario
    invariant: str
    before: dict[str, int]
    after: dict[str, int]
    test_path: Path
    #: The strategy the shrunk run keeps (`sites` unless it needs pct's schedule), and its other choices.
    strategy: str = "sites"
    script: dict[str, int] = field(default_factory=dict)
    #: The faults the failure needs, where they fire.
    firings: list[str] = field(default_factory=list)
    #: The race in a few lines (`story`).
    story: list[str] = field(default_factory=list)
    #: The shrunk run's timeline (beside its artifact), if it failed again as it should.
    timeline: Path | None = None

def shrink(artifact: Artifact, out_dir: Path, *, on_run: Callable[[], None] | None = None,
           benign: bool = False, found_by: str = "`notifier-sim shrink`") -> Shrunk:
    """Minimise an artifact's failure and write a standalone regression test for it.

    Any run converts exactly into a script (`Choices`): its faults as explicit firings at named sites, with how
    long each delay lasted; its client actions, drawn ones too, as scripted traffic; its other choices by name.
    Then, each step keeping a change only while the same invariant still fails, and every step deterministic:
    the strategy (a pct schedule is dropped if the failure does not need it); the race in the smallest world
    the violation allows (its notification on the two replicas that did most about it), with the timing the
    rest of the world gave it kept by explicit delays (`_retime`; a race is mostly timing, and this spares
    minimising a large world); failing that, the firings (ddmin), the world (replicas, then notifications,
    channels, client actions, fault kinds and workers: each removes many sites at once, and sites are named
    after the notification they concern, so what remains keeps its names), the firings again, and the small
    world tried again, timed, then searched by the `sites` strategy and random seeds. Then fewer firings:
    where `sites` finds the failure with fewer, where timing alone does a firing's work, where one freeze does
    two firings' work; each delay back to the scenario's default; the remaining choices to their simplest.

    `benign`: the failure is a reproduced symptom that is no bug (a redelivery after an unknown outcome); the
    test then asserts that the run still shows it and breaks nothing else.
    """
    data = artifact.data
    if not data.get("violations"):
        raise ConfigFileError(str(artifact.path), 0, "violations", "the artifact records no violation to shrink")
    if data.get("test"):
        raise ConfigFileError(str(artifact.path), 0, "test", "this run's test scripted client actions (prepare) "
                                                             "that the artifact cannot hold, so it cannot be shrunk "
                                                             "apart from its test")
    invariant = str(data["violations"][0]["invariant"])
    mutant = data.get("mutant")
    seed = artifact.world_seed
    scenario = artifact.scenario
    recorded = run(scenario, seed, strategy=str(data.get("strategy") or "random"), mutant=mutant,
                   tape=artifact.tape if artifact.firings is None else None, firings=artifact.firings,
                   durations=artifact.durations, script=artifact.script)
    if not any(v.invariant == invariant for v in recorded.violations):
        raise ConfigFileError(str(artifact.path), 0, "", f"the recorded failure ({invariant}) does not reproduce")
    before = size_of(scenario) | {"faults fired": len(recorded.fired), "choices": len(recorded.script)}

    def fails(case: _Case) -> bool:
        if on_run is not None:
            on_run()
        result = run(case.scenario, case.seed, strategy=case.strategy, mutant=mutant, firings=case.firings,
                     durations=case.durations, script=case.script)
        return any(v.invariant == invariant for v in result.violations)

    def fewest(case: _Case) -> _Case:
        return _replace(case, firings=shrink_firings(case.firings, lambda f: fails(_replace(case, firings=f))))

    def smallest(case: _Case) -> _Case:
        return _replace(case, scenario=shrink_scenario(case.scenario, lambda s: fails(_replace(case, scenario=s))))

    strategy = str(data.get("strategy") or "random")
    best = case_of(scenario, recorded, "pct" if strategy == "pct" else "sites", seed)
    if not fails(best):
        raise ConfigFileError(str(artifact.path), 0, "", f"the failure ({invariant}) does not reproduce as a "
                                                         "script of its firings and choices: a harness bug")
    if best.strategy == "pct":
        plain = _Case(best.scenario, "sites", best.firings, best.durations,
                      {k: v for k, v in best.script.items() if not k.startswith("pct.")}, best.seed)
        if fails(plain):
            best = plain
    # The race often needs only the notification the violation names, and two replicas, but its firings were
    # timed by the rest of the world: first the same race in that small world, timed as it was (`_retime`),
    # which spares the minimising of the whole world; failing that, the world minimised, then timed again,
    # then the race looked for afresh where `sites` would, then where random seeds do; with the fault kinds
    # the failure kept, then with every one the scenario had.
    early = _retimed(best, _faults_of(best.scenario), invariant, mutant, on_run)
    if early is not None:
        best = smallest(fewest(early))
    else:
        best = fewest(smallest(fewest(best)))
        kinds = [_faults_of(best.scenario)]
        if set(scenario.faults) != set(best.scenario.faults):
            kinds.append(_faults_of(scenario))
        for faults in kinds:
            found = _retimed(best, faults, invariant, mutant, on_run)
            if found is None:
                focus = _focus(best, invariant, mutant, faults=faults)
                if focus is not None and _smaller_than(focus, best):
                    found = _refind(_replace(best, scenario=focus.scenario), invariant, mutant, on_run,
                                    seeds=REFIND // 2)
            if found is not None:
                best = smallest(fewest(found))
                break
    if len(best.firings) > 2:
        # The world is small now: look for the same failure with fewer firings where the `sites` strategy
        # would (every single, its extensions, then pairs), and keep the first that has fewer.
        found = _refind(best, invariant, mutant, on_run)
        if found is not None:
            best = fewest(found)
    while len(best.firings) > 2 and (found := _fewer(best, invariant, mutant, on_run, fewest)) is not None:
        best = found
    while len(best.firings) > 3 and (found := _merged(best, invariant, mutant, on_run)) is not None:
        best = smallest(fewest(found))
    durations = {f: d for f, d in best.durations.items() if f in best.firings}
    for firing in sorted(durations):
        fewer = {f: d for f, d in durations.items() if f != firing}
        if fails(_replace(best, durations=fewer)):
            durations = fewer
    best = _replace(best, durations=durations)
    for drawn in sorted(best.script):
        simpler = {k: v for k, v in best.script.items() if k != drawn}
        if fails(_replace(best, script=simpler)):
            best = _replace(best, script=simpler)
    small = best.scenario
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"test_{invariant}_{scenario.name}_{int(data['seed'])}".replace("-", "_")
    path = out_dir / f"{name}.py"
    told = story(small, best.seed, strategy=best.strategy, tape=[], mutant=mutant, firings=best.firings,
                 durations=best.durations, invariant=invariant, script=best.script)
    path.write_text(regression_test(name, small, best.seed, best.strategy, invariant, mutant,
                                    encode(best.firings, best.durations), best.script, told, benign=benign,
                                    found_by=found_by))
    # The shrunk run as an artifact of its own, and its timeline, beside the test.
    _, kept = run_recorded(small, best.seed, out_dir, strategy=best.strategy, mutant=mutant, firings=best.firings,
                           durations=best.durations, script=best.script, stem=name)
    timeline = write_timeline(kept.path) if kept is not None else None
    return Shrunk(small, invariant, before, size_of(small) | {"faults fired": len(best.firings),
                                                              "choices": len(best.script)},
                  path, best.strategy, best.script, [str(f) for f in sorted(best.firings)], told, timeline)


#: How many runs of the `sites` strategy a shrink spends looking for the failure with fewer firings.
REFIND: Final = 400


def _refind(case: _Case, invariant: str, mutant: str | None, on_run: Callable[[], None] | None, *,
            seeds: int = 0) -> _Case | None:
    """The first run of the `sites` strategy on the case's world (then, if `seeds`, the first random seed) that
    breaks the same invariant with fewer firings, as a script (`sites`: every other choice the simplest)."""
    for k in range(REFIND):
        if on_run is not None:
            on_run()
        try:
            result = run(case.scenario, k, strategy="sites", mutant=mutant)
        except ValueError:
            break  # the strategy has no run k: every one was tried
        if result.firings is not None and len(result.firings) < len(case.firings) and any(
                v.invariant == invariant for v in result.violations):
            return _Case(case.scenario, "sites", decode(result.firings), decode_durations(result.firings), {}, 0)
    for seed in range(seeds):
        if on_run is not None:
            on_run()
        result = run(case.scenario, seed, strategy="random", mutant=mutant)
        if any(v.invariant == invariant for v in result.violations):
            found = case_of(case.scenario, result, "sites", seed)
            if len(found.firings) < len(case.firings) or _weight(case.scenario) < _weight(found.scenario):
                return found
    return None

def case_of(scenario: Scenario, result: RunResult, strategy: str, seed: int) -> _Case:
    """A run of `scenario` as its script, exactly: the faults it fired (with their delays' seconds), the client
    actions it took (drawn ones scripted), its other draws by name, and the seed of the controller's own
    randomness. Under `strategy` "pct" the script keeps pct's schedule; under "sites", none."""
    return _Case(_scripted(scenario, result.traffic), strategy, decode(result.fired), decode_durations(result.fired),
                 {k: v for k, v in result.script.items() if not k.startswith(("client.", "swarm."))}, seed)


def _replace(case: _Case, **changes: Any) -> _Case:
    return dataclasses.replace(case, **changes)


def _scripted(scenario: Scenario, traffic: Any) -> Scenario:
    """The scenario with the client actions a run took (drawn ones too) scripted, and none drawn."""
    if scenario.clients is None or not isinstance(traffic, list):
        return scenario
    return Scenario.model_validate({**scenario.model_dump(mode="json", by_alias=True), "clients": None,
                                    "traffic": traffic})


def shrink_firings(firings: frozenset[Firing], fails: Callable[[frozenset[Firing]], bool]) -> frozenset[Firing]:
    """The firings the failure needs: halves, then one at a time, taken out while it still fails (ddmin-like);
    the same firings give the same result. A failure that needs no firing at all keeps none."""
    if firings and fails(frozenset()):
        return frozenset()
    current = sorted(firings)
    chunk = max(1, len(current) // 2)
    while chunk >= 1 and len(current) > 1:
        removed = False
        for start in range(0, len(current), chunk):
            candidate = current[:start] + current[start + chunk:]
            if candidate and fails(frozenset(candidate)):
                current, removed = candidate, True
                break
        if not removed:
            if chunk == 1:
                break
            chunk //= 2
    return frozenset(current)


def story(scenario: Scenario, seed: int, *, strategy: str, tape: list[int] | None, mutant: str | None,
          firings: frozenset[Firing] | None, durations: dict[Firing, float] | None, invariant: str,
          script: dict[str, int] | None = None, most: int = 14) -> list[str]:
    """A failure told in a few lines: what fired and what clients did, in virtual time, then what broke."""
    result = run(scenario, seed, strategy=strategy, tape=tape if firings is None else None, mutant=mutant,
                 keep=True, firings=firings, durations=durations, script=script)
    assert result.world is not None
    return tell(result.world, result.violations, invariant, most=most)


def regression_test(name: str, scenario: Scenario, seed: int, strategy: str, invariant: str,
                    mutant: str | None, firings: list[list[Any]], script: dict[str, int],
                    told: list[str] | None = None, *, benign: bool = False,
                    found_by: str = "`notifier-sim shrink`") -> str:
    """A standalone pytest test of a shrunk failure: the scenario inline as YAML, the faults that fire as one
    row each, the other choices by name (none, mostly), and the race in its docstring."""
    # The description and campaign were the original scenario's: what is left is this race's world.
    spec = yaml.safe_dump({k: v for k, v in scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True
                                                                ).items() if k not in ("description", "campaign")},
                          sort_keys=False, width=110, default_flow_style=None)
    found = textwrap.fill(
        f"Shrunk by {found_by}. " + (
            f"It shows the bug of the zoo's mutant `{mutant}` ({MUTANTS[mutant].bug}): it fails with "
            f"NOTIFIER_SIM_MUTANT={mutant} pytest {name}.py, and passes on the correct controller."
            if mutant else "It shows behaviour that is no bug, as the controller has it: the test fails if that ever "
                           "changes, or if the run breaks anything else." if benign else
            "It failed on the controller it was found on; it passes once that bug is fixed."),
        width=110)
    check = (f"""    shown = [v.message for v in result.violations if v.invariant == {invariant!r}]
    broken = [v.message for v in result.violations if v.invariant != {invariant!r}]
    assert shown and broken == [], (shown, broken)
""" if benign else f"""    broken = [v.message for v in result.violations if v.invariant == {invariant!r}]
    assert broken == [], broken
""")
    race = "".join(f"    {line}\n" for line in told or [])
    rows = "".join(f"    {json.dumps(row)},\n" for row in firings)
    choices = "".join(f"    {json.dumps(key)}: {value},\n" for key, value in sorted(script.items()))
    happened = "shows" if benign else "broke"
    return f'''"""Regression: `{invariant}` {happened} in {scenario.name} ({strategy}, the controller's seed {seed}).

{found}

The race, as the shrunk run tells it:
{race}"""

import os

import yaml

from harness import Scenario, durations_from_json, firings_from_json, run

SCENARIO = Scenario.model_validate(yaml.safe_load(\"\"\"
{spec}\"\"\"))
#: The faults that fire, and where: [replica, site, occurrence, fault(, seconds a delay lasts)]; nothing else
#: fires{", and every other choice is its simplest" if not script else ""}.
FIRED = [
{rows}]
FIRINGS, DURATIONS = firings_from_json(FIRED), durations_from_json(FIRED)
{f"""#: The other choices the failure needs, by name (every one not named is its simplest).
CHOICES = {{
{choices}}}
""" if script else ""}

def {name}() -> None:
    result = run(SCENARIO, {seed}, strategy={strategy!r}, mutant=os.environ.get("NOTIFIER_SIM_MUTANT"),
                 firings=FIRINGS, durations=DURATIONS{", script=CHOICES" if script else ""})
{check}'''
