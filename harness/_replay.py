"""Failure artifacts, replay, and shrinking a failure down to a regression test.

An artifact (`reports/failures/<scenario>-<seed>.json`) holds the format version, a fingerprint of the code,
the scenario itself, the seed, strategy and mutant, the tape, the violations and the trace. It is written
before the run starts (so a run killed by a timeout still leaves something `replay` accepts) and completed
when the run ends. `replay` runs it again and confirms the trace hash, or names the first divergent step.
`shrink` minimises the tape (shortlex: fewer choices, then smaller ones) and the scenario while the same
invariant still fails, and writes a standalone pytest test.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import textwrap
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from harness._run import RunResult, run
from harness._scenario import NotificationSpec, Scenario
from harness._sites import Firing, decode, decode_durations, encode
from harness._trace import first_divergence
from harness.mutants import MUTANTS
from notifier import ConfigFileError

#: 2: choices are drawn per site from the seed (`harness._choices`), and a scripted run keeps its `script`.
FORMAT: Final = 2
PACKAGES: Final = ("notifier", "fakes", "harness")
#: An artifact keeps this many steps of the trace from its head and as many from its tail (the trace hash
#: covers every step), so a run that looped until its budget leaves a file of a few MB, not hundreds.
TRACE_KEEP: Final = 2000
#: A longer tape is stored zlib-compressed (base64) under `tape_zlib`.
TAPE_INLINE: Final = 5000


def encode_tape(tape: list[int] | None) -> dict[str, Any]:
    """The artifact fields that hold a tape: inline when short, compressed when long."""
    if tape is None or len(tape) <= TAPE_INLINE:
        return {"tape": tape}
    packed = zlib.compress(json.dumps(tape, separators=(",", ":")).encode(), 9)
    return {"tape": None, "tape_zlib": base64.b64encode(packed).decode()}


def bounded_trace(lines: list[str]) -> tuple[list[str], int]:
    """The head and tail of a trace that an artifact keeps, and how many steps in between it leaves out."""
    if len(lines) <= 2 * TRACE_KEEP:
        return lines, 0
    return lines[:TRACE_KEEP] + lines[-TRACE_KEEP:], len(lines) - 2 * TRACE_KEEP


@functools.cache
def code_fingerprint() -> str:
    """A hash of every source file of the three packages: a replay on other code may diverge."""
    digest = hashlib.blake2b(digest_size=12)
    for package in PACKAGES:
        root = Path(__import__(package).__file__).parent  # type: ignore[arg-type]
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(slots=True)
class Artifact:
    """A failure (or a run in flight) as a file."""

    path: Path
    data: dict[str, Any]

    @classmethod
    def start(cls, directory: Path, scenario: Scenario, seed: int, *, strategy: str, mutant: str | None,
              tape: list[int] | None = None, stem: str | None = None,
              test: str | None = None) -> Artifact:
        """Write the artifact of a run about to start: `<stem>.json` (default `<scenario>-<seed>`) in `directory`.

        `test` is the pytest node id of a run whose test scripted client actions (`prepare`) that the artifact
        cannot hold: only that test, run again with `--sim-replay`, replays it.
        """
        directory.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "code": code_fingerprint(), "state": "running",
                "scenario": scenario.model_dump(mode="json", by_alias=True), "seed": seed, "strategy": strategy,
                "mutant": mutant, **encode_tape(tape), "trace_hash": None, "violations": [], "trace": [],
                "test": test}
        artifact = cls(directory / f"{stem or f'{scenario.name}-{seed}'}.json", data)
        artifact.flush()
        return artifact

    def flush(self) -> None:
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.write_text(json.dumps(self.data, indent=1))
        os.replace(temp, self.path)

    def finish(self, result: RunResult, trace: list[str]) -> None:
        kept, elided = bounded_trace(trace)
        self.data.pop("tape_zlib", None)
        self.data.update(state="done", **encode_tape(result.tape), trace_hash=result.trace_hash, trace=kept,
                         trace_elided=elided, trace_steps=len(trace),
                         violations=[v.as_json() for v in result.violations],
                         faults_fired=dict(sorted(result.faults_fired.items())),
                         world_steps=result.world_steps, stopped=result.stopped)
        if result.firings is not None:
            self.data["firings"] = result.firings
            self.data["script"] = result.script
        self.data["fired"] = result.fired
        self.data["traffic"] = result.traffic
        self.flush()

    @property
    def tape(self) -> list[int] | None:
        """The recorded tape (None: draw from the seed)."""
        packed = self.data.get("tape_zlib")
        if packed is not None:
            return list(json.loads(zlib.decompress(base64.b64decode(packed))))
        tape = self.data.get("tape")
        if tape is not None and not isinstance(tape, list):
            raise TypeError(f"a tape is a list, not {type(tape).__name__}")
        return None if tape is None else list(tape)

    @classmethod
    def load(cls, path: Path) -> Artifact:
        try:
            data = json.loads(path.read_text())
        except OSError as error:
            raise ConfigFileError(str(path), 0, "", f"cannot read the artifact: {error.strerror}") from None
        except ValueError as error:
            raise ConfigFileError(str(path), 0, "", f"not a failure artifact (bad JSON: {error})") from None
        if isinstance(data, dict) and isinstance(data.get("format"), int) and data["format"] < FORMAT:
            raise ConfigFileError(str(path), 0, "format", (
                f"a format-{data['format']} artifact, from an older notifier-sim: its run drew its choices from one "
                f"sequence, and this version draws them per site (format {FORMAT}), so it cannot replay it; run its "
                f"scenario and seed again to find the failure anew"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigFileError(str(path), 0, "format", f"not a format-{FORMAT} failure artifact")
        artifact = cls(path, data)
        artifact.validate()
        return artifact

    def validate(self) -> None:
        """Check every field a replay reads, naming the first bad one (ConfigFileError)."""
        from harness._strategies import STRATEGIES
        from harness.mutants import MUTANTS

        data, where = self.data, str(self.path)

        def bad(field: str, problem: str) -> ConfigFileError:
            return ConfigFileError(where, 0, field, problem)

        if not isinstance(data.get("scenario"), dict):
            raise bad("scenario", "missing: the artifact must hold the scenario it ran")
        try:
            Scenario.model_validate(data["scenario"])
        except ValidationError as error:
            first = error.errors()[0]
            raise bad("scenario." + ".".join(str(part) for part in first["loc"]), first["msg"]) from None
        seed = data.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise bad("seed", f"must be a whole number of 0 or more, not {seed!r}")
        if data.get("strategy", "random") not in STRATEGIES:
            raise bad("strategy", f"unknown strategy {data.get('strategy')!r}; known: {', '.join(STRATEGIES)}")
        if "mutant" not in data:
            raise bad("mutant", "missing: null for the correct controller, or a mutant's name")
        if data["mutant"] is not None and data["mutant"] not in MUTANTS:
            raise bad("mutant", f"unknown mutant {data['mutant']!r}; known: {', '.join(MUTANTS)}")
        try:
            tape = self.tape
        except (ValueError, TypeError, zlib.error) as error:
            raise bad("tape_zlib" if "tape_zlib" in data else "tape", f"not a tape ({error})") from None
        if tape is not None:
            wrong = next((i for i, value in enumerate(tape)
                          if not isinstance(value, int) or isinstance(value, bool) or value < 0), None)
            if wrong is not None:
                raise bad(f"tape[{wrong}]", f"a tape holds whole numbers of 0 or more, not {tape[wrong]!r}")
        for key, kind in (("trace_hash", str), ("world_steps", int)):
            if data.get(key) is not None and not isinstance(data[key], kind):
                raise bad(key, f"must be a {kind.__name__}, not {data[key]!r}")
        script = data.get("script")
        if script is not None and not (isinstance(script, dict) and all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
                for k, v in script.items())):
            raise bad("script", "must map each draw's name to a whole number of 0 or more")
        for rows in ("firings", "fired"):
            if data.get(rows) is not None:
                try:
                    decode(data[rows])
                except ValueError as error:
                    raise bad(rows, str(error)) from None
        trace = data.get("trace", [])
        if not isinstance(trace, list) or not all(isinstance(line, str) and line.startswith("[") for line in trace):
            raise bad("trace", "must be a list of trace lines")

    @property
    def firings(self) -> frozenset[Firing] | None:
        """The `sites` strategy's firings of this run, if it recorded them."""
        rows = self.data.get("firings")
        return None if rows is None else decode(rows)

    @property
    def durations(self) -> dict[Firing, float] | None:
        rows = self.data.get("firings")
        return None if rows is None else decode_durations(rows)

    @property
    def script(self) -> dict[str, int] | None:
        """A scripted run's other choices, by name (`Choices`)."""
        script = self.data.get("script")
        return None if script is None else dict(script)

    @property
    def scenario(self) -> Scenario:
        return Scenario.model_validate(self.data["scenario"])


