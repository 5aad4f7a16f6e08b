"""Section 10: reproducing from what kubectl shows. For each mutant of the zoo, its first failing seed's world is
written as kubectl prints it, and `reproduce`'s search runs on that dump alone with the mutant (every core, a
60 s budget): does the dump show a symptom, and is it reproduced (the symptom with the same attempts, counters
and phase), in how long. Then the correct controller's worlds, one per bundled scenario: a dump of a healthy
world must show no symptom (a false reproduction is a finding)."""

from __future__ import annotations

import os
import time
from typing import Any

import yaml

from bench._common import FINDINGS
from harness import load_scenario, run
from harness._dump import as_yaml, render_world
from harness._observed import features, observe
from harness._reproduce import build, choose, search
from harness._scenario import bundled, bundled_dir
from harness._strategies import campaign_strategy
from harness._zoo import ZOO_MAX_STEPS, hunt
from harness.mutants import MUTANTS

BUDGET = 60.0
QUICK = ("double-recording",)


def _dump(world: Any) -> list[dict[str, Any]]:
    """The world's end as kubectl prints it, read back as a user's file would be."""
    items: list[dict[str, Any]] = yaml.safe_load(as_yaml(render_world(world)))["items"]
    return items


def reproduce(mutant: str, *, budget: float, jobs: int) -> dict[str, Any]:
    scenario = load_scenario(bundled_dir() / f"{MUTANTS[mutant].scenario}.yaml")
    found = hunt(mutant, 100)
    row: dict[str, Any] = {"mutant": mutant, "caught": found.caught, "symptom": None, "reproduced": False}
    if not found.caught or found.seed is None:
        return row
    failing = run(scenario, found.seed, strategy=campaign_strategy(scenario), mutant=mutant, keep=True,
                  max_steps=min(ZOO_MAX_STEPS, scenario.world.max_steps))
    observed = observe(_dump(failing.world), source=f"{mutant} seed {found.seed}")
    del failing
    chosen, _ = choose(observed, None, None, None)
    if chosen is None:
        return row  # its failure leaves nothing kubectl shows (a lock race, an audit trail, a spacing)
    built = build(observed, chosen)
    started = time.perf_counter()
    searched = search(built, features(observed), budget=budget, jobs=jobs, mutant=mutant)
    best = searched.best
    return {**row, "symptom": chosen.kind, "reproduced": bool(best and best.reproduces),
            "shows": bool(best and best.shows), "runs": searched.runs,
            "seconds": round(time.perf_counter() - started, 2),
            "match": round(best.match.score, 3) if best else 0.0}


def healthy(quick: bool) -> dict[str, Any]:
    """The correct controller's worlds: none may show a symptom (a redelivery is none)."""
    shown = 0
    paths = bundled()[:2] if quick else bundled()
    for path in paths:
        scenario = load_scenario(path)
        result = run(scenario, 0, strategy=campaign_strategy(scenario), keep=True)
        chosen, _ = choose(observe(_dump(result.world)), None, None, None)
        if chosen is not None:
            shown += 1
            FINDINGS.append({"scenario": scenario.name, "seed": 0, "strategy": result.strategy,
                             "invariant": "reproduce", "message": f"a healthy world shows {chosen.line()}",
                             "artifact": None})
    return {"worlds": len(paths), "showing_a_symptom": shown}


def section(quick: bool = False) -> dict[str, Any]:
    jobs = 1 if quick else min(2, os.cpu_count() or 1)
    budget = 5.0 if quick else BUDGET
    rows = [reproduce(name, budget=budget, jobs=jobs) for name in (QUICK if quick else MUTANTS)]
    within = [r for r in rows if r["reproduced"] and r["seconds"] <= budget]
    return {"budget_seconds": budget, "jobs": jobs, "mutants": rows, "reproduced_within_budget": len(within),
            "shown_in_dump": sum(1 for r in rows if r["symptom"]), "healthy": healthy(quick),
            "goal": "at least 5 mutants reproduced from their dump within 60 s on 2 cores; no healthy world "
                    "showing a symptom"}
