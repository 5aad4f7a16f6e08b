"""Every invariant holds on the correct controller under faults, and fails on a mutant that breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness._bridge import EPOCH
from harness._invariants import INVARIANTS, Evidence, audit_once, lock_safety, no_duplicate_delivery
from harness._run import run
from harness._scenario import bundled_dir, load_scenario
from harness._zoo import hunt
from harness.mutants import MUTANTS
from notifier import LEASES, NOTIFICATIONS, format_micro_time

ALL_FAULTS = load_scenario(bundled_dir() / "all-faults-three-replicas.yaml")

#: The mutant that breaks each invariant, and the bundled scenario where it shows.
BREAKERS = {
    "no-duplicate-delivery": "no-lease",
    "attempts-match-effects": "cache-before-status-write",
    "counters-consistent": "counted-counters",
    "phase-transitions-legal": "pending-to-sent",
    "no-lost-attempts": "cache-before-status-write",
    "retry-policy-respected": "no-backoff-gate",
    "lock-safety": "lease-without-fencing",
    "eventual-delivery": "lost-requeue",
    "audit-once": "no-audit-idempotency",
    "no-progress": "requeue-every-millisecond",
    "caches-converge": "relist-keeps-deleted",
}


def test_every_invariant_has_a_mutant_that_breaks_it() -> None:
    assert sorted(BREAKERS) == sorted(INVARIANTS)


@pytest.mark.parametrize("invariant", list(INVARIANTS))
def test_invariant_holds_on_the_correct_controller_under_every_fault(invariant: str) -> None:
    fired: set[str] = set()
    for seed in range(12):
        result = run(ALL_FAULTS, seed, strategy="swarm")
        fired |= set(result.faults_fired)
        assert [v.message for v in result.violations if v.invariant == invariant] == []
    assert len(fired) >= 15


@pytest.mark.parametrize("invariant", list(INVARIANTS))
def test_invariant_fails_on_a_controller_that_breaks_it(invariant: str) -> None:
    mutant = MUTANTS[BREAKERS[invariant]]
    scenario = load_scenario(bundled_dir() / f"{mutant.scenario}.yaml")
    for seed in range(60):
        result = run(scenario, seed, mutant=mutant.name)
        caught = [v for v in result.violations if v.invariant == invariant]
        if caught:
            assert caught[0].notification and caught[0].message
            return
    pytest.fail(f"{invariant} never caught mutant {mutant.name} in 60 seeds")


@pytest.mark.parametrize("name", list(MUTANTS))
def test_each_mutant_is_caught_by_what_it_names(name: str) -> None:
    """60 seeds of random, or, where the mutant's scenario is explored systematically, its systematic part."""
    mutant = MUTANTS[name]
    scenario = load_scenario(Path(bundled_dir() / f"{mutant.scenario}.yaml"))
    if scenario.campaign.strategy == "sites":
        found = hunt(name, 0)
        assert found.caught and found.invariant in mutant.catchers, (name, found)
        return
    for seed in range(60):
        if any(v.invariant in mutant.catchers for v in run(scenario, seed, mutant=name).violations):
            return
    pytest.fail(f"{name} escaped {mutant.catchers} in 60 seeds")


def test_violation_names_the_notification_channel_time_and_steps() -> None:
    scenario = load_scenario(bundled_dir() / "slack-retries.yaml")
    (violation, *_) = [v for v in run(scenario, 0, mutant="no-backoff-gate").violations
                       if v.invariant == "retry-policy-respected"]
    assert violation.notification == "flaky" and violation.channel == "slack:console-slack"
    assert len(violation.steps) == 2 and violation.steps[0] < violation.steps[1]
    assert "attempt 2 came 0.000 s after attempt 1" in violation.message