def run_recorded(scenario: Scenario, seed: int, directory: Path, *, strategy: str = "random",
                 mutant: str | None = None, tape: list[int] | None = None, keep_passing: bool = False,
                 keep_world: bool = False, prepare: Callable[[Any], None] | None = None,
                 max_steps: int | None = None, wall_seconds: float | None = None, stem: str | None = None,
                 test: str | None = None) -> tuple[RunResult, Artifact | None]:
    """One run with its artifact written first; the artifact is kept if the run fails (or if asked)."""
    artifact = Artifact.start(directory, scenario, seed, strategy=strategy, mutant=mutant, tape=tape, stem=stem,
                              test=test if prepare is not None else None)
    result = run(scenario, seed, strategy=strategy, mutant=mutant, tape=tape, keep=True, prepare=prepare,
                 max_steps=max_steps, wall_seconds=wall_seconds)
    assert result.world is not None
    kept: Artifact | None = None
    if result.violations or keep_passing:
        artifact.finish(result, result.world.trace.lines())
        kept = artifact
    else:
        artifact.path.unlink(missing_ok=True)
    if not keep_world:
        result.world = result.rig = None
    return result, kept


@dataclass(frozen=True, slots=True)
class Replayed:
    result: RunResult
    same: bool
    divergence: str | None
    code_changed: bool


