"""Section 10: reproducing from what kubectl shows. For each mutant of the zoo, its first failing seed (of its
first 100) whose end shows a symptom kubectl prints, as a user would come with, is written as kubectl prints it,
and `reproduce`'s search runs on that dump alone with the mutant (every core, a 60 s budget): does the dump show
a symptom, and is it reproduced (the symptom with the same attempts, counters and phase), in how long. Then the
correct controller's worlds, `HEALTHY_SEEDS` per bundled scenario: a dump of a healthy world must show no symptom
(a false reproduction is a finding)."""

from __future__ import annotations

import os
import time
from typing import Any

import yaml

from bench._common import FINDINGS
from harness import EPOCH, bundled, dump_world, hunt_shown, load_scenario, run, search_dump
from harness.mutants import MUTANTS

BUDGET = 60.0
SEEDS = 100
HEALTHY_SEEDS = 20
QUICK = ("double-recording",)


def _dump(world: Any) -> list[dict[str, Any]]:
    """The world's end as kubectl prints it, read back as a user's file would be."""
    items: list[dict[str, Any]] = yaml.safe_load(yaml.safe_dump(dump_world(world)))["items"]
    return items


def reproduce(mutant: str, *, budget: float, jobs: int) -> dict[str, Any]:
    found, shown = hunt_shown(mutant, SEEDS)
    row: dict[str, Any] = {"mutant": mutant, "caught": found.caught, "symptom": None, "reproduced": False}
    if shown is None or found.world is None:
        return row  # its failures leave nothing kubectl shows (a lock race, an audit trail, a spacing)
    objects, at = _dump(found.world), EPOCH + found.world.env.now  # when "kubectl" ran: the world's end
    del found
    started = time.perf_counter()
    symptom, searched = search_dump(objects, mutant=mutant, budget=budget, jobs=jobs, at=at)
    assert symptom is not None and searched is not None  # the same reader read the same end
    best = searched.best
    return {**row, "symptom": symptom.kind, "reproduced": bool(best and best.reproduces),
            "shows": bool(best and best.shows), "runs": searched.runs,
            "seconds": round(time.perf_counter() - started, 2),
            "match": round(best.match.score, 3) if best else 0.0}


def healthy(quick: bool) -> dict[str, Any]:
    """The correct controller's worlds: none may show a symptom (a redelivery is none)."""
    shown = worlds = 0
    paths = bundled()[:2] if quick else bundled()
    for path in paths:
        scenario = load_scenario(path)
        strategy = "random" if scenario.campaign.strategy == "hypothesis" else scenario.campaign.strategy
        for seed in range(1 if quick else HEALTHY_SEEDS):
            result = run(scenario, seed, strategy=strategy, keep=True)
            world = result.world
            assert world is not None  # kept
            worlds += 1
            symptom, _ = search_dump(_dump(world), budget=0.001, at=EPOCH + world.env.now)
            if symptom is not None:
                shown += 1
                FINDINGS.append({"scenario": scenario.name, "seed": seed, "strategy": result.strategy,
                                 "invariant": "reproduce", "message": f"a healthy world shows {symptom.line()}",
                                 "artifact": None})
    return {"worlds": worlds, "showing_a_symptom": shown}


def section(quick: bool = False) -> dict[str, Any]:
    jobs = 1 if quick else min(2, os.cpu_count() or 1)
    budget = 5.0 if quick else BUDGET
    rows = [reproduce(name, budget=budget, jobs=jobs) for name in (QUICK if quick else MUTANTS)]
    within = [r for r in rows if r["reproduced"] and r["seconds"] <= budget]
    return {"budget_seconds": budget, "jobs": jobs, "mutants": rows, "reproduced_within_budget": len(within),
            "shown_in_dump": sum(1 for r in rows if r["symptom"]), "healthy": healthy(quick),
            "goal": "at least 5 mutants reproduced from their dump within 60 s on 2 cores; no healthy world "
                    "showing a symptom"}