def test_audit_once_judges_each_notification_by_its_own_history_not_by_any_crash() -> None:
    """A controller that never audits its deliveries is caught even in a run where some replica crashed: a
    crash excuses a missing `message.sent` only for the successes its replica persisted before it died."""
    import dataclasses

    from harness._invariants import audit_once
    from harness._run import build, evidence_of
    from harness.mutants import Mutant
    from notifier.assembly import Auditor

    class Mute(Auditor):
        def sent(self, n: object, channel: str) -> bool:
            return False

    never_audits = Mutant(name="never-audits", bug="", caught_by="audit-once", scenario="",
                          seams=lambda seams, host: dataclasses.replace(seams, auditor=Mute))
    crashed_runs = 0
    for seed in range(20):
        world, rig, _ = build(ALL_FAULTS, seed, strategy="random")
        rig.mutations.append(never_audits)
        world.run(until=ALL_FAULTS.phases.fault + ALL_FAULTS.phases.quiet)
        if not any(step.kind == "replica.crash" for step in world.trace.steps):
            continue
        crashed_runs += 1
        caught = audit_once(evidence_of(world, rig, ALL_FAULTS))
        assert caught and all("0 message.sent events" in v.message for v in caught)
    assert crashed_runs >= 3


def test_a_send_in_the_instant_of_a_renewal_is_covered_however_the_two_times_were_rounded() -> None:
    """Found by a 1,500-seed bench campaign (three replicas, every fault, swarm seed 1484): a renewal and the
    send after it in one instant; the renewTime rounded up to .999800, the replica's clock read .999799."""
    from fakes.apiserver import Change
    from harness import Step

    def lease(rv: int, renew: str) -> Change:
        return Change(revision=rv, type="MODIFIED", resource=LEASES, namespace="default", object={
            "metadata": {"name": "notification-delivery-x", "namespace": "default"},
            "spec": {"holderIdentity": "replica-0", "renewTime": renew, "leaseTransitions": 0}})

    def commit(index: int, time: float, rv: int) -> Step:
        return Step(index, time, "apiserver", "commit.modified", (("name", "notification-delivery-x"), ("rv", rv)))

    def send(local_time: float) -> Step:
        return Step(2, 84.9997995853424, "replica-0", "http.issue", (
            ("attempt", 1), ("channel", "slack:x"), ("local_time", local_time), ("token", "replica-0@0"),
            ("uid", "u")))

    changes = [lease(1, "2026-01-01T00:00:10.000000Z"), lease(2, "2026-01-01T00:01:24.999800Z")]
    steps = [commit(0, 10.0, 1), commit(1, 84.9998, 2)]

    def expired(local_time: float) -> list[str]:
        ev = Evidence(changes=changes, receipts=[], steps=[*steps, send(local_time)], audit=[], lock="lease")
        return [v.message for v in lock_safety(ev) if "expired by its own clock" in v.message]

    assert expired(1767225684.999799) == []
    late = "replica-0 sent attempt 1 after its tenure replica-0@0 expired by its own clock"
    assert expired(1767225600 + 84.9998 + 30.001) == [late]


def test_lock_safety_follows_the_epoch_over_the_whole_history_of_a_lease() -> None:
    """A tenure written back with the epoch it took over from (a fencing token reused) is caught; the correct
    controller raises the epoch at every new tenure, releases included (the first test of this module)."""
    scenario = load_scenario(bundled_dir() / "two-replicas-lease.yaml")
    for seed in range(30):
        broken = [v.message for v in run(scenario, seed, strategy="swarm", mutant="lease-epoch-rolled-back").violations
                  if v.invariant == "lock-safety"]
        if broken:
            assert any("epoch went down from 1 to 0" in message for message in broken), broken
            return
    pytest.fail("lock-safety never saw the epoch go down in 30 seeds")


def _lease_history(*versions: tuple[str, str, str, float]) -> Evidence:
    """A Lease's committed versions: (event type, Lease uid, holder, virtual time), renewed when written."""
    from fakes.apiserver import Change

    changes, times = [], {}
    for revision, (kind, uid, holder, when) in enumerate(versions, start=2):
        changes.append(Change(revision, kind, LEASES, "default", {
            "metadata": {"name": "notification-delivery-0", "namespace": "default", "uid": uid},
            "spec": {"holderIdentity": holder, "leaseTransitions": 0,
                     "renewTime": format_micro_time(EPOCH + when)}}))
        times[revision] = when
    return Evidence(changes=changes, receipts=[], steps=[], audit=[], lock="lease", lease_duration=15.0,
                    commit_times=times)


