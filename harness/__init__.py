"""The deterministic simulator that runs the notifier controller, unchanged, against fakes.

One simpy environment per world; every choice from one seeded, recorded source; every step traced.
"""

from harness._bridge import EPOCH, SimEvent, SimLock, SimQueue, SimRuntime, SimTask
from harness._choices import Choices, derive_seed
from harness._faults import FAULTS, FaultIntensity, Injector
from harness._trace import Step, Trace, first_divergence
from harness._world import API_FAULTS, Replica, SimulationError, World

__all__ = [
    "API_FAULTS",
    "EPOCH",
    "FAULTS",
    "Choices",
    "FaultIntensity",
    "Injector",
    "Replica",
    "SimEvent",
    "SimLock",
    "SimQueue",
    "SimRuntime",
    "SimTask",
    "SimulationError",
    "Step",
    "Trace",
    "World",
    "derive_seed",
    "first_divergence",
]
