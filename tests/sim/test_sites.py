"""The `sites` strategy: a recording run's injection sites, one run per (site, fault), extensions, pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import Artifact, Firing, Site, bundled, firings_from_json, load_scenario, replay, run, run_recorded
from harness import site_plan as plan_for
from harness._sites import SitePlan, _permute, _unrank_pair
from harness.cli import main

SCENARIOS = {path.stem: path for path in bundled()}
LEASE = load_scenario(SCENARIOS["lease-held-across-retries"])
LOCK_BUG = "lease-observed-before-read"


def test_the_recording_finds_every_kind_of_site_the_scenario_enables() -> None:
    plan = plan_for(load_scenario(SCENARIOS["all-faults-three-replicas"]))
    faults = {firing.fault for firing in plan.singles}
    # (informer.hold-event applies only where an older event of the same object still waits: after a delay)
    assert {"replica.crash", "replica.pause", "api.timeout-after-apply", "informer.stale-view", "watch.delay",
            "http.timeout-after-receive", "api.conflict", "replica.partition", "watch.compact"} <= faults
    places = {firing.site.place for firing in plan.singles}
    # Sites are named after the notification they concern: a delivery Lease and an Event by their notification's.
    assert {"api.get leases page-00", "api.update_status notificationrequests page-00",
            "watch notificationrequests page-00", "cache.read page-00", "reconcile page-00", "tick",
            "api.create events page-00", "http.send slack:console-slack page-00"} <= places
    assert {firing.site.who for firing in plan.singles} >= {"replica-0", "replica-1", "replica-2", "apiserver"}
    assert plan.sites < len(plan.singles)  # several faults apply at most sites


def test_singles_go_breadth_first_over_occurrences() -> None:
    plan = plan_for(LEASE)
    occurrences = [firing.site.occurrence for firing in plan.singles]
    assert occurrences == sorted(occurrences)
    assert len(set(plan.singles)) == len(plan.singles)


def test_each_single_fires_exactly_its_fault_at_its_site() -> None:
    plan = plan_for(LEASE)
    for firing in (plan.singles[0], plan.singles[7], plan.singles[-1]):
        result = run(LEASE, 0, strategy="sites", firings=frozenset({firing}))
        assert result.faults_fired == {firing.fault: 1}, (firing, result.faults_fired)
        assert result.firings == [[firing.site.who, firing.site.place, firing.site.occurrence, firing.fault]]
        assert result.notes == [f"sites: {firing}"]


def test_a_run_is_the_recording_up_to_its_firing() -> None:
    """Everything before the first firing is the recording: the site named is reached exactly."""
    plan = plan_for(LEASE)
    recording = run(LEASE, 0, strategy="sites", firings=frozenset(), keep=True)
    late = plan.singles[-1]
    perturbed = run(LEASE, 0, strategy="sites", firings=frozenset({late}), keep=True)
    assert recording.world is not None and perturbed.world is not None
    before, after = recording.world.trace.lines(), perturbed.world.trace.lines()
    cut = next(i for i, line in enumerate(after) if '"fault.' in line)
    assert after[:cut] == before[:cut]
    assert recording.faults_fired == {}


def test_runs_are_numbered_singles_then_their_extensions_then_pairs() -> None:
    plan = plan_for(LEASE)
    assert plan.target(0) == (frozenset({plan.singles[0]}), 0)
    extensions = plan.extension(0)
    assert extensions, "a pause at the first list lets the other replica take the work: new sites"
    firings, single = plan.target(1)
    assert single is None and firings == frozenset({plan.singles[0], extensions[0]})
    assert plan.target(1 + len(extensions)) == (frozenset({plan.singles[1]}), 1)


def test_extensions_race_the_actor_coming_back_first() -> None:
    plan = plan_for(LEASE)
    first = plan.singles[0]
    racing = plan.extension(0)[0]
    assert racing.site.who != first.site.who


def test_pairs_cover_every_pair_once() -> None:
    plan = SitePlan(tuple(Firing(Site("replica-0", "p", i + 1), "replica.crash") for i in range(7)))
    pairs = [plan.target(k)[0] for k in range(len(plan.singles), len(plan.singles) + plan.pairs)]
    assert len(set(pairs)) == plan.pairs == 21 and all(len(pair) == 2 for pair in pairs)
    with pytest.raises(ValueError, match="does not exist"):
        plan.target(len(plan.singles) + plan.pairs)


@pytest.mark.parametrize("n", [2, 3, 10, 57])
def test_pair_unranking_and_the_permutation_are_bijections(n: int) -> None:
    total = n * (n - 1) // 2
    assert sorted(_unrank_pair(i, n) for i in range(total)) == [(i, j) for i in range(n) for j in range(i + 1, n)]
    assert sorted(_permute(i, total) for i in range(total)) == list(range(total))


def test_a_scenario_without_faults_has_one_run_the_recording() -> None:
    scenario = load_scenario(SCENARIOS["slack-retries"])
    plan = plan_for(scenario)
    assert plan.singles == () and plan.runs(10) == 1
    assert run(scenario, 0, strategy="sites").ok
    with pytest.raises(ValueError, match="no injection site"):
        plan.target(1)


def test_the_lock_bug_is_found_by_an_extension_and_replays_from_its_artifact(tmp_path: Path) -> None:
    """The mutant of the lock bug of 2026-11: a single pause is not enough; a pause and a race are."""
    plan = plan_for(LEASE, mutant=LOCK_BUG)
    found = None
    for k in range(400):
        result, artifact = run_recorded(LEASE, k, tmp_path, strategy="sites", mutant=LOCK_BUG)
        if result.violations:
            found = (k, result, artifact)
            break
    assert found is not None, "sites did not find the lock bug in 400 runs"
    k, result, artifact = found
    assert result.violations[0].invariant == "lock-safety"
    assert plan.target(k)[1] is None, "found by a run of two firings"
    assert artifact is not None and json.loads(artifact.path.read_text())["firings"] == result.firings
    again = replay(Artifact.load(artifact.path))
    assert again.same and again.result.violations
    for seed in range(k):  # the correct controller passes the same runs
        assert run(LEASE, seed, strategy="sites").ok


def test_an_artifacts_firings_are_validated(tmp_path: Path) -> None:
    result, artifact = run_recorded(LEASE, 3, tmp_path, strategy="sites", keep_passing=True)
    assert artifact is not None
    data = json.loads(artifact.path.read_text())
    data["firings"] = [["replica-0", "api.get leases", 0, "replica.pause"]]
    artifact.path.write_text(json.dumps(data))
    assert main(["replay", str(artifact.path)]) == 2
    assert result.firings and sorted(firings_from_json(result.firings)) == sorted(plan_for(LEASE).target(3)[0])


def test_a_run_number_past_the_last_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "lease-held-across-retries", "--seed", "10000000", "--no-self-check"]) == 2
    err = capsys.readouterr().err
    assert "the sites strategy has" in err and "Traceback" not in err


def test_a_run_cut_by_its_budget_teaches_the_plan_nothing() -> None:
    """A run its budget stopped saw less than it would have: its extensions are not learned from it, so run
    numbers stay a function of (scenario, code, k) in a process that cut a run."""
    plan = plan_for(LEASE, max_steps=40)
    cut = run(LEASE, 0, strategy="sites", max_steps=40)
    assert cut.stopped == "steps"
    assert "0 extensions found" in plan.coverage(1)
    whole = plan_for(LEASE)
    run(LEASE, 0, strategy="sites")
    assert "0 extensions found" not in whole.coverage(1)


def test_a_scripted_run_notes_when_each_call_reached_the_server_and_each_event_arrived() -> None:
    """What a shrink keeps a race's timing with: a scripted run notes, for each await point a replica passed and
    each watch event sent its way, when the call made there reached the server, or the event arrived; a delay
    fired there shows as the difference, and occurrences count as the faults' do."""
    scenario = load_scenario(SCENARIOS["two-replicas-lease"])
    plan = plan_for(scenario)
    call = next(f.site for f in plan.singles if f.fault == "api.latency" and f.site.place.startswith("api.get "))
    event = next(f.site for f in plan.singles if f.fault == "watch.delay")
    plain = run(scenario, 0, strategy="sites", firings=frozenset(), keep=True)
    assert plain.world is not None and plain.world.injector.sites is not None
    noted = plain.world.injector.sites
    assert noted.applied[call] == noted.passed[call] and noted.applied[event] == noted.passed[event]
    for site, fault in ((call, "api.latency"), (event, "watch.delay")):
        firing = Firing(site, fault)
        slow = run(scenario, 0, strategy="sites", firings=frozenset({firing}), durations={firing: 7.25}, keep=True)
        assert slow.world is not None and slow.world.injector.sites is not None
        timed = slow.world.injector.sites
        assert timed.passed[site] == noted.passed[site]
        assert timed.applied[site] == pytest.approx(timed.passed[site] + 7.25)
    # every site the recording found was passed, under the same name and occurrence
    assert {f.site for f in plan.singles if f.site.who.startswith("replica-")} <= set(noted.passed)
