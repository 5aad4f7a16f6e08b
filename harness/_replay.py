"""Failure artifacts and replay.

An artifact (`reports/failures/<scenario>-<seed>.json`) holds the format version, a fingerprint of the code,
the scenario itself, the seed, strategy and mutant, the tape, the faults that fired, a scripted run's script,
the violations and the trace. It is written before the run starts (so a run killed by a timeout still leaves
something `replay` accepts) and completed when the run ends. `replay` runs it again and confirms the trace
hash, or names the first divergent step. Shrinking is `harness._shrink`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from harness._report import tell, tenures
from harness._run import RunResult, run
from harness._scenario import Scenario
from harness._sites import Firing, decode, decode_durations
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

    def finish(self, result: RunResult, trace: list[str], *, leases: list[dict[str, Any]] | None = None,
               story: list[str] | None = None, names: dict[str, str] | None = None) -> None:
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
        self.data["world_seed"] = result.world_seed
        self.data["traffic"] = result.traffic
        # For the timeline: the Leases' tenures, the race in a few lines, and which notification each uid is.
        self.data.update(leases=leases or [], story=story or [], names=names or {})
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
        for key, kind in (("trace_hash", str), ("world_steps", int), ("world_seed", int)):
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
    def world_seed(self) -> int:
        """The seed a replay passes to `run`: the run's seed, but for a scripted run (`firings`) the seed its
        world was built with (0 for run k of the `sites` strategy, whose number is no seed)."""
        value = self.data.get("world_seed")
        if self.firings is None:
            return int(self.data["seed"])
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return 0 if self.data.get("strategy") == "sites" else int(self.data["seed"])

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
                 test: str | None = None, firings: frozenset[Firing] | None = None,
                 durations: dict[Firing, float] | None = None, script: dict[str, int] | None = None
                 ) -> tuple[RunResult, Artifact | None]:
    """One run with its artifact written first; the artifact is kept if the run fails (or if asked). `firings`,
    `durations` and `script` script the run (`run`)."""
    artifact = Artifact.start(directory, scenario, seed, strategy=strategy, mutant=mutant, tape=tape, stem=stem,
                              test=test if prepare is not None else None)
    result = run(scenario, seed, strategy=strategy, mutant=mutant, tape=tape, keep=True, prepare=prepare,
                 max_steps=max_steps, wall_seconds=wall_seconds, firings=firings, durations=durations, script=script)
    assert result.world is not None
    kept: Artifact | None = None
    if result.violations or keep_passing:
        world = result.world
        artifact.finish(result, world.trace.lines(), leases=tenures(world), names=world.names(),
                        story=tell(world, result.violations, result.violations[0].invariant)
                        if result.violations else [])
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
    result = run(artifact.scenario, artifact.world_seed, strategy=str(data.get("strategy") or "random"),
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