def replay(artifact: Artifact) -> Replayed:
    """Run an artifact again; compare with what it recorded."""
    data = artifact.data
    # A world stopped by its wall budget stopped at a step count the run itself does not fix: replay it to
    # that count, with no wall budget, and it stops where it stopped.
    stopped_at = int(data["world_steps"]) if data.get("stopped") else None
    result = run(artifact.scenario, int(data["seed"]), strategy=str(data.get("strategy") or "random"),
                 mutant=data.get("mutant"), tape=artifact.tape, keep=True, max_steps=stopped_at,
                 wall_seconds=float("inf") if stopped_at is not None else None, firings=artifact.firings,
                 durations=artifact.durations, script=artifact.script)
    assert result.world is not None
    lines = result.world.trace.lines()
    recorded = list(data.get("trace") or [])
    same = data.get("trace_hash") in (None, result.trace_hash) if data.get("state") == "running" else (
        data.get("trace_hash") == result.trace_hash)
    divergence = None
    if not same:
        step = first_divergence(recorded, lines, int(data.get("trace_steps") or len(recorded)))
        if step is not None:
            divergence = (f"step {step}: recorded {_line_at(recorded, step)}, "
                          f"now {lines[step] if step < len(lines) else '(end)'}")
    result.world = result.rig = None
    return Replayed(result, same, divergence, data.get("code") != code_fingerprint())


def replay_verdict(artifact: Artifact, result: RunResult) -> str:
    """Whether a run reproduced an artifact: its trace hash, or where the two traces part."""
    data = artifact.data
    recorded = data.get("trace_hash")
    if recorded == result.trace_hash:
        return f"same trace hash {recorded}"
    text = f"DIFFERENT trace hash: recorded {recorded}, now {result.trace_hash}"
    if result.world is not None:
        lines = result.world.trace.lines()
        kept = list(data.get("trace") or [])
        step = first_divergence(kept, lines, int(data.get("trace_steps") or len(kept)))
        if step is not None:
            text += (f"; first divergent step {step}: recorded {_line_at(kept, step)}, now "
                     f"{lines[step] if step < len(lines) else '(end)'}")
    return text


