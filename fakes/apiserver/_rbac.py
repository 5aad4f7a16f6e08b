"""RBAC for the sandbox: a token may stand for a user bound to a Role's rules, and a request its rules do not
allow is a 403 with the real `Status` (apiserver `responsewriters.ForbiddenStatusError`).

A request's attributes are read from its path and method as apiserver's `RequestInfoFactory` reads them:
`get`, `list` and `watch` (GET of one, of a collection, with `watch=1`), `create`, `update`, `patch`,
`delete`, `deletecollection`, with the subresource joined to the resource (`notificationrequests/status`).
Paths that name no resource (discovery, `/version`, `/openapi`, health) are open to every authenticated
user, as the default `system:discovery` and `system:public-info-viewer` bindings make them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from notifier import ForbiddenError


@dataclass(frozen=True, slots=True)
class Rule:
    """One PolicyRule: the API groups, resources and verbs it grants ("*" for any)."""

    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]

    def allows(self, group: str, resource: str, verb: str) -> bool:
        return (("*" in self.api_groups or group in self.api_groups)
                and ("*" in self.resources or resource in self.resources)
                and ("*" in self.verbs or verb in self.verbs))


@dataclass(frozen=True, slots=True)
class Subject:
    """A user and what it may do; `rules` None: everything (the sandbox's admin)."""

    name: str
    rules: tuple[Rule, ...] | None = None

    @classmethod
    def from_role(cls, name: str, role: Mapping[str, Any]) -> Subject:
        """The user bound to a Role or ClusterRole manifest (its `rules`)."""
        return cls(name, tuple(Rule(tuple(r.get("apiGroups") or ()), tuple(r.get("resources") or ()),
                                    tuple(r.get("verbs") or ())) for r in role.get("rules") or ()))


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a request does, for authorization (`authorizer.Attributes`)."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        return bool(self.resource)


def attributes(method: str, target: str) -> Attributes:
    """`RequestInfoFactory.NewRequestInfo`, for the paths this server serves."""
    split = urlsplit(target)
    parts = [p for p in split.path.split("/") if p]
    query = parse_qs(split.query)
    verb = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, method.lower())
    if len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    elif len(parts) >= 2 and parts[0] == "api":
        group, rest = "", parts[2:]
    else:
        return Attributes(verb=verb, path=split.path)
    if not rest:
        return Attributes(verb=verb, path=split.path)
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    elif rest[0] == "namespaces" and len(rest) == 2:
        return Attributes(verb=verb, resource="namespaces", name=rest[1], path=split.path)
    resource, name, sub = rest[0], rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else ""
    if not name:
        if verb == "get":
            verb = "watch" if query.get("watch", [""])[-1] in ("1", "true", "True") else "list"
        elif verb == "delete":
            verb = "deletecollection"
    return Attributes(verb, group, resource, sub, namespace, name, split.path)


def authorize(subject: Subject, request: Attributes) -> None:
    """Nothing if `subject` may do `request`; otherwise the 403 the real server answers."""
    if subject.rules is None or not request.is_resource:
        return
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    if any(rule.allows(request.group, resource, request.verb) for rule in subject.rules):
        return
    where = f'in the namespace "{request.namespace}"' if request.namespace else "at the cluster scope"
    why = (f'User "{subject.name}" cannot {request.verb} resource "{resource}" in API group "{request.group}" '
           f"{where}")
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    named = f'{qualified} "{request.name}"' if request.name else qualified
    message = f"{named} is forbidden: {why}"
    raise ForbiddenError(message, details={"name": request.name, "group": request.group, "kind": request.resource})