def test_lock_safety_lets_a_deleted_lease_be_created_again_by_another_holder_at_once() -> None:
    """The garbage collector deletes a delivery Lease under its holder once the notification is gone, and a
    create another replica sent earlier may land just after (recreate-while-leased with the collector on,
    random seed 34): that is a new Lease, not a takeover of a live one. Without the deletion, the same change
    of holder 1.7 s after the last renewal is the violation it always was."""
    recreated = _lease_history(("ADDED", "a", "replica-1", 4.9), ("DELETED", "a", "replica-1", 6.0),
                               ("ADDED", "b", "replica-0", 6.6))
    assert lock_safety(recreated) == []
    taken = _lease_history(("ADDED", "a", "replica-1", 4.9), ("MODIFIED", "a", "replica-0", 6.6))
    assert [v.message for v in lock_safety(taken)] == [
        "lease notification-delivery-0 went from replica-1 to replica-0 without raising its epoch (0)",
        "lease notification-delivery-0 went from replica-1 to replica-0 1.700 s after replica-1's last renewal"]


def test_caches_converge_names_what_each_replica_holds_wrongly() -> None:
    from harness._invariants import Evidence, caches_converge

    server = {"default/a": ("uid-a", "7"), "default/b": ("uid-b", "9")}
    caches = {"replica-0": dict(server),
              "replica-1": {"default/a": ("uid-a", "5"), "default/c": ("uid-c", "3")}}
    ev = Evidence(changes=[], receipts=[], steps=[], audit=[], lock="lease", server_objects=server, caches=caches)
    (violation,) = caches_converge(ev)
    assert violation.invariant == "caches-converge" and "replica-1" in violation.message
    assert "missing default/b" in violation.message and "still holds deleted default/c" in violation.message
    assert "default/a at uid uid-a rv 5, the server's uid uid-a rv 7" in violation.message
    assert caches_converge(Evidence(changes=[], receipts=[], steps=[], audit=[], lock="lease",
                                    server_objects=server, caches={"replica-0": dict(server)})) == []


def test_an_event_overtaken_while_its_predecessor_waits_is_delivered_not_lost() -> None:
    """The fake's watch once popped the newest event in place of the delayed one it had slept for, when
    `informer.hold-event` dropped that one meanwhile: the replica's cache kept the older version for ever.
    `caches-converge` found it (all-faults-three-replicas, random seed 4)."""
    result = run(ALL_FAULTS, 4, strategy="random", keep=True)
    assert result.world is not None and result.world.fired["informer.hold-event"] > 0
    assert [v.message for v in result.violations if v.invariant == "caches-converge"] == []
    assert len(result.world.caches) == 3


def _duplicate_evidence(*, receipts: list[tuple[int, str, float]], redelivery: bool) -> Evidence:
    """A notification whose Slack attempt 1 was once recorded as of unknown outcome, then attempt 2 (a
    redelivery or not), and the receipts the backend got: (attempt, replica, time)."""
    from fakes.apiserver import Change
    from fakes.backends import Receipt

    def version(revision: int, attempts: list[dict[str, object]]) -> Change:
        return Change(revision, "MODIFIED", NOTIFICATIONS, "default", {
            "metadata": {"name": "n", "namespace": "default", "uid": "u1", "resourceVersion": str(revision)},
            "status": {"deliveryAttempts": attempts}})

    unknown = {"channel": "slack:x", "attempt": 1, "status": "unknown", "replica": "replica-0"}
    second = {"channel": "slack:x", "attempt": 2, "status": "success", "replica": "replica-1",
              "redelivery": redelivery}
    return Evidence(
        changes=[version(2, [unknown]), version(3, [unknown, second]),
                 version(4, [{**unknown, "status": "success"}, second])],
        receipts=[Receipt(time=EPOCH + at, service="slack", endpoint="x", notification="u1", channel="slack:x",
                          attempt=attempt, replica=replica, fencing_token="", payload={}, answered=200)
                  for attempt, replica, at in receipts],
        steps=[], audit=[], lock="lease", names={"u1": "n"})


