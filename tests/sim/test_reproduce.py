"""`notifier-sim reproduce`: a zoo mutant's failing seed, written as kubectl prints it, is found again from that
dump alone, and its shrunk test fails with the mutant and passes without it; a healthy world reproduces
nothing."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import pytest

from harness import EPOCH, hunt_shown, load_scenario, run
from harness._dump import as_yaml, render_world
from harness._observed import observe
from harness._scenario import bundled_dir
from harness.cli import main
from notifier import ConfigFileError, format_micro_time, parse_time

#: Mutants whose failure shows in what kubectl prints, and the symptom it shows there.
SHOWN = {
    "no-lease": "duplicate-delivery",  # the status records one send; both replicas' Events say they delivered
    "double-recording": "duplicate-delivery",  # every attempt recorded twice, under two numbers
    "lost-requeue": "never-ended",
    "no-backoff-gate": "early-retry",
    "duplicate-channels": "phase-disagrees",
    "status-by-name-only": "foreign-attempts",  # a recreated notification's status holds the old one's attempt
}


def dump_of_failure(mutant: str, path: Path) -> str:
    """The mutant's first failing seed in its zoo hunt whose end shows a symptom kubectl prints (what a user
    comes with), its world's end written as kubectl prints it; and when (the time a user knows: when they ran
    kubectl)."""
    found, shown = hunt_shown(mutant, 100, kind=SHOWN[mutant])
    assert shown is not None and found.world is not None, found
    path.write_text(as_yaml(render_world(found.world)))
    return format_micro_time(EPOCH + found.world.env.now)


def regression(directory: Path) -> object:
    (path,) = sorted((directory / "regressions").glob("test_*.py"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, path.stem)


@pytest.mark.parametrize("mutant", sorted(SHOWN))
def test_a_mutants_failure_is_reproduced_from_its_dump_alone(mutant: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    at = dump_of_failure(mutant, tmp_path / "dump.yaml")
    capsys.readouterr()
    # The search is the same sequence of runs on any machine; a slow or busy one takes longer over it, so the
    # test gives it time enough (the bench measures the 60 s on 2 cores) rather than fail by the clock.
    code = main(["reproduce", str(tmp_path / "dump.yaml"), "--mutant", mutant, "--budget", "300", "-j", "1",
                 "--at", at, "--out", str(tmp_path / "out")])
    said = capsys.readouterr().out
    assert code == 0, said
    assert f"symptom: {SHOWN[mutant]}: " in said and "reproduced in" in said, said
    test = regression(tmp_path / "out")
    monkeypatch.setenv("NOTIFIER_SIM_MUTANT", mutant)
    with pytest.raises(AssertionError):
        test()  # type: ignore[operator]
    monkeypatch.delenv("NOTIFIER_SIM_MUTANT")
    test()  # type: ignore[operator]


def test_a_healthy_world_reproduces_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("notifier").setLevel(logging.CRITICAL)
    scenario = load_scenario(bundled_dir() / "all-faults-three-replicas.yaml")
    result = run(scenario, 0, strategy="swarm", keep=True)
    assert result.ok, result.violations
    (tmp_path / "dump.yaml").write_text(as_yaml(render_world(result.world)))
    code = main(["reproduce", str(tmp_path / "dump.yaml"), "--budget", "5", "--out", str(tmp_path / "out")])
    said = capsys.readouterr().out
    assert code == 1 and "the dump shows no symptom" in said, said
    # this world retried a send whose outcome was unknown: explained, and not taken for a duplicate
    assert "explained redelivery(ies)" in said and "--symptom redelivery" in said, said
    assert not (tmp_path / "out").exists()


def test_a_symptom_the_user_names_is_not_reproduced_on_the_correct_controller(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Told of a duplicate the dump does not show, the search judges it on what the channel received; on the
    correct controller no run shows it, and the command says so with the closest run and exits 1."""
    scenario = load_scenario(bundled_dir() / "two-replicas-no-lock.yaml")
    result = run(scenario, 0, keep=True)
    assert result.ok, result.violations
    (tmp_path / "dump.yaml").write_text(as_yaml(render_world(result.world)))
    code = main(["reproduce", str(tmp_path / "dump.yaml"), "--symptom", "duplicate-delivery", "--notification",
                 "alert-02", "--budget", "4", "-j", "1", "--out", str(tmp_path / "out")])
    said = capsys.readouterr().out
    assert code == 1, said
    assert "symptom: duplicate-delivery: alert-02: as the user tells it" in said, said
    assert "not reproduced:" in said and "closest:" in said, said
    # a symptom read from the status the dump holds, which that status does not show: no run matching it can
    code = main(["reproduce", str(tmp_path / "dump.yaml"), "--symptom", "never-ended", "--notification",
                 "alert-02", "--budget", "60", "-j", "1", "--out", str(tmp_path / "out2")])
    said = capsys.readouterr().out
    assert code == 1 and "the dump does not show never-ended on alert-02" in said, said
    assert "nothing to reproduce" in said and "--at" in said and not (tmp_path / "out2").exists(), said


