"""Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does it.

A candidate takes the Lease when it is free, or when the record it last observed has not changed for a whole
lease duration *by the candidate's own clock* (the holder's timestamps are never compared with local time,
so clock skew between replicas cannot shorten a lease). Every write is a compare-and-swap on the Lease's
resourceVersion, so two candidates can never both win the same round. The leader renews every retry period
and gives up when it could not renew within the renew deadline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from notifier._errors import AlreadyExistsError, ConflictError, KubeApiError, NotFoundError
from notifier._ports import KubeApi, KubeObject, Runtime
from notifier._resources import LEASES, format_micro_time

log = logging.getLogger("notifier.leader")


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderElectionConfig:
    """controller-runtime's defaults: 15 s lease, 10 s renew deadline, 2 s retry period."""

    namespace: str
    name: str = "notification.kubernaut.ai"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0


class LeaderElector:
    """One candidate for one Lease."""

    def __init__(self, api: KubeApi, runtime: Runtime, config: LeaderElectionConfig, identity: str) -> None:
        self._api = api
        self._runtime = runtime
        self.config = config
        self.identity = identity
        self._observed: tuple[str, str, int] | None = None
        self._observed_at = 0.0
        self.is_leader = False

    async def acquire(self) -> None:
        """Return once this candidate holds the Lease."""
        while not await self.try_acquire_or_renew():
            await self._runtime.sleep(self.config.retry_period)
        self.is_leader = True
        log.info("%s became leader on lease %s", self.identity, self.config.name)

    async def hold(self) -> None:
        """Renew until a renewal fails for a whole renew deadline; then return, no longer leader."""
        while True:
            await self._runtime.sleep(self.config.retry_period)
            deadline = self._runtime.now() + self.config.renew_deadline
            while not await self.try_acquire_or_renew():
                if self._runtime.now() >= deadline:
                    self.is_leader = False
                    log.warning("%s lost lease %s", self.identity, self.config.name)
                    return
                await self._runtime.sleep(self.config.retry_period)

    async def try_acquire_or_renew(self) -> bool:
        """One round: take or renew the Lease if this candidate may; False if it may not or lost a race."""
        now = self._runtime.now()
        cfg = self.config
        try:
            lease = await self._api.get(LEASES, cfg.namespace, cfg.name)
        except NotFoundError:
            return await self._create(now)
        except KubeApiError as error:
            log.warning("reading lease %s failed: %s", cfg.name, error)
            return False
        spec = lease.get("spec", {})
        record = (
            str(spec.get("holderIdentity") or ""),
            str(spec.get("renewTime") or ""),
            int(spec.get("leaseTransitions") or 0),
        )
        if record != self._observed:
            self._observed, self._observed_at = record, now
        holder = record[0]
        if holder and holder != self.identity and self._observed_at + cfg.lease_duration > now:
            return False
        new_spec = dict(spec)
        new_spec.update(
            holderIdentity=self.identity,
            leaseDurationSeconds=int(cfg.lease_duration),
            renewTime=format_micro_time(now),
        )
        if holder != self.identity:
            new_spec["acquireTime"] = format_micro_time(now)
            new_spec["leaseTransitions"] = record[2] + 1
        lease["spec"] = new_spec
        try:
            written = await self._api.update(LEASES, cfg.namespace, lease)
        except (ConflictError, NotFoundError):
            return False
        except KubeApiError as error:
            log.warning("renewing lease %s failed: %s", cfg.name, error)
            return False
        self._remember(written, now)
        return True

    async def _create(self, now: float) -> bool:
        cfg = self.config
        body: KubeObject = {
            "apiVersion": LEASES.api_version,
            "kind": LEASES.kind,
            "metadata": {"name": cfg.name, "namespace": cfg.namespace},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": int(cfg.lease_duration),
                "acquireTime": format_micro_time(now),
                "renewTime": format_micro_time(now),
                "leaseTransitions": 0,
            },
        }
        try:
            written = await self._api.create(LEASES, cfg.namespace, body)
        except (AlreadyExistsError, ConflictError):
            return False
        except KubeApiError as error:
            log.warning("creating lease %s failed: %s", cfg.name, error)
            return False
        self._remember(written, now)
        return True

    def _remember(self, lease: KubeObject, now: float) -> None:
        spec = lease.get("spec", {})
        self._observed = (
            str(spec.get("holderIdentity") or ""),
            str(spec.get("renewTime") or ""),
            int(spec.get("leaseTransitions") or 0),
        )
        self._observed_at = now

    async def release(self) -> None:
        """Give the Lease up (clear the holder) if this candidate holds it; errors are only logged."""
        if not self.is_leader:
            return
        self.is_leader = False
        cfg = self.config
        try:
            lease = await self._api.get(LEASES, cfg.namespace, cfg.name)
            if lease.get("spec", {}).get("holderIdentity") != self.identity:
                return
            lease["spec"]["holderIdentity"] = ""
            await self._api.update(LEASES, cfg.namespace, lease)
        except KubeApiError as error:
            log.warning("releasing lease %s failed: %s", cfg.name, error)