def test_an_ambiguous_original_that_arrives_after_its_redelivery_is_explained() -> None:
    """Found by a swarm campaign (all-faults-three-replicas): replica-0 issued attempt 1 under a live tenure
    and was paused before the request reached Slack; replica-1 recorded attempt 1 as of unknown outcome once
    the Lease expired and redelivered it as attempt 2; then replica-0 resumed and attempt 1 arrived, after
    attempt 2. That is the at-least-once the redelivery was for, whatever the order of arrival."""
    late_original = _duplicate_evidence(receipts=[(2, "replica-1", 34.0), (1, "replica-0", 35.0)], redelivery=True)
    assert no_duplicate_delivery(late_original) == []
    in_order = _duplicate_evidence(receipts=[(1, "replica-0", 4.0), (2, "replica-1", 34.0)], redelivery=True)
    assert no_duplicate_delivery(in_order) == []


def test_a_retry_that_is_no_redelivery_or_one_attempt_received_twice_is_a_duplicate() -> None:
    not_redelivery = _duplicate_evidence(receipts=[(2, "replica-1", 34.0), (1, "replica-0", 35.0)],
                                         redelivery=False)
    assert [v.invariant for v in no_duplicate_delivery(not_redelivery)] == ["no-duplicate-delivery"]
    twice = _duplicate_evidence(receipts=[(1, "replica-1", 34.0), (1, "replica-0", 35.0), (2, "replica-1", 36.0)],
                                redelivery=True)
    assert [v.message for v in no_duplicate_delivery(twice)] == [
        "received attempt 1 from replica-0 and attempt 1 from replica-1, and no unknown outcome explains it"]


def _deleted_with_a_pending_redelivery(*, deleted: bool) -> Evidence:
    """File attempt 1 (replica-2) recorded a success after replica-1 took it as unknown and claimed attempt 2;
    replica-1 wrote the file too, and audited that once the notification was deleted before it could record
    the success (its claim stayed pending)."""
    from fakes.apiserver import Change
    from notifier.assembly import AuditEvent

    attempts = [{"channel": "file", "attempt": 1, "status": "success", "replica": "replica-2"},
                {"channel": "file", "attempt": 2, "status": "pending", "replica": "replica-1", "redelivery": True}]
    obj = {"metadata": {"name": "n", "namespace": "default", "uid": "u1"},
           "status": {"phase": "Sent", "deliveryAttempts": attempts}}
    changes = [Change(2, "MODIFIED", NOTIFICATIONS, "default", obj)]
    if deleted:
        changes.append(Change(3, "DELETED", NOTIFICATIONS, "default", obj))
    sent = [AuditEvent(event_type="notification.message.sent", action="sent", outcome="success", resource_id="n",
                       correlation_id="u1", namespace="default", cluster_id="", timestamp="", resource_uid="u1",
                       payload={"channel": "file"}) for _ in range(2)]
    return Evidence(changes=changes, receipts=[], steps=[], audit=sent, lock="lease", names={"u1": "n"})


def test_a_pending_claim_of_a_deleted_notification_may_be_audited_by_its_sender() -> None:
    """Found by a swarm campaign (all-faults-three-replicas seed 2776 before the per-site streams): two file
    writes really happened (at-least-once after an unknown outcome), both audited; the second writer's claim
    was still pending when the notification was deleted. While the notification lives, two audits for one
    recorded delivery stay a violation."""
    assert audit_once(_deleted_with_a_pending_redelivery(deleted=True)) == []
    assert [v.message for v in audit_once(_deleted_with_a_pending_redelivery(deleted=False))] == [
        "2 message.sent events for 1 recorded deliveries"]
