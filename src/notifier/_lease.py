"""Claiming `coordination.k8s.io/v1` Leases, as client-go does, and the per-notification delivery lock.

A claimant takes a Lease when it is free (no holder), or when the record it last observed has not changed for
a whole lease duration *by its own clock*: the holder's timestamps are never compared with local time, so a
skewed clock cannot shorten a lease. Every write is a compare-and-swap on resourceVersion. A takeover bumps
`leaseTransitions`, which is the fencing epoch: the token `<holder>@<transitions>` names one tenure.

`DeliveryLock` (DESIGN section 4) holds one Lease per notification while external sends happen, checks it
is still the same tenure immediately before each send, and frees it when the notification is done.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from notifier._errors import AlreadyExistsError, ConflictError, KubeApiError, NotFoundError
from notifier._ports import KubeApi, KubeObject, Runtime
from notifier._resources import LEASES, format_micro_time

log = logging.getLogger("notifier.lease")


@dataclass(frozen=True, slots=True, kw_only=True)
class Tenure:
    """One holder's hold on one Lease: what a send is fenced with."""

    namespace: str
    name: str
    holder: str
    transitions: int
    #: When this claimant last wrote the Lease, by its own clock: the hold is good until + duration.
    renewed_at: float
    duration: float

    @property
    def token(self) -> str:
        return f"{self.holder}@{self.transitions}"

    def expired(self, now: float) -> bool:
        return now >= self.renewed_at + self.duration


