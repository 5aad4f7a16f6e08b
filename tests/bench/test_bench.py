"""The benchmark command runs end to end and writes every figure the table reads (at sizes too small to
measure anything: the figures themselves are the benchmark's business, not a test's)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import main
from bench._table import table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=110, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "notifier-sim bench:" in done.stdout and f"wrote {out}" in done.stdout
    return json.loads(out.read_text())


def test_every_section_is_written(report: dict) -> None:
    assert list(report["sections"]) == ["throughput", "overhead", "realtime", "detection", "scaling", "shrink",
                                        "fidelity", "parallel", "cost", "reproduce"]
    assert report["machine"]["cores"] >= 1 and report["quick"] is True


def test_one_campaign_spread_over_processes_and_dask_keeps_its_hashes(report: dict) -> None:
    section = report["sections"]["parallel"]
    assert section["same_hashes"] is True and section["seeds"] == 6 and section["workers"] == 2
    assert section["processes_speedup"] == pytest.approx(
        section["one_process_seconds"] / section["processes_seconds"], rel=0.05)


def test_fidelity_counts_the_events_a_bookmark_overtook(report: dict) -> None:
    order = report["sections"]["fidelity"]["bookmark_order"]
    assert order["events"] == 60 and order["events_after_a_higher_bookmark"] == 0


def test_throughput_counts_seeds_and_api_calls(report: dict) -> None:
    rows = report["sections"]["throughput"]["scenarios"]
    assert [r["replicas"] for r in rows] == [1, 3]
    for row in rows:
        assert row["seeds"] >= 1 and row["api_calls_per_second"] > 0 and row["violating_seeds"] == 0


def test_overhead_compares_a_scheduling_point_with_a_simpy_event(report: dict) -> None:
    section = report["sections"]["overhead"]
    assert section["scheduling_point_over_simpy_event"] == pytest.approx(
        section["scheduling_point_us"] / section["plain_simpy_event_us"], rel=0.02)
    top = section["profile"]["top_functions"]
    assert len(top) == 10 and top == sorted(top, key=lambda f: -f["share"])


def test_real_and_simulated_runs_end_alike(report: dict) -> None:
    section = report["sections"]["realtime"]
    assert section["virtual_vs_wall"]["phase"] == ["PartiallySent"]
    real = section["real_asyncio_vs_simulator"]
    assert real["real_phase"] == real["simulated_phase"] == ["PartiallySent"]
    assert real["real_wall_seconds"] >= 1  # one real 1 s backoff was slept


def test_detection_catches_the_mutants_it_hunts(report: dict) -> None:
    for row in report["sections"]["detection"]["mutants"]:
        assert row["strategies"][row["best"]]["caught"] == "1/1"


def test_scaling_runs_the_catalogue_twice_and_campaigns_in_fresh_processes(report: dict) -> None:
    section = report["sections"]["scaling"]
    one, two = section["catalogue"]["runs"]
    assert one["exit"] == two["exit"] == 0 and one["passed"] == two["passed"] > 0
    assert [r["seeds"] for r in section["campaigns"]["runs"]] == [10, 30]
    assert all(r["peak_rss_mib"] > 0 for r in section["campaigns"]["runs"])


def test_shrink_shrinks_what_it_finds(report: dict) -> None:
    section = report["sections"]["shrink"]
    found = [row for row in section["mutants"] if row["found"]]
    assert found and section["shrunk"] == len(found)
    for row in found:
        assert row["after"]["faults fired"] <= row["before"]["faults fired"]
        assert sum(row["after"][k] for k in ("notifications", "replicas", "faults fired")) < sum(
            row["before"][k] for k in ("notifications", "replicas", "faults fired"))


def test_the_table_renders_from_the_json_alone(report: dict) -> None:
    text = table(report)
    assert "1. throughput" in text and "6. scaling" in text and "7. shrink" in text and "goal" in text
    goals = text.split("goals of the performance issue, measured in this run:")[1]
    for figure in ("seeds/s/core", "outside the controller", "-n 1 to -n 2", "over 2 processes", "Dask cluster"):
        assert figure in goals


def test_the_controllers_cost_per_notification_is_read_from_the_servers_writes(report: dict) -> None:
    single, three = report["sections"]["cost"]["scenarios"]
    # One notification, console and Slack, Slack 503 once: every write of it is in the server's record.
    assert single["notifications"] == single["delivered"] == 2 and three["notifications"] == 50
    assert single["status writes per notification"] >= 2  # the write-ahead intent and the outcome, at least
    assert single["Lease writes per notification"] >= 2  # taken and released
    assert 0 < single["Events per notification"] <= single["Event writes per notification"]
    assert single["API calls per notification"] > single["status writes per notification"]


def test_the_share_outside_the_controller_splits_the_whole_profile(report: dict) -> None:
    profile = report["sections"]["overhead"]["profile"]
    assert 0 < profile["controller_share"] < 1
    assert profile["controller_share"] + profile["outside_controller_share"] == pytest.approx(1, abs=0.002)


def test_an_unknown_section_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--only", "speed"]) == 2
    assert "unknown section 'speed'" in capsys.readouterr().err


def test_a_violation_in_a_campaign_is_printed_with_its_artifact_and_fails_the_command(tmp_path: Path) -> None:
    """A benchmark never counts a violation and moves on: it names the run, its artifact, and exits 1."""
    impossible = tmp_path / "impossible.yaml"
    impossible.write_text("name: bench-impossible\nchannels: {c: [console]}\n"
                          "notifications: [{name: n, channels: c}]\nexpect: [{name: n, phase: Failed}]\n")
    done = subprocess.run([sys.executable, "-m", "bench.campaign", str(impossible), "--seeds", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr[-2000:]
    findings = json.loads(done.stdout)["findings"]
    try:
        assert [f["seed"] for f in findings] == [0, 1] and {f["invariant"] for f in findings} == {"expected-outcome"}
        for finding in findings:
            assert Path(finding["artifact"]).is_file()
            assert f"replay: notifier-sim replay {finding['artifact']}" in done.stderr
    finally:
        for finding in findings:
            Path(finding["artifact"]).unlink(missing_ok=True)


def test_a_mutants_failure_is_reproduced_from_its_dump_in_the_bench(report: dict) -> None:
    section = report["sections"]["reproduce"]
    (row,) = section["mutants"]
    assert row["mutant"] == "double-recording" and row["symptom"] == "duplicate-delivery" and row["reproduced"]
    assert section["healthy"] == {"worlds": 2, "showing_a_symptom": 0}


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="compares with a commit: needs the git checkout")
def test_a_step_is_measured_against_the_commit_before_it_with_the_same_hashes() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.ab", "HEAD", "--scenario", "single", "--seeds", "2",
                           "--rounds", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    # the working tree of a test run is HEAD's, or a change whose hashes the trace-hash test holds anyway
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "round 1: HEAD" in done.stdout and "single, 2 seeds x 1 rounds, swarm: CPU per seed" in done.stdout
    differ = re.search(r"= [0-9.]+x; trace hashes: (\d+) of 2 differ$", done.stdout.rstrip())
    assert differ is not None and (int(differ[1]) == 0) == (done.returncode == 0)


def test_a_step_against_an_unknown_scenario_or_commit_is_refused() -> None:
    for args in (["HEAD", "--scenario", "nothing-such"], ["no-such-commit"]):
        done = subprocess.run([sys.executable, "-m", "bench.ab", *args, "--seeds", "1", "--rounds", "1"],
                              cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2 and "python -m bench.ab:" in done.stderr and "Traceback" not in done.stderr
