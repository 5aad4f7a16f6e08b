"""`notifier-sim check`: the CI gate. Within a time budget: the determinism self-check of every bundled
scenario, the bug zoo, and as many seeds of every scenario as the rest of the budget allows (round robin).
Writes JUnit XML and a summary; the verdict is failed on any violation, divergence or escaped mutant.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from harness._explore import DeterminismError, self_check
from harness._replay import run_recorded
from harness._scenario import Scenario, bundled, load_scenario
from harness._zoo import hunt
from harness.mutants import MUTANTS
from notifier._yamlload import ConfigFileError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h)?$")


def parse_budget(text: str) -> float:
    """`60s`, `2m`, `1h` or a number of seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ConfigFileError("--budget", 0, "", f"budget {text!r} is not a duration; use e.g. 60s, 2m or 90")
    value = float(match.group(1))
    return value * {"s": 1, None: 1, "m": 60, "h": 3600}[match.group(2)]


@dataclass(slots=True)
class Case:
    """One JUnit test case."""

    suite: str
    name: str
    seconds: float
    failure: str | None = None


@dataclass(slots=True)
class Verdict:
    cases: list[Case] = field(default_factory=list)
    runs: int = 0

    @property
    def ok(self) -> bool:
        return all(case.failure is None for case in self.cases)


def check(budget: float, *, mutant: str | None = None, report_dir: Path = Path("reports"),
          zoo_seeds: int = 60) -> Verdict:
    started = time.perf_counter()
    deadline = started + budget
    verdict = Verdict()
    scenarios: list[Scenario] = [load_scenario(path) for path in bundled()]
    failures_dir = report_dir / "failures"
    for scenario in scenarios:
        began = time.perf_counter()
        try:
            self_check(scenario, 0, strategy=_strategy(scenario), mutant=mutant)
            verdict.cases.append(Case("determinism", scenario.name, time.perf_counter() - began))
        except DeterminismError as error:
            verdict.cases.append(Case("determinism", scenario.name, time.perf_counter() - began, str(error)))
    if mutant is None:
        for name in MUTANTS:
            found = hunt(name, zoo_seeds)
            verdict.cases.append(Case("zoo", name, found.seconds, None if found.caught else
                                      f"mutant {name} escaped every invariant in {found.seeds} seeds"))
    seeds = {scenario.name: 0 for scenario in scenarios}
    failed: dict[str, str] = {}
    spent: dict[str, float] = {scenario.name: 0.0 for scenario in scenarios}
    while time.perf_counter() < deadline or not verdict.runs:
        progressed = False
        for scenario in scenarios:
            if time.perf_counter() >= deadline and verdict.runs:
                break
            if scenario.name in failed:
                continue
            began = time.perf_counter()
            seed = seeds[scenario.name]
            result, artifact = run_recorded(scenario, seed, failures_dir, strategy=_strategy(scenario),
                                            mutant=mutant)
            seeds[scenario.name] = seed + 1
            spent[scenario.name] += time.perf_counter() - began
            verdict.runs += 1
            progressed = True
            if result.violations:
                v = result.violations[0]
                failed[scenario.name] = (f"seed {seed}: {v.invariant}: {v.notification} {v.channel} {v.message}; "
                                         f"replay: notifier-sim replay {artifact.path if artifact else '?'}")
        if not progressed:
            break
    for scenario in scenarios:
        verdict.cases.append(Case("scenarios", f"{scenario.name} ({seeds[scenario.name]} seeds)",
                                  spent[scenario.name], failed.get(scenario.name)))
    return verdict


def _strategy(scenario: Scenario) -> str:
    return "random" if scenario.campaign.strategy == "hypothesis" else scenario.campaign.strategy


def write_junit(verdict: Verdict, path: Path) -> None:
    """JUnit XML: one suite per kind of check, one case per scenario, mutant or determinism check."""
    root = ET.Element("testsuites", name="notifier-sim check")
    for suite_name in ("determinism", "zoo", "scenarios"):
        cases = [case for case in verdict.cases if case.suite == suite_name]
        if not cases:
            continue
        suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(cases)),
                              failures=str(sum(1 for c in cases if c.failure)), errors="0",
                              time=f"{sum(c.seconds for c in cases):.3f}")
        for case in cases:
            element = ET.SubElement(suite, "testcase", classname=f"notifier_sim.{suite_name}", name=case.name,
                                    time=f"{case.seconds:.3f}")
            if case.failure is not None:
                failure = ET.SubElement(element, "failure", message=case.failure[:200])
                failure.text = case.failure
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
