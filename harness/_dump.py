"""A world's objects as `kubectl get notificationrequests,leases,events -A -o yaml` prints them, and the symptom
check of a scenario judged on them.

The objects are read through the fake server's own REST front (`fakes.apiserver._rest.Rest`), the code path its
HTTPS server answers kubectl with, one all-namespaces list per type; kubectl then joins the lists into one
`v1 List` and gives every item its `apiVersion` and `kind` (a list's items carry neither on the wire), which is
what `render` does too.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

from fakes.apiserver._rest import Request, Response, Rest
from fakes.apiserver._server import ApiServer
from harness._bridge import EPOCH
from harness._invariants import Evidence, Violation, no_duplicate_delivery
from harness._matching import features
from harness._observed import observe, symptoms
from notifier import EVENTS, LEASES, NOTIFICATIONS, ResourceType

#: What `kubectl get notificationrequests,leases,events -A` lists, in that order.
DUMPED: Final[tuple[ResourceType, ...]] = (NOTIFICATIONS, LEASES, EVENTS)


def render(server: ApiServer, *, now: float) -> dict[str, Any]:
    """The `kind: List` kubectl prints for the three types, across namespaces; `now` (seconds since the epoch)
    is the server's clock for anything it dates."""
    rest = Rest(server, clock=lambda: now)
    items: list[dict[str, Any]] = []
    for rt in DUMPED:
        answer = rest.handle(Request("GET", f"/apis/{rt.group}/{rt.version}/{rt.plural}"))
        if not isinstance(answer, Response) or answer.code != 200 or not isinstance(answer.body, dict):
            raise RuntimeError(f"listing {rt.plural} failed: {getattr(answer, 'body', answer)}")
        items += [{"apiVersion": rt.api_version, "kind": rt.kind, **item} for item in answer.body["items"]]
    return {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}


def render_world(world: Any) -> dict[str, Any]:
    """A simulated world's objects as kubectl prints them at the world's end."""
    return render(world.server, now=EPOCH + world.env.now)


def as_yaml(dump: dict[str, Any]) -> str:
    """The dump as `-o yaml` writes it (keys sorted, as kubectl's printer does)."""
    return yaml.safe_dump(dump, sort_keys=True, default_flow_style=False, width=1_000_000)


def judge_symptom(world: Any, evidence: Evidence, spec: Any) -> tuple[list[Violation], dict[str, Any]]:
    """Whether the world's end, as kubectl shows it, shows the scenario's symptom (a `symptom` violation), and
    the features it shows (`harness._matching.features`) for matching with a dump."""
    shown = observe(render_world(world)["items"], source="the simulated world", at=EPOCH + float(world.env.now))
    out = [Violation(invariant="symptom", notification=s.notification, channel=s.channel,
                     time=float(world.env.now), message=f"{s.kind}: {s.detail}")
           for s in symptoms(shown)
           if s.kind == spec.kind and s.notification == spec.notification and (not spec.channel or
                                                                              s.channel == spec.channel)]
    if not out and spec.told and spec.kind == "duplicate-delivery":
        # the user saw it at the channel, not in the dump: judged on what the channel received
        out = [Violation(invariant="symptom", notification=v.notification, channel=v.channel, time=v.time,
                         message=f"duplicate-delivery: {v.message}")
               for v in no_duplicate_delivery(evidence) if v.notification == spec.notification
               and (not spec.channel or v.channel == spec.channel)]
    return out[:1], features(shown)
