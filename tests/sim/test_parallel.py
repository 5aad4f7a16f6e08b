"""One campaign, however it is spread: over processes (`-j`), over a Dask cluster (`--engine dask`), in shards
(`--shard K/N`, joined by `merge`), it runs the same seeds to the same results, in the same order."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

CAMPAIGN = ["run", "all-faults-three-replicas", "--seeds", "20", "--mutant", "no-lease", "--json", "--no-self-check"]


def _campaign(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, *extra: str) -> dict[str, Any]:
    reports = tmp_path / name
    code = main([*CAMPAIGN, "--report-dir", str(reports), "--junit", str(reports / "junit.xml"), *extra])
    out = json.loads(capsys.readouterr().out)
    artifacts = {path.name: json.loads(path.read_text()) for path in sorted((reports / "failures").glob("*.json"))}
    summary = json.loads((reports / "summary.json").read_text())
    return {"code": code, "runs": [(r["seed"], r["trace_hash"], r["violations"]) for r in out["runs"]],
            "artifacts": artifacts, "summary": {k: v for k, v in summary.items() if k != "wall_seconds"}}


@pytest.mark.timeout(300)
def test_a_campaign_on_two_processes_or_on_dask_has_the_results_and_artifacts_of_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = _campaign(tmp_path, capsys, "one")
    assert one["code"] == 1 and one["artifacts"] and [seed for seed, _, _ in one["runs"]] == list(range(20))
    assert _campaign(tmp_path, capsys, "two", "-j", "2") == one
    with socket.socket() as taken:  # Dask's default dashboard port, held by another cluster: ours starts anyway
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:
            pass  # already taken by someone else: the same case
        assert _campaign(tmp_path, capsys, "dask", "-j", "2", "--engine", "dask") == one  # a LocalCluster


def test_three_shards_merge_to_the_summary_of_the_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = _campaign(tmp_path, capsys, "whole")
    shards = [_campaign(tmp_path, capsys, f"shard{k}", "--shard", f"{k}/3") for k in (1, 2, 3)]
    assert sorted(seed for shard in shards for seed, _, _ in shard["runs"]) == list(range(20))
    assert [seed for seed, _, _ in shards[1]["runs"]] == [1, 4, 7, 10, 13, 16, 19]
    code = main(["merge", *(str(tmp_path / f"shard{k}" / "summary.json") for k in (1, 2, 3)),
                 "--out", str(tmp_path / "merged.json")])
    assert code == whole["code"] == 1 and "merged 3 summaries: 20 runs" in capsys.readouterr().out
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert {k: v for k, v in merged.items() if k != "wall_seconds"} == whole["summary"]
    # the shards' JUnit files join into the whole campaign's: one case, failed by every failing seed
    code = main(["merge", *(str(tmp_path / f"shard{k}" / "junit.xml") for k in (1, 2, 3)),
                 "--junit-out", str(tmp_path / "merged.xml")])
    assert code == 1 and "merged 3 JUnit files: 1 cases, 1 failed" in capsys.readouterr().out
    assert _junit(tmp_path / "merged.xml") == _junit(tmp_path / "whole" / "junit.xml")


def _junit(path: Path, reports: Path | None = None) -> list[tuple[str | None, str | None, list[str]]]:
    """Each case's suite, name, and its failures' lines, sorted (shards report their seeds apart), with the
    report directory they name left out."""
    root = ET.parse(path).getroot()
    return [(suite.get("name"), case.get("name"),
             sorted(line.replace(str(reports), "REPORTS") if reports else line
                    for f in case.iter("failure") for line in (f.text or "").splitlines()))
            for suite in root.iter("testsuite") for case in suite.iter("testcase")]


def test_merge_refuses_what_is_not_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "summary.json"
    bad.write_text("{\n  nope")
    assert main(["merge", str(bad)]) == 2
    assert f"{bad}:2" in capsys.readouterr().err
    xml = tmp_path / "junit.xml"
    xml.write_text("<testsuites>\n<testsuite name='a'>\n</testsuites>")
    assert main(["merge", str(xml)]) == 2
    assert f"{xml}:3" in capsys.readouterr().err


@pytest.mark.timeout(300)
def test_the_gate_on_two_processes_decides_the_cases_of_one(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`check -j 2`: each process the gate of every other scenario; the cases come back in one process's
    order, each decided alike (a forced mutant fails the scenarios it breaks, on one process or two)."""
    verdicts = []
    for jobs in ("1", "2"):
        reports = tmp_path / jobs
        code = main(["check", "--seeds", "1", "--budget", "200", "--mutant", "no-lease", "-j", jobs,
                     "--report-dir", str(reports), "--junit", str(reports / "junit.xml")])
        summary = json.loads((reports / "check-summary.json").read_text())
        verdicts.append((code, summary["runs"], [(c["suite"], c["name"], c["failure"] is None)
                                                 for c in summary["cases"]], _junit(reports / "junit.xml", reports)))
    capsys.readouterr()
    assert verdicts[0] == verdicts[1] and verdicts[0][0] == 1


@pytest.mark.timeout(300)
def test_the_zoo_on_two_processes_catches_each_mutant_as_on_one(capsys: pytest.CaptureFixture[str]) -> None:
    """The same rows, but for what the shared-state mutant breaks: its bug is state that outlives a world in
    its process, so which of its invariants catches it depends on what that process ran before (and so also
    on the order of this suite)."""
    from harness.mutants import MUTANTS

    def zoo(*extra: str) -> list[dict[str, Any]]:
        assert main(["zoo", "--json", "--seeds", "60", *extra]) == 0
        rows = json.loads(capsys.readouterr().out)["mutants"]
        leaky = MUTANTS["shared-state-across-worlds"]
        assert all(row["invariant"] in leaky.catchers for row in rows if row["name"] == leaky.name)
        return [{k: v for k, v in row.items() if k != "seconds" and (k != "invariant" or row["name"] != leaky.name)}
                for row in rows]

    one = zoo()
    assert zoo("-j", "2") == one and all(row["caught"] for row in one)
