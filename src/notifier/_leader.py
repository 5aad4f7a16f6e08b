"""Leader election for the whole manager, on one Lease, as client-go's leaderelection does it.

The Lease is claimed with `LeaseClaimant` (expiry judged by the candidate's own observation, never by the
holder's timestamps; compare-and-swap writes). The leader renews every retry period and gives up when it
could not renew within the renew deadline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from notifier._lease import LeaseClaimant, Tenure
from notifier._ports import KubeApi, Runtime

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
        self._runtime = runtime
        self.config = config
        self.identity = identity
        self._claimant = LeaseClaimant(api, runtime, identity=identity, duration=config.lease_duration)
        self.tenure: Tenure | None = None

    @property
    def is_leader(self) -> bool:
        return self.tenure is not None

    async def try_acquire_or_renew(self) -> bool:
        """One round: take or renew the Lease if this candidate may; False if it may not or lost a race."""
        tenure = await self._claimant.claim(self.config.namespace, self.config.name)
        if tenure is None:
            return False
        self.tenure = tenure
        return True

    async def acquire(self) -> None:
        """Return once this candidate holds the Lease."""
        while not await self.try_acquire_or_renew():
            await self._runtime.sleep(self.config.retry_period)
        log.info("%s became leader on lease %s", self.identity, self.config.name)

    async def hold(self) -> None:
        """Renew until a renewal fails for a whole renew deadline; then return, no longer leader."""
        while True:
            await self._runtime.sleep(self.config.retry_period)
            deadline = self._runtime.now() + self.config.renew_deadline
            while not await self.try_acquire_or_renew():
                if self._runtime.now() >= deadline:
                    self.tenure = None
                    log.warning("%s lost lease %s", self.identity, self.config.name)
                    return
                await self._runtime.sleep(self.config.retry_period)

    async def release(self) -> None:
        """Give the Lease up if this candidate holds it; errors are only logged."""
        tenure, self.tenure = self.tenure, None
        if tenure is not None:
            await self._claimant.release(tenure)
