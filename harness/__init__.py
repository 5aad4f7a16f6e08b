"""The deterministic simulator that runs the notifier controller, unchanged, against fakes.

One simpy environment per world; every choice from one seeded, recorded source; every step traced.

The user API: `load_scenario` (or `Scenario` from fields), `run` (one seed: a `RunResult` with its
`Violation`s), `replay` and `shrink` of a failure `Artifact`, `check` (the CI gate), `dump_world` (a world's end
as kubectl prints it) and `search_dump` (what `reproduce` does with such a dump), and the pytest plugin's
`Sim` fixture and `SimRun`. The world's building blocks (`World`, `SimRuntime`, the fault injector) are
exported for tests that build worlds by hand.
"""

import typing as _typing

from fakes.lazy import lazy_exports as _lazy_exports
from harness._bridge import EPOCH, Budget, SimEvent, SimLock, SimQueue, SimRuntime, SimTask
from harness._build import notification_body
from harness._campaign import Outcome, runs
from harness._check import Verdict, check
from harness._choices import Choices, derive_seed
from harness._dump import render_world as dump_world
from harness._errors import DeterminismError, HarnessError, SimulationError
from harness._faults import FAULTS, FaultIntensity, Injector
from harness._invariants import INVARIANTS, Violation
from harness._progress import Progress, progress
from harness._replay import Artifact, Replayed, replay, run_recorded
from harness._reproduce import search_dump
from harness._run import STRATEGIES, RunResult, run
from harness._run import plan_for as site_plan
from harness._scenario import Scenario, bundled, load_scenario
from harness._shrink import Shrunk, shrink
from harness._simfixture import Sim, SimRun
from harness._sites import Firing, Site, SitePlan
from harness._sites import decode as firings_from_json
from harness._sites import decode_durations as durations_from_json
from harness._trace import Step, Trace, first_divergence
from harness._world import Replica, World
from harness._zoo import Hunt, hunt, hunt_shown

if _typing.TYPE_CHECKING:
    from harness._realtime import deliver_on_asyncio

#: Exports imported when first asked for: `deliver_on_asyncio` pulls in the official Kubernetes client, which
#: no simulated run needs and every `-j` worker and xdist worker would otherwise pay for at its start.
_LAZY: _typing.Final = {"deliver_on_asyncio": "harness._realtime"}

__getattr__ = _lazy_exports(__name__, _LAZY)

__all__ = [
    "EPOCH",
    "FAULTS",
    "INVARIANTS",
    "STRATEGIES",
    "Artifact",
    "Budget",
    "Choices",
    "DeterminismError",
    "FaultIntensity",
    "Firing",
    "HarnessError",
    "Hunt",
    "Injector",
    "Outcome",
    "Progress",
    "Replayed",
    "Replica",
    "RunResult",
    "Scenario",
    "Shrunk",
    "Sim",
    "SimEvent",
    "SimLock",
    "SimQueue",
    "SimRun",
    "SimRuntime",
    "SimTask",
    "SimulationError",
    "Site",
    "SitePlan",
    "Step",
    "Trace",
    "Verdict",
    "Violation",
    "World",
    "bundled",
    "check",
    "deliver_on_asyncio",
    "derive_seed",
    "dump_world",
    "durations_from_json",
    "firings_from_json",
    "first_divergence",
    "hunt",
    "hunt_shown",
    "load_scenario",
    "notification_body",
    "progress",
    "replay",
    "run",
    "run_recorded",
    "runs",
    "search_dump",
    "shrink",
    "site_plan",
]
