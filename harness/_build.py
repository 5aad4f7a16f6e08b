"""Building the world of one run: the scenario's replicas, controller (with any bug-zoo mutant), backends,
traffic and strategy, wired and ready to run."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Final

from fakes.backends import Receipt
from harness._rig import Rig
from harness._scenario import Scenario, TrafficSpec
from harness._sites import SiteTargets
from harness._strategies import STRATEGIES, PctScheduler, drawn_traffic, swarm
from harness._world import World
from notifier import NOTIFICATIONS, KubeApiError, KubeObject, clone


def build(scenario: Scenario, seed: int, *, strategy: str = "random", tape: list[int] | None = None,
          mutant: str | None = None, max_steps: int | None = None, wall_seconds: float | None = None,
          sites: SiteTargets | None = None, script: dict[str, int] | None = None
          ) -> tuple[World, Rig, PctScheduler | None]:
    """The world of one run, ready to `run`, with the controller installed.

    `max_steps` and `wall_seconds` override the scenario's budgets (`wall_seconds=inf`: no wall budget).
    With `sites` (targets, `harness._sites`), faults fire where they say and never by chance, and every other
    choice is the simplest unless `script` names it (`Choices`): the `sites` strategy's world, or any
    strategy's run scripted (a shrunk failure). The seed still seeds the controller's own randomness (its
    backoff jitter, through its RNG port), so the caller passes the seed a scripted run was found with, and 0
    for a run of the `sites` strategy, whose number is no seed.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    spec = scenario.world
    guarantees: dict[str, str] = {str(kind): str(value) for kind, value in spec.guarantees.items()}
    rig = Rig(routing=scenario.routing(), lock=spec.lock, guarantees=guarantees,
              lease_duration=spec.lease_duration,
              reload_routing=scenario.routing(scenario.reload_channels) if scenario.reload_channels else "")
    if mutant is not None:
        from harness.mutants import MUTANTS

        rig.mutations.append(MUTANTS[mutant])
    if strategy == "sites" and sites is None:
        seed, sites = 0, SiteTargets()
    if sites is not None:
        tape, script = None, script or {}
    world = World(seed=seed, reconciler=rig.reconciler, replicas=spec.replicas, workers=spec.workers,
                  fault_phase=scenario.phases.fault, leader_election=spec.leader_election,
                  lease_duration=spec.lease_duration, tape=tape, script=script,
                  garbage_collector=spec.garbage_collector,
                  max_steps=max_steps if max_steps is not None else spec.max_steps,
                  wall_seconds=_wall(wall_seconds if wall_seconds is not None else spec.wall_seconds))
    world.injector.intensities = swarm(world, scenario) if strategy == "swarm" else scenario.intensities()
    world.injector.sites = sites
    scheduler = PctScheduler(world, spec.replicas) if strategy == "pct" else None
    world.scheduler = scheduler
    traffic = [*scenario.traffic, *drawn_traffic(world, scenario, strategy)]
    world.traffic = traffic
    rig.install(world)
    for key in scenario.endpoint_keys():
        kind, _, name = key.partition(":")
        default, answers = scenario.behaviors(key)
        endpoint = world.backends.add(kind, name, default=default)
        endpoint.answer_with(*answers)
        endpoint.on_receipt.append(_tracer(world, key))
        rig.credentials[f"{kind}-{name}"] = endpoint.secret
    bodies: dict[str, KubeObject] = {}
    for spec_n in scenario.notifications:
        for i, name in enumerate(spec_n.names()):
            bodies[name] = notification_body(spec_n, name, world.namespace)
            world.at(spec_n.start + i * spec_n.every, _creator(world, bodies[name]), name=f"create-{name}")
    for step in traffic:
        world.at(step.at, _client(world, step, bodies[step.name]), name=f"client.{step.action}-{step.name}")
    return world, rig, scheduler


#: The finalizer another party (a backup tool, say) holds on a notification a `delete-held` action deletes.
HELD_BY: Final = "notifier-sim/held-by-another-party"


def _client(world: World, step: TrafficSpec, body: KubeObject) -> Callable[[], Coroutine[Any, Any, None]]:
    """A scripted client action (a burst if it repeats); what the server answered goes to the trace (a refusal
    is an outcome too)."""
    api, namespace, name = world.client_api, world.namespace, step.name

    async def once(index: int) -> None:
        value = step.value if step.repeat == 1 else f"{step.value}-{index}"
        try:
            if step.action == "delete-held":
                await api.patch(NOTIFICATIONS, namespace, name, {"metadata": {"finalizers": [HELD_BY]}})
                await api.delete(NOTIFICATIONS, namespace, name)
                world.client.spawn(_let_go(world, name, step.hold), name=f"client.let-go-{name}")
            elif step.action in ("delete", "recreate"):
                await api.delete(NOTIFICATIONS, namespace, name)
                if step.action == "recreate":
                    await api.create(NOTIFICATIONS, namespace, clone(body))
            elif step.action in ("label", "annotate"):
                field = "labels" if step.action == "label" else "annotations"
                patch = {"metadata": {field: {"notifier-sim/traffic": value}}}
                await api.patch(NOTIFICATIONS, namespace, name, patch)
            else:  # update-spec: the CRD makes the spec immutable
                await api.patch(NOTIFICATIONS, namespace, name, {"spec": {"subject": f"changed: {value}"}})
            outcome = "ok"
        except KubeApiError as error:
            outcome = type(error).__name__
        world.trace.record("client", f"client.{step.action}", name=name, outcome=outcome)

    async def act() -> None:
        for index in range(step.repeat):
            if index:
                await world.client.sleep(step.every)
            await once(index)
    return act


async def _let_go(world: World, name: str, after: float) -> None:
    """The other party removes its finalizer: the notification marked for deletion is deleted then."""
    await world.client.sleep(after)
    try:
        await world.client_api.patch(NOTIFICATIONS, world.namespace, name, {"metadata": {"finalizers": None}})
        outcome = "ok"
    except KubeApiError as error:
        outcome = type(error).__name__
    world.trace.record("client", "client.let-go", name=name, outcome=outcome)


def _wall(seconds: float) -> float | None:
    return None if seconds == float("inf") else seconds


def _tracer(world: World, lane: str) -> Callable[[Receipt], None]:
    def trace(receipt: Receipt) -> None:
        world.trace.record(lane, "backend.receipt", channel=receipt.channel, attempt=receipt.attempt,
                           replica=receipt.replica, status=receipt.answered, token=receipt.fencing_token)
    return trace


def _creator(world: World, body: KubeObject) -> Callable[[], Coroutine[Any, Any, KubeObject]]:
    return lambda: world.client_api.create(NOTIFICATIONS, world.namespace, body)


def notification_body(spec: Any, name: str, namespace: str = "default") -> KubeObject:
    """The NotificationRequest a scenario's notification spec creates under `name`."""
    body: KubeObject = {
        "apiVersion": NOTIFICATIONS.api_version, "kind": NOTIFICATIONS.kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"type": spec.type, "priority": spec.priority, "subject": spec.subject, "body": spec.body},
    }
    extensions = dict(spec.extensions)
    if spec.channels != "default":
        extensions["test-channel-set"] = spec.channels
    if extensions:
        body["spec"]["extensions"] = extensions
    for key, value in (("severity", spec.severity), ("reviewSource", spec.review_source),
                         ("context", spec.context)):
        if value:
            body["spec"][key] = value
    if spec.retry_policy is not None:
        body["spec"]["retryPolicy"] = spec.retry_policy.model_dump(by_alias=True)
    return body
