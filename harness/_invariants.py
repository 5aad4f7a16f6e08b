"""The invariants, judged after a run from the trace, the API server's history and the backends' own records.

Each checker is pure over a `Evidence` and returns violations that name the invariant, the notification, the
channel, the virtual time and the trace steps (or commits) that show it.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fakes.apiserver import Change
from fakes.backends import Receipt
from harness._bridge import EPOCH
from harness._trace import Step
from notifier import LEASES, NOTIFICATIONS, parse_time
from notifier.assembly import AuditEvent
from notifier.model import (
    EXTERNAL_KINDS,
    NOT_ATTEMPTS,
    TERMINAL,
    TRANSITIONS,
    AttemptStatus,
    DeliveryAttempt,
    Phase,
    RetryPolicy,
    backoff_bounds,
    count_deliveries,
)

INVARIANTS: Final[Mapping[str, str]] = {
    "no-duplicate-delivery": "no channel receives a notification twice, unless the second send is a counted "
                             "redelivery after an unknown outcome (at-least-once)",
    "attempts-match-effects": "status attempts match the requests the backends received one to one",
    "counters-consistent": "totalAttempts and the delivery counters equal what the attempts say, in every write",
    "phase-transitions-legal": "every persisted phase change is allowed, and terminal phases never change",
    "no-lost-attempts": "no attempt, once persisted, disappears from a later status",
    "retry-policy-respected": "at most maxAttempts per channel, none after a permanent error, spaced by at "
                              "least the backoff lower bound",
    "lock-safety": "a Lease changes holder only after expiring; every external send is fenced by a live tenure "
                   "and covered by a persisted intent",
    "eventual-delivery": "after the quiet phase starts every notification ends within the bound, and healthy "
                         "channels were delivered",
    "audit-once": "one message.sent per delivered channel, one acknowledged or escalated per notification",
    "no-progress": "the world reaches its end within its step and wall budgets (a controller that loops, even "
                   "in zero virtual time, does not)",
    "caches-converge": "by the end of the quiet phase every serving replica's informer cache holds exactly the "
                       "server's notifications (same uids, same resourceVersions)",
}


#: How far apart two readings of one instant may be, in seconds: a Lease's renewTime is a MicroTime, rounded to
#: the microsecond, and a replica's clock reading is a float of about 1.8e9 seconds (steps of 2.4e-7). A send in
#: the same instant as the renewal before it is covered by that renewal, however the two were rounded.
MICRO_TIME: Final = 2e-6


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    invariant: str
    message: str
    notification: str = ""
    channel: str = ""
    time: float = 0.0
    steps: tuple[int, ...] = ()

    def __str__(self) -> str:
        """`invariant: notification channel message`, each part there only if it has one."""
        return f"{self.invariant}: " + " ".join(part for part in (self.notification, self.channel, self.message)
                                                 if part)

    def as_json(self) -> dict[str, Any]:
        return {"invariant": self.invariant, "message": self.message, "notification": self.notification,
                "channel": self.channel, "time": round(self.time, 6), "steps": list(self.steps)}


@dataclass(slots=True, kw_only=True)
class Evidence:
    """Everything a run leaves behind that the invariants read."""

    changes: list[Change]
    receipts: list[Receipt]
    steps: list[Step]
    audit: list[AuditEvent]
    lock: str
    external_kinds: frozenset[str] = frozenset(EXTERNAL_KINDS)
    quiet_start: float = 0.0
    end: float = 0.0
    bound: float = 0.0
    lease_duration: float = 30.0
    healthy: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)  # uid -> name
    commit_times: dict[int, float] = field(default_factory=dict)  # resourceVersion -> virtual time
    #: Why the world stopped before its end (its budget was spent), or None.
    no_progress: str | None = None
    no_progress_name: str = ""
    #: The server's notifications when the run ended, and what each serving replica's informer held then:
    #: `namespace/name` -> (uid, resourceVersion).
    server_objects: dict[str, tuple[str, str]] = field(default_factory=dict)
    caches: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    #: Each version's attempts, read once for every invariant that looks (by the object's id, and the object).
    _read: dict[int, tuple[dict[str, Any], list[DeliveryAttempt]]] = field(default_factory=dict, repr=False,
                                                                           compare=False)

    def attempts(self, obj: dict[str, Any]) -> list[DeliveryAttempt]:
        """The delivery attempts a version of a notification holds (a list shared by its readers)."""
        read = self._read.get(id(obj))
        if read is None or read[0] is not obj:
            read = self._read[id(obj)] = (obj, _attempts(obj))
        return read[1]

    def __post_init__(self) -> None:
        if not self.commit_times:
            for step in self.steps:
                if step.actor == "apiserver" and step.kind.startswith("commit."):
                    self.commit_times[int(str(dict(step.details)["rv"]))] = step.time

    def notifications(self) -> dict[str, list[Change]]:
        """Each notification's committed versions, in order, keyed by name (and uid once a name is reused:
        a deleted and recreated object is another notification)."""
        by_uid: dict[str, list[Change]] = defaultdict(list)
        names: dict[str, str] = {}
        for change in self.changes:
            if change.resource == NOTIFICATIONS:
                meta = change.object["metadata"]
                by_uid[meta.get("uid", "")].append(change)
                names.setdefault(meta.get("uid", ""), meta["name"])
        taken = Counter(names.values())
        return {(names[uid] if taken[names[uid]] == 1 else f"{names[uid]}@{uid[-6:]}"): versions
                for uid, versions in by_uid.items()}


def _attempts(obj: dict[str, Any]) -> list[DeliveryAttempt]:
    uid = obj["metadata"].get("uid", "")
    return [DeliveryAttempt.from_json({"uid": uid, **raw}) for raw in (obj.get("status") or {}).get(
        "deliveryAttempts") or ()]


def _final(versions: list[Change]) -> dict[str, Any]:
    return versions[-1].object


def no_duplicate_delivery(ev: Evidence) -> list[Violation]:
    out = []
    by_channel: dict[tuple[str, str], list[Receipt]] = defaultdict(list)
    for receipt in ev.receipts:
        if receipt.deduplicated or not (200 <= receipt.answered < 300):
            continue
        by_channel[(receipt.notification, receipt.channel)].append(receipt)
    versions = {v[-1].object["metadata"].get("uid", ""): v for v in ev.notifications().values()}
    for (uid, channel), got in sorted(by_channel.items()):
        if len(got) < 2:
            continue
        history = versions.get(uid, [])
        attempts = {a.attempt: a for a in ev.attempts(history[-1].object) if a.channel == channel} if history else {}
        # Every attempt of this channel that some committed status ever showed as an unknown outcome.
        unknown = {a.attempt for c in history for a in ev.attempts(c.object)
                   if a.channel == channel and a.status is AttemptStatus.UNKNOWN}
        # Judged by attempt, not by arrival: an original whose outcome was unknown may reach the backend after
        # its redelivery (its sender was paused, or its request slow, between its fence check and the wire),
        # and that is the at-least-once the redelivery was for. One attempt received twice is never explained.
        ordered = sorted(got, key=lambda r: (r.attempt, r.time))
        for earlier, later in itertools.pairwise(ordered):
            recorded = attempts.get(later.attempt)
            explained = (later.attempt != earlier.attempt and recorded is not None
                         and recorded.redelivery and any(number < later.attempt for number in unknown))
            if not explained:
                out.append(Violation(invariant="no-duplicate-delivery", notification=ev.names.get(uid, uid),
                                     channel=channel, time=max(later.time, earlier.time) - EPOCH,
                                     message=f"received attempt {later.attempt} from {later.replica} "
                                             f"and attempt {earlier.attempt} from {earlier.replica}, and no "
                                             f"unknown outcome explains it"))
    return out


def explained_redeliveries(ev: Evidence) -> int:
    """How many duplicate receipts were explained (counted, not hidden)."""
    counts = Counter((r.notification, r.channel) for r in ev.receipts
                     if 200 <= r.answered < 300 and not r.deduplicated)
    return sum(n - 1 for n in counts.values() if n > 1)


def attempts_match_effects(ev: Evidence) -> list[Violation]:
    out = []
    received = {(r.notification, r.channel, r.attempt) for r in ev.receipts}
    for name, versions in sorted(ev.notifications().items()):
        final = _final(versions)
        uid = final["metadata"]["uid"]
        recorded = {(uid, a.channel, a.attempt): a for a in ev.attempts(final)}
        for key in sorted(k for k in received if k[0] == uid):
            if key not in recorded:
                out.append(Violation(invariant="attempts-match-effects", notification=name, channel=key[1],
                                     message=f"received attempt {key[2]}, which the status never "
                                             f"recorded"))
        for key, attempt in sorted(recorded.items()):
            if attempt.channel.split(":")[0] not in ev.external_kinds:
                continue
            if attempt.status is AttemptStatus.SUCCESS and key not in received:
                out.append(Violation(invariant="attempts-match-effects", notification=name, channel=attempt.channel,
                                     message=f"attempt {attempt.attempt} is recorded as a success but "
                                             f"{attempt.channel} never received it"))
            if attempt.status is AttemptStatus.CANCELLED and key in received:
                out.append(Violation(invariant="attempts-match-effects", notification=name, channel=attempt.channel,
                                     message=f"attempt {attempt.attempt} is recorded as never sent (cancelled) "
                                             f"but {attempt.channel} received it"))
    return out


def counters_consistent(ev: Evidence) -> list[Violation]:
    out = []
    for name, versions in sorted(ev.notifications().items()):
        for change in versions:
            status = change.object.get("status")
            if not status:
                continue
            attempts = ev.attempts(change.object)
            ok, failed = count_deliveries(attempts)
            total = sum(1 for a in attempts if a.status not in NOT_ATTEMPTS)
            seen = (status.get("totalAttempts", 0), status.get("successfulDeliveries", 0),
                    status.get("failedDeliveries", 0))
            if seen != (total, ok, failed):
                out.append(Violation(invariant="counters-consistent", notification=name,
                                     message=f"rv {change.revision}: counters (total, successful, failed) = "
                                             f"{seen}, attempts say {(total, ok, failed)}", steps=(change.revision,)))
                break
    return out


def phase_transitions_legal(ev: Evidence) -> list[Violation]:
    out = []
    for name, versions in sorted(ev.notifications().items()):
        previous = Phase.NONE
        for change in versions:
            phase = Phase((change.object.get("status") or {}).get("phase", "") or "")
            if phase is not previous and phase not in TRANSITIONS[previous]:
                out.append(Violation(invariant="phase-transitions-legal", notification=name,
                                     message=f"rv {change.revision}: {previous.value or '(none)'} -> {phase.value}",
                                     steps=(change.revision,)))
                break
            previous = phase
    return out


def no_lost_attempts(ev: Evidence) -> list[Violation]:
    out = []
    for name, versions in sorted(ev.notifications().items()):
        seen: dict[tuple[str, str, int], int] = {}
        for change in versions:
            present = {a.identity for a in ev.attempts(change.object)}
            lost = sorted(identity for identity in seen if identity not in present)
            if lost and change.type != "DELETED":
                out.append(Violation(invariant="no-lost-attempts", notification=name, channel=lost[0][1],
                                     message=f"rv {change.revision} dropped attempt {lost[0][2]} of {lost[0][1]} "
                                             f"(persisted at rv {seen[lost[0]]})",
                                     steps=(seen[lost[0]], change.revision)))
                break
            for identity in present:
                seen.setdefault(identity, change.revision)
    return out


def retry_policy_respected(ev: Evidence) -> list[Violation]:
    out = []
    issues: dict[tuple[str, str], list[Step]] = defaultdict(list)
    for step in ev.steps:
        if step.kind == "http.issue":
            details = dict(step.details)
            issues[(str(details["uid"]), str(details["channel"]))].append(step)
    for name, versions in sorted(ev.notifications().items()):
        final = _final(versions)
        policy = RetryPolicy.from_spec(final.get("spec", {}).get("retryPolicy"))
        by_channel: dict[str, list[DeliveryAttempt]] = defaultdict(list)
        for attempt in ev.attempts(final):
            by_channel[attempt.channel].append(attempt)
        for channel, attempts in sorted(by_channel.items()):
            settled = [a for a in attempts if a.status not in NOT_ATTEMPTS]
            if len(settled) > policy.max_attempts:
                out.append(Violation(invariant="retry-policy-respected", notification=name, channel=channel,
                                     message=f"{len(settled)} attempts, more than maxAttempts {policy.max_attempts}"))
            permanent = [a.attempt for a in settled if a.permanent]
            if permanent and any(a.attempt > permanent[0] for a in settled):
                out.append(Violation(invariant="retry-policy-respected", notification=name, channel=channel,
                                     message=f"attempt after the permanent failure of attempt {permanent[0]}"))
            outcome = {a.attempt: a for a in settled}
            sends = issues.get((final["metadata"]["uid"], channel), [])
            for first, second in itertools.pairwise(sends):
                prev = outcome.get(int(str(dict(first.details)["attempt"])))
                if prev is None or prev.status is AttemptStatus.SUCCESS or not prev.retry_at:
                    continue
                low, _ = backoff_bounds(policy, prev.attempt)
                if second.time - first.time < low - 1e-6:
                    out.append(Violation(invariant="retry-policy-respected", notification=name, channel=channel,
                                         time=second.time, steps=(first.index, second.index),
                                         message=f"attempt {dict(second.details)['attempt']} came "
                                                 f"{second.time - first.time:.3f} s after attempt {prev.attempt}; "
                                                 f"the backoff lower bound is {low:.3f} s"))
    return out


def lock_safety(ev: Evidence) -> list[Violation]:
    out: list[Violation] = []
    leases: dict[str, list[Change]] = defaultdict(list)
    for change in ev.changes:
        if change.resource == LEASES:
            leases[change.object["metadata"]["name"]].append(change)
    renewals: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    for name, versions in sorted(leases.items()):
        last_by: dict[str, float] = {}
        previous = ""
        times = [_virtual(ev, c) for c in versions]
        before: tuple[str, str, int] | None = None  # (uid, holder, epoch) of the version before
        for change, when in zip(versions, times, strict=True):
            spec = change.object.get("spec", {})
            holder = str(spec.get("holderIdentity") or "")
            epoch = int(spec.get("leaseTransitions") or 0)
            uid = str(change.object["metadata"].get("uid", ""))
            owner = next((str(ref.get("name", "")) for ref in change.object["metadata"].get("ownerReferences") or ()
                          if ref.get("kind") == "NotificationRequest"), "")
            if before is not None and before[0] == uid and change.type != "DELETED":
                # The fencing epoch, over the Lease's whole history (releases included): it never goes down,
                # and every new tenure (another holder, or any holder after a release) raises it.
                if epoch < before[2]:
                    out.append(Violation(invariant="lock-safety", notification=owner, time=when,
                                         steps=(change.revision,),
                                         message=f"lease {name}'s epoch went down from {before[2]} to {epoch} "
                                                 f"({holder or 'released'})"))
                elif holder and holder != before[1] and epoch <= before[2]:
                    out.append(Violation(invariant="lock-safety", notification=owner, time=when,
                                         steps=(change.revision,),
                                         message=f"lease {name} went from {before[1] or 'released'} to {holder} "
                                                 f"without raising its epoch ({epoch})"))
            before = (uid, holder, epoch)
            if change.type == "DELETED":
                # A deleted Lease (the garbage collector's, once its notification is gone, or anyone's) ends
                # every tenure of it: its holder's next fence finds it gone, and a Lease created again under
                # the name is a new history, as its epoch is (the CAS of the write-ahead intent, not the Lease,
                # keeps two senders apart across the deletion; no-duplicate-delivery judges that).
                previous, last_by = "", {}
                continue
            if holder and previous and holder != previous and when - last_by.get(previous, when) < ev.lease_duration:
                out.append(Violation(invariant="lock-safety", notification=owner, time=when, steps=(change.revision,),
                                     message=f"lease {name} went from {previous} to {holder} "
                                             f"{when - last_by[previous]:.3f} s after {previous}'s last renewal"))
            if holder:
                last_by[holder] = when
                renew = parse_time(str(spec.get("renewTime") or "1970-01-01T00:00:00Z"))
                renewals[(holder, epoch)].append((change.revision, renew))
            previous = holder
    if ev.lock != "lease":
        return out
    intents: dict[tuple[str, str, int], float] = {}
    for change in ev.changes:
        if change.resource == NOTIFICATIONS:
            for attempt in ev.attempts(change.object):
                if attempt.status is AttemptStatus.PENDING:
                    intents.setdefault(attempt.identity, _virtual(ev, change))
    for step in ev.steps:
        if step.kind != "http.issue":
            continue
        d = dict(step.details)
        uid, channel, token = str(d["uid"]), str(d["channel"]), str(d["token"])
        number = int(str(d["attempt"]))
        name = ev.names.get(uid, uid)
        holder, _, held_epoch = token.partition("@")
        if not token or not held_epoch.isdigit():
            out.append(Violation(invariant="lock-safety", notification=name, channel=channel, time=step.time,
                                 steps=(step.index,), message=f"{step.actor} sent attempt {number} with no "
                                                              f"fencing token"))
            continue
        intent_at = intents.get((uid, channel, number))
        if intent_at is None or intent_at > step.time:
            out.append(Violation(invariant="lock-safety", notification=name, channel=channel, time=step.time,
                                 steps=(step.index,), message=f"{step.actor} sent attempt {number} with no "
                                                              f"intent persisted before it"))
        renewed = [renew for _, renew in renewals.get((holder, int(held_epoch)), [])]
        local = float(str(d.get("local_time") or 0.0))
        if not renewed or holder != step.actor:
            out.append(Violation(invariant="lock-safety", notification=name, channel=channel, time=step.time,
                                 steps=(step.index,), message=f"{step.actor} sent under token {token}, which it "
                                                              f"never held"))
        elif all(local >= renew + ev.lease_duration + MICRO_TIME for renew in renewed if renew <= local + MICRO_TIME):
            out.append(Violation(invariant="lock-safety", notification=name, channel=channel, time=step.time,
                                 steps=(step.index,), message=f"{step.actor} sent attempt {number} after its "
                                                              f"tenure {token} expired by its own clock"))
    return out


def _virtual(ev: Evidence, change: Change) -> float:
    return ev.commit_times.get(change.revision, 0.0)


def eventual_delivery(ev: Evidence) -> list[Violation]:
    if ev.no_progress is not None:
        return []  # the world never reached its quiet end: `no-progress` says why
    out = []
    deadline = ev.quiet_start + ev.bound
    for name, versions in sorted(ev.notifications().items()):
        if versions[-1].type == "DELETED":
            continue
        ended = next((c for c in versions if Phase((c.object.get("status") or {}).get("phase", "") or "") in TERMINAL),
                     None)
        if ended is None or _virtual(ev, ended) > deadline:
            phase = (versions[-1].object.get("status") or {}).get("phase", "")
            out.append(Violation(invariant="eventual-delivery", notification=name, time=deadline,
                                 message=f"not terminal {ev.bound:.0f} s after the quiet phase began "
                                         f"(phase {phase or '(none)'})"))
            continue
        final = _final(versions)
        delivered = {a.channel for a in ev.attempts(final) if a.status is AttemptStatus.SUCCESS}
        for channel in sorted(ev.healthy):
            used = {a.channel for a in ev.attempts(final)}
            if channel in used and channel not in delivered and not _faulted(ev, final, channel):
                out.append(Violation(invariant="eventual-delivery", notification=name, channel=channel,
                                     message=f"healthy channel {channel} was never delivered"))
    return out


def _faulted(ev: Evidence, obj: dict[str, Any], channel: str) -> bool:
    """A channel whose failures were injected or permanent is not judged healthy."""
    return any(a.channel == channel and a.status is not AttemptStatus.SUCCESS for a in ev.attempts(obj))


def audit_once(ev: Evidence) -> list[Violation]:
    """One `message.sent` per delivered channel, at most; none only where this notification's own history
    allows it: the replica that recorded the success crashed after the success was persisted and before it
    finished a reconcile of this notification (its audit call was still ahead, and its memory of the outcome
    died with it). Another replica's crash, or any crash outside that window, excuses nothing."""
    out = []
    commits: dict[int, int] = {}
    lives: dict[str, list[Step]] = defaultdict(list)  # per replica: its crashes and its ends of reconciles
    for step in ev.steps:
        if step.actor == "apiserver" and step.kind.startswith("commit."):
            commits[int(str(dict(step.details)["rv"]))] = step.index
        elif step.kind in ("replica.crash", "reconcile.end"):
            lives[step.actor].append(step)
    sent = Counter((e.resource_uid, e.payload.get("channel", "")) for e in ev.audit
                   if e.event_type == "notification.message.sent")
    final_events = Counter((e.resource_uid, e.event_type) for e in ev.audit if e.event_type in (
        "notification.message.acknowledged", "notification.message.escalated"))
    for name, versions in sorted(ev.notifications().items()):
        final = _final(versions)
        uid = final["metadata"].get("uid", "")
        successes = Counter(a.channel for a in ev.attempts(final) if a.status is AttemptStatus.SUCCESS)
        # An attempt whose outcome the status never got (claimed and still pending, or recorded as unknown)
        # may have been delivered too (at-least-once sent again): its sender audits it if the notification
        # was deleted before it could record the success it holds.
        unknown = Counter(a.channel for a in ev.attempts(final)
                          if a.status in (AttemptStatus.UNKNOWN, AttemptStatus.PENDING)
                          and versions[-1].type == "DELETED")
        for channel, deliveries in sorted(successes.items()):
            count = sent[(uid, channel)]
            if (count > deliveries + unknown[channel]
                    or (count == 0 and not _lost_with_a_crash(ev, versions, channel, commits, lives))):
                out.append(Violation(invariant="audit-once", notification=name, channel=channel,
                                     message=f"{count} message.sent events for {deliveries} recorded "
                                             f"deliveries" + (f" and {unknown[channel]} of unknown outcome"
                                                              if unknown[channel] else "")))
        for kind in ("notification.message.acknowledged", "notification.message.escalated"):
            if final_events[(uid, kind)] > 1:
                out.append(Violation(invariant="audit-once", notification=name,
                                     message=f"{final_events[(uid, kind)]} {kind} events"))
    return out


