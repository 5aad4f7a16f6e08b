"""The `sim` fixture's object: build scenarios, run them in isolated worlds, look at what happened.

Each `run` is recorded (its artifact is written before it starts) so a failing test hands over a replay
command; nothing is shared between runs, tests or xdist workers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fakes.backends import Receipt
from harness._replay import run_recorded
from harness._run import RunResult
from harness._scenario import Scenario
from notifier import NOTIFICATIONS, KubeObject

FAST = {"maxAttempts": 5, "initialBackoffSeconds": 1, "backoffMultiplier": 2, "maxBackoffSeconds": 60}


@dataclass(slots=True)
class SimRun:
    """One finished run: its verdict, and the world it left, to assert on."""

    result: RunResult
    artifact: Path

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
        from notifier._model import TERMINAL, Phase

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
                 runs: list[tuple[int, str]]) -> None:
        self.seed = seed
        self._name = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:60] or "sim-test"
        self._report_dir = report_dir / "failures"
        self._strategy = strategy
        self._runs = runs
        self._artifacts: list[Path] = []

    def scenario(self, **spec: Any) -> Scenario:
        """A scenario from keyword fields (as in a YAML file); `name` defaults to the test's."""
        spec.setdefault("name", self._name)
        return Scenario.model_validate(spec)

    def run(self, scenario: Scenario, *, mutant: str | None = None, seed: int | None = None,
            strategy: str | None = None, prepare: Callable[[Any], None] | None = None) -> SimRun:
        """Run `scenario` in a fresh world; `prepare(world)` may script client actions (`world.at`)."""
        chosen = seed if seed is not None else self.seed
        how = strategy or self._strategy or "random"  # the scenario's faults as written, unless asked otherwise
        planned = self._report_dir / f"{scenario.name}-{chosen}.json"
        self._runs.append((chosen, str(planned)))  # named before the run: a timeout still reports it
        self._artifacts.append(planned)
        result, artifact = run_recorded(scenario, chosen, self._report_dir, strategy=how, mutant=mutant,
                                        keep_passing=True, keep_world=True, prepare=prepare)
        assert artifact is not None and artifact.path == planned
        return SimRun(result, artifact.path)

    def check(self, run: SimRun) -> SimRun:
        """Fail, naming every violation and the replay command, unless every invariant held."""
        if run.violations:
            lines = [f"{v.invariant}: {v.notification} {v.channel} {v.message}".strip() for v in run.violations]
            raise AssertionError("invariants broken:\n  " + "\n  ".join(lines) +
                                 f"\nreplay: notifier-sim replay {run.artifact}")
        return run

    def discard_artifacts(self) -> None:
        for path in self._artifacts:
            path.unlink(missing_ok=True)
            path.with_suffix(".html").unlink(missing_ok=True)
