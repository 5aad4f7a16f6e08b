"""A deliberately failing simulated test, to show what a failure hands over (deselected by default).

Run it with: pytest tests/sim/catalogue/test_demo_failure.py -m sim_demo_failure
"""

from __future__ import annotations

import pytest

from harness._simfixture import FAST, Sim


@pytest.mark.sim_demo_failure
def test_status_triggered_reconciles_bypass_the_backoff(sim: Sim) -> None:
    """Demo of NT-BUG-007: with the backoff gate gone, Slack is retried at once after each 503."""
    scenario = sim.scenario(
        channels={"slack-only": ["slack"]}, backends={"slack:slack-only": {"default": 200, "script": [503, 503]}},
        notifications=[{"name": "alert", "channels": "slack-only", "retryPolicy": FAST}],
        phases={"fault": 0, "quiet": 120, "bound": 120})
    sim.check(sim.run(scenario, mutant="no-backoff-gate"))
