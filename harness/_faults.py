"""The fault catalogue and the injector that decides, from the world's choices, where each fault fires.

Every decision is a draw from the world's one choice source, so a run replays from its tape. Every fire is
counted and traced (`fault.<name>`), so a report can show that a fault a run asked for really happened and
what it did. Faults fire only in the fault phase; the quiet phase after it is where liveness is judged.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import httpx
import simpy

from harness._bridge import SimRuntime
from harness._choices import Choices
from harness._sites import Firing, Site, SiteTargets
from harness._sites import seconds as sites_seconds
from harness._trace import Trace
from notifier import (
    ConflictError,
    KubeApiError,
    KubeTimeoutError,
    KubeUnavailableError,
    ResourceType,
    TooManyRequestsError,
)


class World(Protocol):
    """What the injector needs of a world (`harness._world.World` is one): its choices, trace, clock and phase."""

    choices: Choices
    trace: Trace
    env: simpy.Environment
    lease_duration: float
    scheduler: Any

    def in_fault_phase(self) -> bool: ...

    def subject(self, resource: str, name: str) -> str: ...


class Replica(Protocol):
    """What the faults need of a replica (`harness._world.Replica` is one): its name, runtime and fate."""

    name: str
    index: int
    runtime: SimRuntime
    partitioned_until: float

    def crash(self) -> None: ...

    def pause(self, seconds: float) -> None: ...

#: Every fault, by its public name, with what it does.
FAULTS: Final[Mapping[str, str]] = {
    "api.latency": "an API call takes a drawn time before it reaches the server",
    "api.conflict": "a write fails with 409 Conflict before it is applied",
    "api.error": "an API call fails with 500 before it is applied",
    "api.timeout-before-apply": "an API call times out and was never applied",
    "api.timeout-after-apply": "a write is applied, then the caller sees a timeout",
    "api.throttle": "the API server sheds a request unprocessed: 429 with a drawn Retry-After (1 s up to "
                    "max_seconds)",
    "watch.delay": "watch events reach a replica late (its cache is stale meanwhile)",
    "watch.disconnect": "a watch stream ends; the informer watches again from its last version",
    "watch.compact": "the server compacts its history; a watch from an older version gets 410 Gone",
    "informer.stale-view": "a cache read returns an older version the informer had seen",
    "informer.hold-event": "a watch event is overtaken by the next one for the same object (never seen)",
    "reconcile.concurrent": "a second reconcile of the same key runs at once, bypassing the workqueue",
    "replica.crash": "a replica dies at an await point and restarts later with empty memory",
    "replica.pause": "a replica freezes past its lease expiry, then resumes where it was",
    "replica.clock-skew": "a replica's clock is off by a drawn offset for the whole run",
    "replica.partition": "a replica cannot reach the API server for a drawn time",
    "http.status": "a backend answers 503 without processing the request",
    "http.latency": "a backend request takes a drawn time",
    "http.timeout-after-receive": "a backend receives the message, then the response is lost (a timeout)",
    "http.reset": "the connection is reset before the backend receives anything",
    "http.rate-limit": "a backend answers 429 with Retry-After",
    "http.tls-error": "the TLS handshake fails (a permanent error)",
    "file.write-error": "writing a file delivery fails (disk full)",
    "routing.reload": "the routing file is reloaded in the middle of retries",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultIntensity:
    """How often a fault fires per opportunity, and the longest time it draws (delays, pauses, downtime)."""

    probability: float = 0.0
    max_seconds: float = 0.0


class Injector:
    """Draws fault decisions for one world and counts them."""

    def __init__(self, world: World, intensities: Mapping[str, FaultIntensity]) -> None:
        unknown = sorted(set(intensities) - set(FAULTS))
        if unknown:
            raise ValueError(f"unknown faults {unknown!r}; known: {sorted(FAULTS)}")
        self.world = world
        self.intensities = dict(intensities)
        self.fired: Counter[str] = Counter()
        #: The `sites` strategy's targets: then a fault fires where they say, never by chance.
        self.sites: SiteTargets | None = None
        #: What fired where, in order, with how long it delayed its actor (None: not a delay): any run's
        #: faults as explicit firings (`harness._sites`), which the shrinker replays without a tape.
        self.log: list[tuple[Firing, float | None]] = []
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._passages: Counter[tuple[str, str]] = Counter()

    def fires(self, fault: str, who: str, *, place: str | None = None, **details: Any) -> FaultIntensity | None:
        """Whether `fault` fires now for `who`, at `place` (the injection site, by default the fault's name);
        `details` go to the trace when it does."""
        intensity = self.intensities.get(fault)
        if intensity is None or intensity.probability <= 0 or not self.world.in_fault_phase():
            return None
        where = place or fault
        key = (who, where, fault)
        occurrence = self._counts[key] = self._counts.get(key, 0) + 1  # asked once per passage of its place
        if self.sites is not None:
            firing = Firing(Site(who, where, occurrence), fault)
            if not self.sites.decide(firing, self.world.env.now):
                return None
        elif self.world.choices.chance(fault, intensity.probability, at=f"{who}, {where}"):
            firing = Firing(Site(who, where, occurrence), fault)  # built only when it fires: most calls do not
        else:
            return None
        self.log.append((firing, None))
        if self.sites is not None and (passages := self._passages.get((who, where))):
            self.sites.fired_at[firing] = Site(who, where, passages)
        self.fired[fault] += 1
        self.world.trace.record(who, f"fault.{fault}", **details)
        return intensity

    def seconds(self, fault: str, who: str, intensity: FaultIntensity, low: float = 0.0) -> float:
        """How long the delay of `fault`, which just fired, lasts."""
        firing = self.log[-1][0]
        if self.sites is not None:
            chosen = self.sites.durations.get(firing, sites_seconds(fault, low, intensity.max_seconds))
            self.sites.delayed(chosen)
        else:
            chosen = self.world.choices.uniform(f"{fault}.seconds", low, max(low, intensity.max_seconds),
                                                at=str(firing.site))
        self.log[-1] = (firing, chosen)
        return chosen

    def passing(self, who: str, place: str) -> Site | None:
        """`who` passes `place` now (an await point, a watch event sent its way): in a scripted run, noted."""
        if self.sites is None:
            return None
        self._passages[(who, place)] += 1
        site = Site(who, place, self._passages[(who, place)])
        self.sites.passed[site] = self.world.env.now
        return site

    def applying(self, who: str, place: str) -> None:
        """The call `who` made at its last passage of `place` reaches the server now."""
        passages = self._passages.get((who, place))
        if self.sites is not None and passages:
            # once: a call reaches the server once
            self.sites.applied.setdefault(Site(who, place, passages), self.world.env.now)

    def arrived(self, site: Site) -> None:
        """What `who` passed at `site` (a watch event) reaches it now."""
        if self.sites is not None:
            self.sites.applied[site] = self.world.env.now

    def decision_point(self, replica: Replica, where: str, place: str | None = None) -> None:
        """An await point of a replica: it may crash or freeze here."""
        if replica.runtime.dead:
            return
        self.passing(replica.name, place or where)
        if self.fires("replica.crash", replica.name, place=place or where, at=where):
            replica.crash()
        elif (pause := self.fires("replica.pause", replica.name, place=place or where, at=where)) is not None:
            lease = self.world.lease_duration
            replica.pause(self.seconds("replica.pause", replica.name, pause, low=lease + 1.0))


class ReplicaApiFaults:
    """`ApiFaults` for one replica: the api.*, watch.* and informer.hold-event faults, partitions, crashes."""

    def __init__(self, injector: Injector, replica: Replica) -> None:
        self._injector = injector
        self._replica = replica
        #: The watch events on their way, by place, as the sites they were sent at (a scripted run's timing).
        self._coming: dict[str, deque[Site]] = defaultdict(deque)

    def _partitioned(self) -> bool:
        return self._replica.partitioned_until > self._injector.world.env.now

    def _place(self, what: str, resource: ResourceType, name: str) -> str:
        """The injection site's place: what happens, to which resource, about which notification."""
        subject = self._injector.world.subject(resource.plural, name) if name else ""
        return f"{what} {resource.plural} {subject}".rstrip()

    def latency(self, verb: str, resource: ResourceType, name: str) -> float:
        place = self._place(f"api.{verb}", resource, name)
        if verb == "watch":
            # A replica watches a resource on one stream: a new one means the last one ended, and what it
            # still held never arrives.
            for key in [key for key in self._coming if key.startswith(f"watch {resource.plural}")]:
                del self._coming[key]
        self._injector.decision_point(self._replica, f"api.{verb}", place)
        scheduler = self._injector.world.scheduler
        extra = scheduler.delay(self._replica.index) if scheduler is not None else 0.0
        intensity = self._injector.fires("api.latency", self._replica.name, place=place, verb=verb)
        drawn = 0.0 if intensity is None else self._injector.seconds("api.latency", self._replica.name, intensity)
        return extra + drawn

    def before_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        who, place = self._replica.name, self._place(f"api.{verb}", resource, name)
        self._injector.applying(who, place)
        if self._partitioned():
            return KubeUnavailableError(f"{verb} {resource.plural}/{name}: connection refused (partitioned)", code=0)
        if verb in ("update", "update_status", "patch") and self._injector.fires("api.conflict", who, place=place,
                                                                                          name=name):
            return ConflictError(f"injected conflict on {verb} of {resource.plural} {name!r}")
        if self._injector.fires("api.error", who, place=place, verb=verb, name=name):
            return KubeUnavailableError(f"injected error on {verb} of {resource.plural} {name!r}", code=500)
        if self._injector.fires("api.timeout-before-apply", who, place=place, verb=verb, name=name):
            return KubeTimeoutError(f"injected timeout on {verb} of {resource.plural} {name!r}")
        throttle = self._injector.fires("api.throttle", who, place=place, verb=verb, name=name)
        if throttle is not None:
            # As max-in-flight and APF answer: whole seconds, at least 1 (`Retry-After` is an integer).
            wait = max(1, round(self._injector.seconds("api.throttle", who, throttle, low=1.0)))
            return TooManyRequestsError("Too many requests, please try again later.",
                                        details={"retryAfterSeconds": wait})
        return None

    def after_apply(self, verb: str, resource: ResourceType, name: str) -> KubeApiError | None:
        if verb in ("create", "update", "update_status", "patch", "delete") and self._injector.fires(
                "api.timeout-after-apply", self._replica.name, place=self._place(f"api.{verb}", resource, name),
                verb=verb, name=name):
            return KubeTimeoutError(f"injected timeout on {verb} of {resource.plural} {name!r}")
        return None

    def watch_delay(self, resource: ResourceType, name: str) -> float:
        place = self._place("watch", resource, name)
        if (site := self._injector.passing(self._replica.name, place)) is not None:
            self._coming[place].append(site)
        intensity = self._injector.fires("watch.delay", self._replica.name, place=place)
        return 0.0 if intensity is None else self._injector.seconds("watch.delay", self._replica.name, intensity)

    def watch_disconnect(self, resource: ResourceType, name: str) -> bool:
        place = self._place("watch", resource, name)
        if self._coming.get(place):
            self._injector.arrived(self._coming[place].popleft())
        return self._partitioned() or self._injector.fires("watch.disconnect", self._replica.name,
                                                           place=place) is not None

    def watch_coalesce(self, resource: ResourceType, name: str) -> bool:
        place = self._place("watch", resource, name)
        if self._injector.fires("informer.hold-event", self._replica.name, place=place) is None:
            return False
        if self._coming.get(place):
            # the events on their way for this object are overtaken by the one just sent: only it arrives
            self._coming[place] = deque([self._coming[place][-1]])
        return True


class FaultyTransport(httpx.AsyncBaseTransport):
    """A replica's way out to the backends: traces each send as issued, and injects the http.* faults."""

    def __init__(self, inner: httpx.AsyncBaseTransport, injector: Injector, replica: Replica) -> None:
        self._inner = inner
        self._injector = injector
        self._replica = replica

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        replica, injector = self._replica, self._injector
        who = replica.name
        headers = request.headers
        injector.world.trace.record(
            who, "http.issue", uid=headers.get("X-Notifier-Notification", ""),
            channel=headers.get("X-Notifier-Channel", ""), attempt=int(headers.get("X-Notifier-Attempt", "0") or 0),
            token=headers.get("X-Notifier-Fencing-Token", ""), local_time=round(replica.runtime.now(), 6))
        subject = injector.world.subject("notificationrequests", headers.get("X-Notifier-Notification", ""))
        place = f"http.send {headers.get('X-Notifier-Channel', '')} {subject}".rstrip()
        injector.decision_point(replica, "http.send", place)
        await replica.runtime.sleep(0)
        injector.applying(who, place)  # the request leaves (a reset or TLS error may meet it)
        if injector.fires("http.reset", who, place=place):
            raise httpx.ConnectError("connection reset by peer", request=request)
        if injector.fires("http.tls-error", who, place=place):
            raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request)
        if (slow := injector.fires("http.latency", who, place=place)) is not None:
            await replica.runtime.sleep(injector.seconds("http.latency", who, slow))
        if injector.fires("http.status", who, place=place):
            return httpx.Response(503, text="injected: service unavailable", request=request)
        if injector.fires("http.rate-limit", who, place=place):
            return httpx.Response(429, text="injected: rate limited", headers={"Retry-After": "1"}, request=request)
        response = await self._inner.handle_async_request(request)
        if injector.fires("http.timeout-after-receive", who, place=place):
            raise httpx.ReadTimeout("injected: the response was lost", request=request)
        return response


def faulty_writer(injector: Injector, replica: Replica,
                  inner: Callable[[Any, bytes], None]) -> Callable[[Any, bytes], None]:
    """The file channel's writer with `file.write-error` injected."""

    def write(path: Any, data: bytes) -> None:
        if injector.fires("file.write-error", replica.name, place="file.write"):
            raise OSError(28, "No space left on device (injected)")
        inner(path, data)

    return write