def caches_converge(ev: Evidence) -> list[Violation]:
    if ev.no_progress is not None:
        return []  # the world never reached its quiet end
    out = []
    for replica, cache in sorted(ev.caches.items()):
        if cache == ev.server_objects:
            continue
        missing = sorted(set(ev.server_objects) - set(cache))
        ghosts = sorted(set(cache) - set(ev.server_objects))
        stale = sorted(key for key in set(cache) & set(ev.server_objects) if cache[key] != ev.server_objects[key])
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"still holds deleted {', '.join(ghosts[:3])}"] if ghosts else []) + (
            [f"{key} at uid {cache[key][0][-6:]} rv {cache[key][1]}, the server's uid {ev.server_objects[key][0][-6:]} "
             f"rv {ev.server_objects[key][1]}" for key in stale[:3]])
        name = (missing or ghosts or stale)[0].partition("/")[2]
        out.append(Violation(invariant="caches-converge", notification=name, time=ev.end,
                             message=f"{replica}'s cache differs from the server at the end: {'; '.join(parts)}"))
    return out


def no_progress(ev: Evidence) -> list[Violation]:
    if ev.no_progress is None:
        return []
    time = ev.steps[-1].time if ev.steps else 0.0
    return [Violation(invariant="no-progress", notification=ev.no_progress_name, message=ev.no_progress, time=time)]