def _line_at(recorded: list[str], index: int) -> str:
    for line in recorded:
        if line.startswith(f"[{index},"):
            return line
    return "(end)" if recorded and index >= int(json.loads(recorded[-1])[0]) else "(not kept in the artifact)"


# -- shrinking ------------------------------------------------------------------------------------


def shrink_scenario(scenario: Scenario, fails: Callable[[Scenario], bool]) -> Scenario:
    """Fewer replicas, notifications, channel sets, client actions, fault kinds and workers, in that order of
    preference, while it still fails: the first smaller candidate that fails is kept, and the search starts
    again from it. Deterministic."""
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
            out.append({**data, "channels": {k: v for k, v in data["channels"].items() if k != name},
                        "backends": {k: v for k, v in data["backends"].items() if k.partition(":")[2] != name}})
    if data.get("clients") is not None:
        out.append({**data, "clients": None})
    for i in range(len(data["traffic"])):
        out.append({**data, "traffic": data["traffic"][:i] + data["traffic"][i + 1:]})
    for name in sorted(data["faults"]):
        out.append({**data, "faults": {k: v for k, v in data["faults"].items() if k != name}})
    if data["world"]["workers"] > 1:
        out.append({**data, "world": {**data["world"], "workers": 1}})
    return [scenario for candidate in out if (scenario := _valid(candidate)) is not None]


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


@dataclass(frozen=True, slots=True)
class _Case:
    """A scripted run: what a shrink step changes and tries."""

    scenario: Scenario
    strategy: str
    firings: frozenset[Firing]
    durations: dict[Firing, float]
    script: dict[str, int]


def shrink(artifact: Artifact, out_dir: Path, *, on_run: Callable[[], None] | None = None) -> Shrunk:
    """Minimise an artifact's failure and write a standalone regression test for it.

    Any run converts exactly into a script (`Choices`): its faults as explicit firings at named sites, with how
    long each delay lasted; its client actions, drawn ones too, as scripted traffic; its other choices by name.
    Then, each step keeping a change only while the same invariant still fails, and every step deterministic:
    the strategy (a pct schedule is dropped if the failure does not need it), the world (replicas, then
    notifications, channels, client actions, fault kinds and workers: the topology first, because each of
    those removes many sites at once, and sites are named after the notification they concern, so what
    remains keeps its names), then the firings one by one (ddmin), the world again, each delay back to the
    scenario's default, and the remaining choices to their simplest.
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
    seed = int(data["seed"])
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
        result = run(case.scenario, seed, strategy=case.strategy, mutant=mutant, firings=case.firings,
                     durations=case.durations, script=case.script)
        return any(v.invariant == invariant for v in result.violations)

    strategy = str(data.get("strategy") or "random")
    best = _Case(_scripted(scenario, recorded.traffic), "pct" if strategy == "pct" else "sites",
                 decode(recorded.fired), decode_durations(recorded.fired),
                 {k: v for k, v in recorded.script.items() if not k.startswith(("client.", "swarm."))})
    if not fails(best):
        raise ConfigFileError(str(artifact.path), 0, "", f"the failure ({invariant}) does not reproduce as a "
                                                         "script of its firings and choices: a harness bug")
    if best.strategy == "pct":
        plain = _Case(best.scenario, "sites", best.firings, best.durations,
                      {k: v for k, v in best.script.items() if not k.startswith("pct.")})
        if fails(plain):
            best = plain
    best = _replace(best, scenario=shrink_scenario(best.scenario, lambda s: fails(_replace(best, scenario=s))))
    best = _replace(best, firings=shrink_firings(best.firings, lambda f: fails(_replace(best, firings=f))))
    best = _replace(best, scenario=shrink_scenario(best.scenario, lambda s: fails(_replace(best, scenario=s))))
    if len(best.firings) > 2:
        # The world is small now: look for the same failure with fewer firings where the `sites` strategy
        # would (every single, its extensions, then pairs), and keep the first that has fewer.
        refound = _refind(best, invariant, mutant, on_run)
        if refound is not None:
            best = _replace(refound, firings=shrink_firings(refound.firings,
                                                            lambda f: fails(_replace(refound, firings=f))))
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
    name = f"test_{invariant}_{scenario.name}_{seed}".replace("-", "_")
    path = out_dir / f"{name}.py"
    told = story(small, seed, strategy=best.strategy, tape=[], mutant=mutant, firings=best.firings,
                 durations=best.durations, invariant=invariant, script=best.script)
    path.write_text(regression_test(name, small, seed, best.strategy, invariant, mutant,
                                    encode(best.firings, best.durations), best.script, told))
    return Shrunk(small, invariant, before, size_of(small) | {"faults fired": len(best.firings),
                                                              "choices": len(best.script)},
                  path, best.strategy, best.script, [str(f) for f in sorted(best.firings)], told)


#: How many runs of the `sites` strategy a shrink spends looking for the failure with fewer firings.
REFIND: Final = 400


def _refind(case: _Case, invariant: str, mutant: str | None, on_run: Callable[[], None] | None) -> _Case | None:
    for k in range(REFIND):
        if on_run is not None:
            on_run()
        try:
            result = run(case.scenario, k, strategy="sites", mutant=mutant)
        except ValueError:
            return None  # the strategy has no run k: every one was tried
        if result.firings is not None and len(result.firings) < len(case.firings) and any(
                v.invariant == invariant for v in result.violations):
            return _Case(case.scenario, "sites", decode(result.firings), decode_durations(result.firings), {})
    return None


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
    the same firings give the same result."""
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
    told: list[str] = []
    previous = None
    for step in result.world.trace.steps:
        details = "".join(f" {key}={value}" for key, value in step.details
                          if key in ("at", "verb", "name", "seconds", "key", "outcome"))
        if (step.kind in ("replica.pause", "replica.crash") and previous is not None
                and previous.kind == f"fault.{step.kind}" and previous.actor == step.actor):
            told[-1] += details  # the replica's own record says how long the pause was
        elif step.kind.startswith(("fault.", "client.")):
            told.append(f"{step.time:9.3f} s  {step.actor}: {step.kind.removeprefix('fault.')}{details}")
        previous = step
    if len(told) > most:
        told = [*told[:most - 1], f"          ... and {len(told) - most + 1} more"]
    broken = next((v for v in result.violations if v.invariant == invariant), None)
    if broken is not None:
        told.append(f"{broken.time:9.3f} s  {invariant} broke: {broken.notification} {broken.channel} "
                    f"{broken.message}".rstrip())
    return told


