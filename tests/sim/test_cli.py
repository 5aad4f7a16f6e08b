"""`notifier-sim run` and `list`: JSON shapes, determinism across processes, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness._faults import FAULTS
from harness._invariants import INVARIANTS
from harness._scenario import bundled, load_scenario
from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "two-replicas-lease.yaml")


def cli(*argv: str, hash_seed: str = "0") -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd="/tmp", capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": hash_seed}, check=False)
    return done.returncode, done.stdout


def test_list_json_names_every_fault_and_invariant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["faults"] == list(FAULTS) and listed["invariants"] == list(INVARIANTS)
    assert len(listed["mutants"]) >= 10 and "two-replicas-lease" in listed["scenarios"]


def test_run_json_has_the_documented_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SCENARIO, "--seed", "7", "--json", "--report-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    (one,) = out["runs"]
    assert set(one) == {"scenario", "seed", "trace_hash", "violations", "faults_fired"}
    assert one["seed"] == 7 and one["violations"] == [] and one["faults_fired"]


def test_same_seed_gives_the_same_trace_hash_in_other_processes_and_hash_seeds() -> None:
    hashes = {cli("run", SCENARIO, "--seed", "7", "--json", hash_seed=h)[1] for h in ("1", "2")}
    assert len(hashes) == 1
    (text,) = hashes
    first = json.loads(text)["runs"][0]["trace_hash"]
    other = json.loads(cli("run", SCENARIO, "--seed", "8", "--json")[1])["runs"][0]["trace_hash"]
    assert first != other


def test_a_violation_exits_1_with_a_replay_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock_off = str(ROOT / "scenarios" / "two-replicas-no-lock.yaml")
    assert main(["run", lock_off, "--seeds", "3", "--mutant", "no-lease", "--report-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    artifact = tmp_path / "failures" / "two-replicas-no-lock-0.json"
    assert "no-duplicate-delivery" in out and f"replay: notifier-sim replay {artifact}" in out
    assert artifact.is_file() and artifact.with_suffix(".html").is_file()
    assert main(["replay", str(artifact)]) == 1
    assert "same trace hash" in capsys.readouterr().out


def test_lock_off_finds_a_duplicate_delivery_within_200_seeds(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    lock_off = str(ROOT / "scenarios" / "two-replicas-no-lock.yaml")
    for seed in range(200):
        argv = ["run", lock_off, "--seed", str(seed), "--mutant", "no-lease", "--json", "--report-dir", str(tmp_path)]
        if main(argv) == 1:
            found = json.loads(capsys.readouterr().out)["runs"][0]["violations"]
            assert "no-duplicate-delivery" in {v["invariant"] for v in found}
            return
        capsys.readouterr()
    pytest.fail("no duplicate delivery in 200 seeds")


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "missing.yaml"], "missing.yaml: cannot read the file"),
    (["run", SCENARIO, "--mutant", "nope"], "unknown mutant 'nope'"),
])
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_run_replays_from_its_tape_alone() -> None:
    from harness._run import run
    from harness._scenario import load_scenario

    scenario = load_scenario(Path(SCENARIO))
    first = run(scenario, 11, strategy="swarm")
    again = run(scenario, 999, strategy="swarm", tape=first.tape)
    assert again.trace_hash == first.trace_hash and again.tape == first.tape


def test_the_self_check_names_the_first_divergent_step_of_a_nondeterministic_controller() -> None:
    import random

    from harness import _run
    from harness._explore import DeterminismError, self_check
    from harness._scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "slack-retries.yaml")
    original = _run.Rig.reconciler

    def entropy(self: object, replica: object) -> object:
        reconciler = original(self, replica)  # type: ignore[arg-type]
        reconciler.rng = random.Random()  # seeded from the OS: what the ports forbid
        return reconciler

    _run.Rig.reconciler = entropy  # type: ignore[method-assign]
    try:
        pattern = r"^slack-retries seed 0 is not deterministic: the traces part at step \d+"
        with pytest.raises(DeterminismError, match=pattern):
            self_check(scenario, 0)
    finally:
        _run.Rig.reconciler = original  # type: ignore[method-assign]


def test_hypothesis_strategy_finds_and_shrinks_a_failing_tape(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    slack = str(ROOT / "scenarios" / "slack-retries.yaml")
    argv = ["run", slack, "--strategy", "hypothesis", "--seeds", "5", "--mutant", "no-backoff-gate"]
    assert main([*argv, "--report-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "hypothesis found retry-policy-respected" in out and "shrunk tape (0 choices): []" in out


def test_pct_prints_its_probability_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", SCENARIO, "--strategy", "pct", "--seeds", "2", "--report-dir", str(tmp_path)]) == 0
    assert "pct depth 3: a bug of depth <= 3 shows with probability >= 1/(2*500^2)" in capsys.readouterr().out


def test_check_passes_on_the_correct_controller_and_writes_valid_junit(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    junit = tmp_path / "junit.xml"
    # A budget no loaded machine spends, and a bounded amount of work: the gate ends after 2 seeds a scenario.
    assert main(["check", "--budget", "300s", "--seeds", "2", "--junit", str(junit),
                 "--report-dir", str(tmp_path)]) == 0
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}
    assert sorted(suites) == ["determinism", "scenarios", "zoo"]
    assert all(s.get("failures") == "0" for s in suites.values())
    assert int(suites["zoo"].get("tests") or 0) >= 12
    assert capsys.readouterr().out.rstrip().splitlines()[-1].startswith("check: ")
    summary = json.loads((tmp_path / "check-summary.json").read_text())
    scenarios = [load_scenario(path) for path in bundled()]
    assert summary["ok"] is True and len(summary["cases"]) >= 3 * len(scenarios)
    # Every stream ran its 2 runs: per scenario its own strategy, pct where it has concurrency, swarm where it has
    # faults, and sites where it is small and has faults; plus the determinism check's first run.
    streams = {"random": 0, "pct": 0, "swarm": 0, "sites": 0}
    for scenario in scenarios:
        small = scenario.world.replicas * sum(n.count for n in scenario.notifications) <= 4
        own = "random" if scenario.campaign.strategy == "hypothesis" else scenario.campaign.strategy
        chosen = {own} - {"sites"}
        chosen |= {"pct"} if scenario.world.replicas > 1 or scenario.world.workers > 1 else set()
        chosen |= {"swarm"} if scenario.faults else set()
        chosen |= {"sites"} if small and scenario.faults else set()
        for name in chosen:
            streams[name] += 2
    assert {name: entry["runs"] for name, entry in summary["strategies"].items()} == \
        {name: runs for name, runs in streams.items() if runs}
    assert summary["runs"] == sum(streams.values()) + len(scenarios)
    assert "sites" in summary["strategies"] and summary["sites_coverage"]


def test_check_fails_with_a_mutant_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "junit.xml"
    argv = ["check", "--budget", "300s", "--seeds", "3", "--junit", str(junit), "--report-dir", str(tmp_path),
            "--mutant", "no-lease"]
    assert main(argv) == 1
    assert "<failure" in junit.read_text() and "no-duplicate-delivery" in capsys.readouterr().out


@pytest.mark.parametrize(("budget", "seconds"), [("60s", 60.0), ("2m", 120.0), ("90", 90.0), ("1.5m", 90.0)])
def test_budgets_read_like_durations(budget: str, seconds: float) -> None:
    from harness._check import parse_budget

    assert parse_budget(budget) == seconds


def test_a_bad_budget_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--budget", "soon"]) == 2
    assert "--budget takes a duration such as 30s, 2m or 90, not 'soon'" in capsys.readouterr().err


def test_a_reader_that_goes_away_ends_the_command_without_a_traceback(tmp_path: Path) -> None:
    """`notifier-sim run ... | head -1`: the pipe closes while the command still has rows to print; it stops
    quietly instead of printing a traceback."""
    command = (f"{sys.executable} -m harness.cli run slack-retries permanent-4xx --seeds 3 --report-dir {tmp_path}"
               " | head -1")
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.startswith("notifier-sim: 2 scenario(s)")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_failing_seeds_beyond_the_ones_shown_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock_off = str(ROOT / "scenarios" / "two-replicas-no-lock.yaml")
    assert main(["run", lock_off, "--seeds", "12", "--mutant", "no-lease", "--report-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    shown = [int(line.split()[1].rstrip(":")) for line in out.splitlines() if line.startswith("  seed ")]
    failing = sorted(int(path.stem.rsplit("-", 1)[1]) for path in (tmp_path / "failures").glob("*.json"))
    assert len(shown) == 2 and len(failing) > 2 and shown == failing[:2]
    rest = failing[2:]
    assert f"  and {len(rest)} more failing seed(s): {', '.join(map(str, rest))} (each replays from " in out
    # the channel is named once, before the message
    assert "slack:slack-only received attempt" in out and "slack:slack-only slack:slack-only" not in out