class LeaseClaimant:
    """One identity claiming Leases in one namespace; remembers what it observed of each."""

    def __init__(self, api: KubeApi, runtime: Runtime, *, identity: str, duration: float) -> None:
        self._api = api
        self._runtime = runtime
        self.identity = identity
        self.duration = duration
        self._observed: dict[tuple[str, str], tuple[tuple[str, str, int], float]] = {}

    async def claim(self, namespace: str, name: str, *, owner: KubeObject | None = None) -> Tenure | None:
        """Take or renew the Lease; None if another holder's tenure is live or a race was lost."""
        try:
            lease, now = await self.observe(namespace, name)
        except NotFoundError:
            return await self._create(namespace, name, self._runtime.now(), owner)
        except KubeApiError as error:
            log.warning("reading lease %s failed: %s", name, error)
            return None
        spec = lease.get("spec", {})
        record = (str(spec.get("holderIdentity") or ""), str(spec.get("renewTime") or ""),
                  int(spec.get("leaseTransitions") or 0))
        seen = self._observed.get((namespace, name))
        if seen is None or seen[0] != record:
            self._observed[(namespace, name)] = (record, now)
            seen_at = now
        else:
            seen_at = seen[1]
        holder, _, transitions = record
        if holder and holder != self.identity and seen_at + self.duration > now:
            return None
        new_spec = dict(spec)
        new_spec.update(holderIdentity=self.identity, leaseDurationSeconds=int(self.duration),
                        renewTime=format_micro_time(now))
        if holder != self.identity:
            transitions += 1
            new_spec.update(acquireTime=format_micro_time(now), leaseTransitions=transitions)
        lease["spec"] = new_spec
        return await self._write("writing", name, self._api.update(LEASES, namespace, lease),
                                 (ConflictError, NotFoundError), now)

    async def observe(self, namespace: str, name: str) -> tuple[KubeObject, float]:
        """GET the Lease, and the local time at which its record was observed.

        The time is read *after* the GET returns, as client-go's `tryAcquireOrRenew` stamps `observedTime`
        after its read: a claimant paused during the GET must not date the record it got back to before the
        pause, or it would count the pause as the holder's silence and take over a live Lease.
        """
        lease = await self._api.get(LEASES, namespace, name)
        return lease, self._runtime.now()

    async def _create(self, namespace: str, name: str, now: float, owner: KubeObject | None) -> Tenure | None:
        metadata: dict[str, object] = {"name": name, "namespace": namespace}
        if owner is not None:
            meta = owner.get("metadata", {})
            metadata["ownerReferences"] = [{"apiVersion": owner.get("apiVersion", ""), "kind": owner.get("kind", ""),
                                            "name": meta.get("name", ""), "uid": meta.get("uid", "")}]
        body: KubeObject = {
            "apiVersion": LEASES.api_version, "kind": LEASES.kind, "metadata": metadata,
            "spec": {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.duration),
                     "acquireTime": format_micro_time(now), "renewTime": format_micro_time(now),
                     "leaseTransitions": 0},
        }
        return await self._write("creating", name, self._api.create(LEASES, namespace, body),
                                 (AlreadyExistsError, ConflictError), now)

    async def _write(self, doing: str, name: str, write: Awaitable[KubeObject],
                     lost: tuple[type[KubeApiError], ...], now: float) -> Tenure | None:
        """Await a write of the Lease: the tenure it gives, or None if another writer won (`lost`) or it
        failed (logged)."""
        try:
            written = await write
        except lost:
            return None
        except KubeApiError as error:
            log.warning("%s lease %s failed: %s", doing, name, error)
            return None
        return self._hold(written, now)

    def _hold(self, lease: KubeObject, now: float) -> Tenure:
        meta, spec = lease["metadata"], lease["spec"]
        record = (self.identity, str(spec.get("renewTime") or ""), int(spec.get("leaseTransitions") or 0))
        self._observed[(meta["namespace"], meta["name"])] = (record, now)
        return Tenure(namespace=meta["namespace"], name=meta["name"], holder=self.identity,
                      transitions=record[2], renewed_at=now, duration=self.duration)

    async def still_held(self, tenure: Tenure) -> bool:
        """The fence: this tenure has not expired by our clock and the Lease still names it."""
        if tenure.expired(self._runtime.now()):
            return False
        try:
            lease = await self._api.get(LEASES, tenure.namespace, tenure.name)
        except KubeApiError:
            return False
        spec = lease.get("spec", {})
        return _names(spec, tenure) and not tenure.expired(self._runtime.now())

    async def release(self, tenure: Tenure) -> None:
        """Clear the holder (the Lease stays, so the next tenure's epoch is higher); errors only logged."""
        try:
            lease = await self._api.get(LEASES, tenure.namespace, tenure.name)
            spec = lease.get("spec", {})
            if not _names(spec, tenure):
                return
            spec["holderIdentity"] = ""
            await self._api.update(LEASES, tenure.namespace, lease)
        except KubeApiError as error:
            log.warning("releasing lease %s failed: %s", tenure.name, error)
        self._observed.pop((tenure.namespace, tenure.name), None)


def _names(spec: dict[str, object], tenure: Tenure) -> bool:
    """Whether a Lease spec still names this tenure (same holder, same epoch)."""
    transitions = spec.get("leaseTransitions") or 0
    return spec.get("holderIdentity") == tenure.holder and int(str(transitions)) == tenure.transitions


def delivery_lease_name(uid: str) -> str:
    """`notification-delivery-<16 hex of sha256(uid)>`."""
    return f"notification-delivery-{hashlib.sha256(uid.encode()).hexdigest()[:16]}"


class DeliveryLock:
    """The per-notification Lease that external sends happen under (30 s by default)."""

    def __init__(self, api: KubeApi, runtime: Runtime, *, identity: str, duration: float = 30.0,
                 claimant: type[LeaseClaimant] = LeaseClaimant) -> None:
        self.claimant = claimant(api, runtime, identity=identity, duration=duration)

    async def acquire(self, notification: KubeObject) -> Tenure | None:
        meta = notification["metadata"]
        return await self.claimant.claim(meta["namespace"], delivery_lease_name(meta["uid"]), owner=notification)

    async def fence(self, tenure: Tenure) -> bool:
        return await self.claimant.still_held(tenure)

    async def release(self, tenure: Tenure) -> None:
        await self.claimant.release(tenure)
