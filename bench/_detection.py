"""Section 5: for each mutant of the bug zoo and each strategy, the seeds and seconds until an invariant first
catches it, as the median over independent campaigns (each starts from its own seed). `sites` is systematic:
one campaign (every campaign would be the same), over the first `SITES_RUNS` runs of its systematic part."""

from __future__ import annotations

from typing import Any

from bench._common import median
from harness import STRATEGIES, hunt
from harness.mutants import MUTANTS

#: Campaign k hunts from seed k * SPACING, so that no two campaigns share a seed.
SPACING = 100_000
#: The runs of the sites strategy's systematic part a detection may take.
SITES_RUNS = 1_000


def section(quick: bool = False, *, campaigns: int = 5, most_seeds: int = 300) -> dict[str, Any]:
    names = list(MUTANTS)[:2] if quick else list(MUTANTS)
    campaigns = 1 if quick else campaigns
    rows = []
    for name in names:
        row: dict[str, Any] = {"mutant": name, "strategies": {}}
        for strategy in STRATEGIES:
            if strategy == "sites":
                found = hunt(name, 0, strategy="sites", systematic_limit=SITES_RUNS)
                hunts = [found] * campaigns  # deterministic: every campaign is this one
            else:
                hunts = [hunt(name, most_seeds, strategy=strategy, first_seed=k * SPACING) for k in range(campaigns)]
            caught = [h for h in hunts if h.caught]
            row["strategies"][strategy] = {
                "caught": f"{len(caught)}/{campaigns}",
                # A campaign that never catches it counts as `most_seeds` seeds and its full time: the median
                # is then a lower bound, flagged by `caught`.
                "median_seeds": median([float(h.seeds) for h in hunts]),
                "median_seconds": round(median([h.seconds for h in hunts]), 3),
                "invariants": sorted({h.invariant for h in caught}),
            }
        best = min(STRATEGIES, key=lambda s: (row["strategies"][s]["caught"] != f"{campaigns}/{campaigns}",
                                              row["strategies"][s]["median_seconds"]))
        row["best"] = best
        row["best_median_seconds"] = row["strategies"][best]["median_seconds"]
        rows.append(row)
    return {"campaigns": campaigns, "most_seeds": most_seeds, "sites_runs": SITES_RUNS, "mutants": rows,
            "all_under_2s": all(r["best_median_seconds"] < 2 for r in rows),
            "goal": "every mutant detected in under 2 s median by the best strategy"}