def test_an_object_deleted_before_one_of_its_name_is_created_before_it_and_slow_answers_take_their_time() -> None:
    """The dump shows traces of an earlier object of a notification's name (an Event about it, an attempt made
    for it): the scenario creates the notification from the first second a trace of it shows, and creates it
    again when the dump's object was created. A channel's answer takes as long as its attempt recorded."""
    from harness._reproduce import build, choose

    made = {"uid": "new", "channel": "slack:alerts", "attempt": 1, "status": "success", "replica": "b",
            "timestamp": "2026-01-01T00:00:12.000000Z", "durationSeconds": 3.0}
    foreign = {**made, "uid": "old", "replica": "a", "timestamp": "2026-01-01T00:00:04.500000Z"}
    again = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
             "metadata": {"name": "disk-full", "namespace": "default", "uid": "new",
                          "creationTimestamp": "2026-01-01T00:00:10Z"},
             "spec": {"type": "Simple", "priority": "Critical", "subject": "disk full", "body": "95%"},
             "status": {"phase": "Sent", "deliveryAttempts": [foreign, made], "totalAttempts": 2,
                        "successfulDeliveries": 1, "failedDeliveries": 0}}
    event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "reason": "ReconcileStarted", "note": "started",
             "eventTime": "2026-01-01T00:00:03.200000Z", "reportingInstance": "a",
             "regarding": {"kind": "NotificationRequest", "name": "disk-full", "namespace": "default", "uid": "old"}}
    observed = observe([again, event])
    symptom, _ = choose(observed, None, None, None)
    assert symptom is not None and symptom.kind == "foreign-attempts", symptom
    scenario = build(observed, symptom).scenario
    (spec,) = scenario.notifications
    assert spec.start == 0.0  # the second the first trace shows: 00:00:03
    assert [(step.at, step.action, step.name) for step in scenario.traffic] == [(7.0, "recreate", "disk-full")]
    assert [b.latency for b in (scenario.backends["slack:alerts"].script or ())] == [3.0, 3.0]
    # an earlier object whose first trace shows after this one's creation (a stale reconcile of it, late) was
    # still created before it: the notification starts at its own creation, and is created again after that
    late = {**event, "eventTime": "2026-01-01T00:00:50.000000Z"}
    again["status"]["deliveryAttempts"] = [made]
    scenario = build(observe([again, late]), symptom).scenario
    assert scenario.notifications[0].start == 0.0 and [step.at for step in scenario.traffic] == [0.01]


def test_the_routing_file_routes_what_the_dump_shows_no_channels_for(tmp_path: Path) -> None:
    """A notification no replica ever reconciled has no RoutingResolved condition and no attempt: the routing
    file the controller ran with says where it would have gone; what the dump shows stands."""
    from harness._reproduce import build, choose, with_routing

    never = {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
             "metadata": {"name": "disk-full", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"type": "Simple", "priority": "Critical", "subject": "disk full", "body": "95%"}}
    observed = observe([never], at=parse_time("2026-01-01T00:10:00Z"))  # dumped ten minutes after its creation
    examples = Path(__file__).resolve().parents[2] / "examples" / "routing.yaml"
    assert with_routing(observed, examples) == 1
    assert observed.notifications["disk-full"].channels == ["slack:on-call", "pagerduty:on-call", "teams:on-call"]
    symptom, _ = choose(observed, None, None, None)
    assert symptom is not None
    assert symptom.line().startswith("never-ended: disk-full: phase (none), no attempt made; nothing due after ")
    built = build(observed, symptom)
    assert dict(built.scenario.channels) == {"on-call": ("slack", "pagerduty", "teams")}
    (tmp_path / "routing.yaml").write_text("route:\n  receiver: nobody\nreceivers: []\n")
    with pytest.raises(ConfigFileError) as refused:
        with_routing(observed, tmp_path / "routing.yaml")
    assert str(refused.value).startswith(str(tmp_path / "routing.yaml"))
