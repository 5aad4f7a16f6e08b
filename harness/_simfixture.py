"""The `sim` fixture's object: build scenarios, run them in isolated worlds, look at what happened.

Each `run` is recorded (its artifact is written before it starts) so a failing test hands over a replay
command; nothing is shared between runs, tests or xdist workers. Artifact names carry a hash of the test's full
node id, so no two tests (or parametrized variants) ever write the same file. A run whose test scripts client
actions (`prepare`) replays only through its test: its replay command is `pytest NODEID --sim-replay FILE`.
Under `--sim-replay`, the run of the replayed scenario takes the artifact's seed, strategy, mutant and tape,
and says whether it gave the recorded trace hash.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.backends import Receipt
from harness._replay import Artifact, replay_verdict, run_recorded
from harness._run import RunResult
from harness._scenario import Scenario
from notifier import NOTIFICATIONS, KubeObject

FAST = {"maxAttempts": 5, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}


@dataclass(slots=True)
class SimRun:
    """One finished run: its verdict, and the world it left, to assert on."""

    result: RunResult
    artifact: Path
    #: The command that replays this run: `notifier-sim replay`, or `pytest ... --sim-replay` under `prepare`.
    replay: str = ""

    @property
    def world(self) -> Any:
        return self.result.world

    @property
    def violations(self) -> list[Any]:
        return self.result.violations

    def object(self, name: str) -> KubeObject:
        return self.world.server.get(NOTIFICATIONS, "default", name)  # type: ignore[no-any-return]

    def status(self, name: str) -> dict[str, Any]:
        return self.object(name).get("status") or {}

    def attempts(self, name: str, channel: str | None = None) -> list[dict[str, Any]]:
        out = list(self.status(name).get("deliveryAttempts") or [])
        return [a for a in out if channel is None or a["channel"].startswith(channel)]

    def receipts(self, name: str | None = None) -> list[Receipt]:
        uid = self.object(name)["metadata"]["uid"] if name else None
        return [r for r in self.world.backends.receipts() if uid is None or r.notification == uid]

    def audit(self, name: str) -> list[Any]:
        rig = self.result.rig
        assert rig is not None
        return [e for e in rig.audit.events if e.resource_id == name]

    def phases(self, name: str) -> list[str]:
        """Every phase the object was written with, in order, without repeats."""
        out: list[str] = []
        for change in self.world.changes:
            if change.resource == NOTIFICATIONS and change.object["metadata"]["name"] == name:
                phase = (change.object.get("status") or {}).get("phase", "")
                if phase and (not out or out[-1] != phase):
                    out.append(phase)
        return out

    def completed_after(self, name: str) -> float:
        """Virtual seconds from creation to the first terminal write."""
        from notifier.model import TERMINAL, Phase

        created = None
        for step in self.world.trace.steps:
            details = dict(step.details)
            if step.kind == "commit.added" and details.get("name") == name:
                created = step.time
        for change in self.world.changes:
            if change.resource == NOTIFICATIONS and change.object["metadata"]["name"] == name:
                phase = Phase((change.object.get("status") or {}).get("phase", "") or "")
                if phase in TERMINAL:
                    for step in self.world.trace.steps:
                        if dict(step.details).get("rv") == change.revision:
                            return float(step.time) - (created or 0.0)
        return float("inf")


class Sim:
    """What the `sim` fixture gives a test."""

    def __init__(self, *, seed: int, name: str, report_dir: Path, strategy: str | None,
                 runs: list[str], nodeid: str = "", replaying: Artifact | None = None) -> None:
        self.seed = seed
        tag = hashlib.blake2b(nodeid.encode(), digest_size=4).hexdigest()
        slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:40].strip("-") or "sim-test"
        self._name = f"{slug}-{tag}" if nodeid else slug
        self._nodeid = nodeid
        self._report_dir = report_dir / "failures"
        self._strategy = strategy
        self._runs = runs
        self._artifacts: list[Path] = []
        self._replaying = replaying

    def scenario(self, **spec: Any) -> Scenario:
        """A scenario from keyword fields (as in a YAML file); `name` defaults to the test's."""
        spec.setdefault("name", self._name)
        return Scenario.model_validate(spec)

    def run(self, scenario: Scenario, *, mutant: str | None = None, seed: int | None = None,
            strategy: str | None = None, prepare: Callable[[Any], None] | None = None) -> SimRun:
        """Run `scenario` in a fresh world; `prepare(world)` may script client actions (`world.at`)."""
        chosen = seed if seed is not None else self.seed
        how = strategy or self._strategy or "random"  # the scenario's faults as written, unless asked otherwise
        tape = None
        replaying = self._replaying
        directory = self._report_dir
        if replaying is not None and replaying.data["scenario"].get("name") == scenario.name:
            data = replaying.data
            chosen, how, mutant, tape = int(data["seed"]), str(data.get("strategy") or how), data.get("mutant"), \
                replaying.tape
            directory = self._report_dir.parent / "replays"  # the replayed artifact stays as it was
        else:
            replaying = None
        stem = f"{self._name}-{chosen}" if scenario.name == self._name else f"{self._name}-{scenario.name}-{chosen}"
        planned = directory / f"{stem}.json"
        command = (f"pytest {shlex.quote(self._nodeid)} --sim-replay {shlex.quote(str(planned))}"
                   if prepare is not None and self._nodeid else f"notifier-sim replay {planned}")
        self._runs.append(f"seed {chosen}; replay: {command}")  # named before the run: a timeout still reports it
        self._artifacts.append(planned)
        result, artifact = run_recorded(scenario, chosen, directory, strategy=how, mutant=mutant, tape=tape,
                                        keep_passing=True, keep_world=True, prepare=prepare, stem=stem,
                                        test=self._nodeid)
        assert artifact is not None and artifact.path == planned
        if replaying is not None:
            verdict = replay_verdict(replaying, result)
            self._runs.append(f"seed {chosen}: replayed {replaying.path}: {verdict}")
            print(f"notifier-sim: replayed {replaying.path}: {verdict}")
        return SimRun(result, artifact.path, command)

    def check(self, run: SimRun) -> SimRun:
        """Fail, naming every violation and the replay command, unless every invariant held."""
        if run.violations:
            lines = [str(v) for v in run.violations]
            raise AssertionError("invariants broken:\n  " + "\n  ".join(lines) + f"\nreplay: {run.replay}")
        return run

    def discard_artifacts(self) -> None:
        for path in self._artifacts:
            path.unlink(missing_ok=True)
            path.with_suffix(".html").unlink(missing_ok=True)