def _lost_with_a_crash(ev: Evidence, versions: list[Change], channel: str, commits: dict[int, int],
                       lives: dict[str, list[Step]]) -> bool:
    """Whether the replica that recorded a success of `channel` crashed after the success was persisted and
    before it ended a reconcile of this notification."""
    meta = versions[-1].object["metadata"]
    key = f"{meta.get('namespace', '')}/{meta['name']}"
    for change in versions:
        for attempt in ev.attempts(change.object):
            if attempt.channel == channel and attempt.status is AttemptStatus.SUCCESS:
                persisted = commits.get(change.revision, -1)
                for step in lives.get(attempt.replica, ()):
                    if step.index < persisted:
                        continue
                    if step.kind == "replica.crash":
                        return True
                    if dict(step.details).get("key") == key:
                        return False  # a reconcile ended: it audited what it persisted
                return False
    return False


CHECKS: Final[Mapping[str, Callable[[Evidence], list[Violation]]]] = {
    "no-duplicate-delivery": no_duplicate_delivery,
    "attempts-match-effects": attempts_match_effects,
    "counters-consistent": counters_consistent,
    "phase-transitions-legal": phase_transitions_legal,
    "no-lost-attempts": no_lost_attempts,
    "retry-policy-respected": retry_policy_respected,
    "lock-safety": lock_safety,
    "eventual-delivery": eventual_delivery,
    "audit-once": audit_once,
    "no-progress": no_progress,
    "caches-converge": caches_converge,
}


def check(ev: Evidence, names: list[str] | None = None) -> list[Violation]:
    """Every violation of the named invariants (all by default), in catalogue order."""
    out: list[Violation] = []
    for name in names or list(CHECKS):
        out.extend(CHECKS[name](ev))
    return out
