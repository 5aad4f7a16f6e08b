"""The HTML timeline of a failure, rendered by a real browser: lanes, the violation, and no secret."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness._replay import run_recorded
from harness._report import write_summary, write_timeline
from harness._run import build
from harness._scenario import bundled_dir, load_scenario

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    """Debian's chromium, installed if missing and possible; skip with the reason otherwise."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and this user cannot install Debian packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            pytest.skip(f"chromium could not be installed: {' '.join(command)} said {done.stderr.strip()[-200:]}")
    found = shutil.which("chromium")
    if not found:
        pytest.skip("chromium was installed but is not on PATH")
    return found


@pytest.mark.timeout(900)
def test_failure_timeline_renders_lanes_violation_and_no_webhook_url(tmp_path: Path) -> None:
    scenario = load_scenario(bundled_dir() / "paused-past-lease.yaml")
    _, artifact = run_recorded(scenario, 0, tmp_path, mutant="lease-without-fencing")
    assert artifact is not None
    page = write_timeline(artifact.path)
    world, rig, _ = build(scenario, 0, mutant="lease-without-fencing")
    secrets = [endpoint.url for endpoint in world.backends.endpoints.values()] + list(rig.credentials.values())
    world.close()
    browser = chromium()
    dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120, check=True).stdout
    for lane in ("apiserver", "replica-0", "replica-1", "slack:slack-only"):
        assert f'data-lane="{lane}"' in dom
    assert 'class="violation" data-invariant="lock-safety"' in dom
    assert "sent attempt 1 after its tenure replica-0@0 expired by its own clock" in dom
    # what lasts is drawn as bars: reconciles, the pauses, the tenures each replica sent under
    assert 'class="span reconcile"' in dom and 'class="span tenure"' in dom
    assert "sent under tenure replica-0@0" in dom
    paused = [line for line in artifact.path.read_text().split('"trace"')[1].splitlines() if "replica.pause" in line]
    assert not paused or 'class="span pause"' in dom
    assert secrets and not [secret for secret in secrets if secret in dom]
    assert "T0K3N" not in dom and "fake.invalid" not in dom


def test_summary_lists_the_failures(tmp_path: Path) -> None:
    runs = [{"scenario": "s", "seed": 1, "trace_hash": "h", "violations": [{"invariant": "x", "message": "m"}],
             "faults_fired": {}}, {"scenario": "s", "seed": 2, "trace_hash": "g", "violations": [],
                                  "faults_fired": {}}]
    write_summary(tmp_path / "summary.json", runs, ok=False, wall=1.5)
    import json

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ok"] is False and summary["runs"] == 2 and [f["seed"] for f in summary["failures"]] == [1]