def regression_test(name: str, scenario: Scenario, seed: int, strategy: str, invariant: str,
                    mutant: str | None, firings: list[list[Any]], script: dict[str, int],
                    told: list[str] | None = None) -> str:
    """A standalone pytest test of a shrunk failure: the scenario inline as YAML, the faults that fire as one
    row each, the other choices by name (none, mostly), and the race in its docstring."""
    # The description and campaign were the original scenario's: what is left is this race's world.
    spec = yaml.safe_dump({k: v for k, v in scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True
                                                                ).items() if k not in ("description", "campaign")},
                          sort_keys=False, width=110)
    found = textwrap.fill(
        "Shrunk by `notifier-sim shrink`. " + (
            f"It shows the bug of the zoo's mutant `{mutant}` ({MUTANTS[mutant].bug}): it fails with "
            f"NOTIFIER_SIM_MUTANT={mutant} pytest {name}.py, and passes on the correct controller."
            if mutant else "It failed on the controller it was found on; it passes once that bug is fixed."),
        width=110)
    race = "".join(f"    {line}\n" for line in told or [])
    rows = "".join(f"    {json.dumps(row)},\n" for row in firings)
    choices = "".join(f"    {json.dumps(key)}: {value},\n" for key, value in sorted(script.items()))
    return f'''"""Regression: `{invariant}` broke in {scenario.name} (seed {seed}, {strategy}).

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
    result = run(SCENARIO, 0, strategy={strategy!r}, mutant=os.environ.get("NOTIFIER_SIM_MUTANT"),
                 firings=FIRINGS, durations=DURATIONS{", script=CHOICES" if script else ""})
    broken = [v.message for v in result.violations if v.invariant == {invariant!r}]
    assert broken == [], broken
'''
