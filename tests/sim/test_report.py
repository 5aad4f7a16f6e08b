"""The HTML timeline of a failure, rendered by a real browser: lanes, the violation, and no secret."""

from __future__ import annotations

import json
import os
import re
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
    # what lasts is drawn as bars: reconciles, the pauses, each Lease's tenures (holder and epoch); each send
    # says the tenure it was sent under
    assert 'class="span reconcile' in dom and 'class="span tenure' in dom
    assert "held by replica-0, epoch 0" in dom and "(under tenure replica-0@0)" in dom
    paused = [line for line in artifact.path.read_text().split('"trace"')[1].splitlines() if "replica.pause" in line]
    assert not paused or 'class="span pause' in dom
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


@pytest.mark.timeout(900)
def test_the_shrunk_lock_failures_timeline_shows_the_pauses_the_two_tenures_and_the_takeover(tmp_path: Path) -> None:
    """The lock bug of 2026-11 (its mutant), found by random and shrunk: its timeline, seen in a browser, has
    the story at the top, the pause spans, the Lease's two tenures (the holder's, then the early taker's, by
    epoch) and the violation at the moment of the takeover; only what the violation involves is shown; no
    secret. The screenshot stays in the test's directory."""
    from harness._shrink import shrink

    scenario = load_scenario(bundled_dir() / "paused-past-lease.yaml")
    _, artifact = run_recorded(scenario, 50, tmp_path / "failures", mutant="lease-observed-before-read")
    assert artifact is not None
    done = shrink(artifact, tmp_path / "shrunk")
    assert done.timeline is not None
    page = done.timeline.read_text()
    browser = chromium()
    flags = [*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", done.timeline.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    shot = tmp_path / "timeline.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1450,900", done.timeline.as_uri()],
                   capture_output=True, text=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000
    assert 'id="story"' in dom and done.story[-1].split("s  ", 1)[1] in dom
    assert dom.count('class="span pause') >= 2
    holders = re.findall(r"held by (replica-\d), epoch (\d+)", dom)
    assert len(set(holders)) >= 2 and len({holder for holder, _ in holders}) == 2
    takeover = next(v for v in json.loads(Path(str(done.timeline).replace(".html", ".json")).read_text())[
        "violations"] if v["invariant"] == "lock-safety")
    assert f"lock-safety at {takeover['time']:.3f} s" in dom
    assert '<body class="focus">' in page and 'data-key="alert-00"' in page
    world, rig, _ = build(scenario, 0, mutant="lease-observed-before-read")
    secrets = [endpoint.url for endpoint in world.backends.endpoints.values()] + list(rig.credentials.values())
    world.close()
    assert secrets and not [secret for secret in secrets if secret in dom]


def test_the_page_escapes_what_it_shows(tmp_path: Path) -> None:
    """Every string reaches the page through the template's autoescaping."""
    from harness._report import render_timeline

    page = render_timeline({"scenario": {"name": "<b>x</b>"}, "seed": 1, "trace": [
        '[0, 0.5, "replica-0", "reconcile.begin", {"key": "default/<script>alert(1)</script>", "cached_rv": null}]'],
        "violations": [{"invariant": "lock-safety", "message": "<img src=x>", "time": 0.5}]})
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x>" not in page and "<b>x</b>" not in page
