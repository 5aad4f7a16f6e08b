"""The Kubernetes REST API over the in-memory `ApiServer`: paths, verbs, discovery, `Status` bodies and
server-side tables, as pure functions of a request (no sockets; `_http` serves them).

What is spoken is what our controller and kubectl use: discovery (`/version`, `/api`, `/apis`, each group
and its resource list with short names), namespaced custom objects and their status subresource, Leases and
Events, list (all namespaces too, `fieldSelector` on name and namespace), JSON merge patch, delete with
DeleteOptions' preconditions (uid, resourceVersion), `dryRun=All` on every write, the NotificationRequest CRD
itself (read-only), and `Table` answers built from the CRD's additionalPrinterColumns when a client asks for
`as=Table`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import yaml

from fakes.apiserver._apply import apply, record_update, without_nulls
from fakes.apiserver._builtin import builtin_schema
from fakes.apiserver._list import ListOptions
from fakes.apiserver._options import (
    OPTIONS,
    YamlLoader,
    decode_json,
    dry_run_of,
    invalid_list_option,
    invalid_option,
    invalid_patch_option,
    string_keys,
    true,
    watch_options,
)
from fakes.apiserver._patch import json_patch, merge_patch, strategic_merge_patch
from fakes.apiserver._schema import unknown_fields
from fakes.apiserver._select import Selector
from fakes.apiserver._server import ApiServer
from fakes.apiserver._tables import table
from fakes.apiserver._watch import Watcher
from notifier import (
    EVENTS,
    LEASES,
    NOTIFICATIONS,
    BadRequestError,
    InvalidError,
    KubeApiError,
    KubeObject,
    NotFoundError,
    ResourceType,
    clone,
    crd_manifest,
    format_time,
)

KUBERNETES_VERSION: Final = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-notifier-sim",
                             "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                             "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
                             "platform": "linux/amd64"}
CRD_RESOURCE: Final = ResourceType(group="apiextensions.k8s.io", version="v1", plural="customresourcedefinitions",
                                   kind="CustomResourceDefinition")
_VERBS: Final = ["create", "delete", "get", "list", "patch", "update", "watch"]
JSON_PATCH: Final = "application/json-patch+json"
MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_PATCH: Final = "application/strategic-merge-patch+json"
APPLY_PATCH: Final = "application/apply-patch+yaml"


@dataclass(frozen=True, slots=True)
class Served:
    """One resource type as discovery describes it."""

    resource: ResourceType
    singular: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status: bool = False
    namespaced: bool = True
    verbs: tuple[str, ...] = tuple(_VERBS)


def _served() -> tuple[Served, ...]:
    names = crd_manifest()["spec"]["names"]
    return (
        Served(NOTIFICATIONS, names["singular"], tuple(names.get("shortNames", ())),
               tuple(names.get("categories", ())), status=True),
        Served(LEASES, "lease"),
        Served(EVENTS, "event", ("ev",)),
        Served(CRD_RESOURCE, "customresourcedefinition", ("crd", "crds"), namespaced=False, verbs=("get", "list")),
    )


@dataclass(slots=True)
class Request:
    method: str
    target: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), "")


@dataclass(slots=True)
class Response:
    code: int
    body: Any
    content_type: str = "application/json"
    #: `Warning` headers, each `299 - "<text>"` (apimachinery `net.NewWarningHeader`).
    warnings: list[str] = field(default_factory=list)
    #: A `Retry-After` header's seconds, when not 0.
    retry_after: int = 0

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """A watch to stream: the handler opens it on the server and writes events until it ends."""

    resource: ResourceType
    namespace: str | None
    resource_version: str
    bookmarks: bool
    timeout_seconds: float | None
    selector: Selector
    as_table: bool
    send_initial_events: bool = False

    def open(self, server: ApiServer) -> Watcher:
        """Open it on the server."""
        return server.watch(self.resource, self.namespace, self.resource_version, bookmarks=self.bookmarks,
                            selector=self.selector, send_initial_events=self.send_initial_events)


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """A `Status` failure body, as every API error is sent: a `continue` in the details goes into its list
    metadata (a 410 on an expired continue), `retryAfterSeconds` also into a `Retry-After` header
    (`responsewriters.ErrorNegotiated`)."""
    details = dict(details or {})
    metadata = {"continue": details.pop("continue")} if "continue" in details else {}
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": metadata, "status": "Failure",
                            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return Response(code, body, retry_after=int(details.get("retryAfterSeconds") or 0))


def error_response(error: KubeApiError) -> Response:
    return status(error.code or 500, error.reason, error.full_message, error.details)


def wants_table(request: Request) -> bool:
    return "as=Table" in request.header("Accept")


class Rest:
    """Answers one request against `server`. Not thread-safe: the caller serialises calls.

    Args:
        clock: seconds since the epoch, for the Age column.
    """

    def __init__(self, server: ApiServer, *, clock: Callable[[], float]) -> None:
        self.server = server
        self._clock = clock
        self.served = _served()
        self._crd = crd_manifest()
        self._crd["metadata"].update(uid="00000000-0000-4000-8000-00000000c4d0", resourceVersion="1",
                                     creationTimestamp=format_time(clock()), generation=1)
        self._crd["status"] = {"acceptedNames": self._crd["spec"]["names"], "storedVersions": ["v1alpha1"],
                               "conditions": [{"type": t, "status": "True", "reason": r, "message": m,
                                               "lastTransitionTime": self._crd["metadata"]["creationTimestamp"]}
                                              for t, r, m in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                                                              ("Established", "InitialNamesAccepted",
                                                               "the initial names have been accepted"))]}

    # -- entry ---------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | WatchRequest:
        split = urlsplit(request.target)
        query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        parts = [part for part in split.path.split("/") if part]
        try:
            return self._route(request, parts, query)
        except KubeApiError as error:
            return error_response(error)

    def _route(self, request: Request, parts: list[str], query: dict[str, str]) -> Response | WatchRequest:
        if parts in (["healthz"], ["readyz"], ["livez"]):
            return Response(200, "ok", "text/plain")
        if parts and parts[0] == "openapi":
            return self._only_get(request, lambda: self._openapi(parts[1:]))
        if parts == ["version"]:
            return self._only_get(request, lambda: Response(200, KUBERNETES_VERSION))
        if parts == ["api"]:
            return self._only_get(request, lambda: Response(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}))
        if parts == ["api", "v1"]:
            return self._only_get(request, lambda: Response(200, {
                "kind": "APIResourceList", "groupVersion": "v1", "resources": [
                    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
                     "verbs": ["get", "list"], "shortNames": ["ns"]}]}))
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) <= 4:
            return self._only_get(request, lambda: self._namespaces(parts[3] if len(parts) == 4 else None))
        if parts == ["apis"]:
            return self._only_get(request, lambda: Response(200, {
                "kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group(g) for g in self._groups()]}))
        if len(parts) >= 2 and parts[0] == "apis":
            group = parts[1]
            if group not in self._groups():
                raise NotFoundError("the server could not find the requested resource")
            if len(parts) == 2:
                return self._only_get(request, lambda: Response(200, {"kind": "APIGroup", "apiVersion": "v1",
                                                                      **self._group(group)}))
            served = [s for s in self.served if s.resource.group == group and s.resource.version == parts[2]]
            if not served:
                raise NotFoundError("the server could not find the requested resource")
            if len(parts) == 3:
                return self._only_get(request, lambda: Response(200, self._resource_list(group, parts[2])))
            return self._objects(request, served, parts[3:], query)
        raise NotFoundError("the server could not find the requested resource")

    def _namespaces(self, name: str | None) -> Response:
        """Namespaces, read-only: `default`, `kube-system`, and every namespace an object lives in (operators
        such as kopf look for them in discovery before they watch anything)."""
        names = sorted({"default", "kube-system", *self.server.namespaces()})
        items: list[dict[str, Any]] = [
            {"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Active"},
             "metadata": {"name": n, "uid": f"namespace-{n}", "resourceVersion": "1"}} for n in names]
        if name is None:
            return Response(200, {"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": "1"},
                                  "items": items})
        found = next((item for item in items if item["metadata"]["name"] == name), None)
        if found is None:
            raise NotFoundError(f'namespaces "{name}" not found', details={"name": name, "kind": "namespaces"})
        return Response(200, found)

    @staticmethod
    def _only_get(request: Request, answer: Callable[[], Response]) -> Response:
        if request.method != "GET":
            return status(405, "MethodNotAllowed", f"the server does not allow this method on the requested "
                          f"resource ({request.method})")
        return answer()

    # -- discovery -----------------------------------------------------------------------------------

    def _groups(self) -> list[str]:
        return sorted({s.resource.group for s in self.served})

    def _group(self, group: str) -> dict[str, Any]:
        version = next(s.resource.version for s in self.served if s.resource.group == group)
        entry = {"groupVersion": f"{group}/{version}", "version": version}
        return {"name": group, "versions": [entry], "preferredVersion": entry}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        resources: list[dict[str, Any]] = []
        for s in self.served:
            if (s.resource.group, s.resource.version) != (group, version):
                continue
            entry: dict[str, Any] = {"name": s.resource.plural, "singularName": s.singular,
                                     "namespaced": s.namespaced, "kind": s.resource.kind, "verbs": list(s.verbs)}
            if s.short_names:
                entry["shortNames"] = list(s.short_names)
            if s.categories:
                entry["categories"] = list(s.categories)
            resources.append(entry)
            if s.status:
                resources.append({"name": f"{s.resource.plural}/status", "singularName": "", "namespaced": True,
                                  "kind": s.resource.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}",
                "resources": resources}

    def _openapi(self, parts: list[str]) -> Response:
        """OpenAPI v3, enough for kubectl: each group version's paths, with `fieldValidation` on PATCH (so
        kubectl leaves validation to the server), and its schemas. No v2: kubectl falls back to v3."""
        versions = sorted({(s.resource.group, s.resource.version) for s in self.served})
        if parts == ["v2"]:
            return _openapi_v2()
        if parts == ["v3"]:
            return Response(200, {"paths": {f"apis/{g}/{v}": {"serverRelativeURL": f"/openapi/v3/apis/{g}/{v}"}
                                            for g, v in versions}})
        if len(parts) == 4 and parts[:2] == ["v3", "apis"] and (parts[2], parts[3]) in versions:
            return Response(200, self._openapi_document(parts[2], parts[3]))
        raise NotFoundError("the server could not find the requested resource")

    def _openapi_document(self, group: str, version: str) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        for s in self.served:
            rt = s.resource
            if (rt.group, rt.version) != (group, version):
                continue
            gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
            ref = ".".join([*reversed(rt.group.split(".")), rt.version, rt.kind])
            schema = self._crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] if rt == NOTIFICATIONS \
                else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            schemas[ref] = {**schema, "x-kubernetes-group-version-kind": [gvk]}
            validation = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
            operation = {"x-kubernetes-group-version-kind": gvk, "parameters": [validation],
                         "responses": {"200": {"description": "OK", "content": {"application/json": {
                             "schema": {"$ref": f"#/components/schemas/{ref}"}}}}}}
            scope = f"/apis/{group}/{version}/namespaces/{{namespace}}/{rt.plural}" if s.namespaced \
                else f"/apis/{group}/{version}/{rt.plural}"
            paths[scope] = {"post": {**operation, "x-kubernetes-action": "post"}}
            paths[scope + "/{name}"] = {"get": {**operation, "x-kubernetes-action": "get"},
                                         "put": {**operation, "x-kubernetes-action": "put"},
                                         "patch": {**operation, "x-kubernetes-action": "patch"}}
        return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
                "paths": paths, "components": {"schemas": schemas}}

    # -- objects -------------------------------------------------------------------------------------

    def _objects(self, request: Request, served: list[Served], rest: list[str],
                 query: dict[str, str]) -> Response | WatchRequest:
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        by_plural = {s.resource.plural: s for s in served}
        kind = by_plural.get(rest[0])
        if kind is None or len(rest) > 3 or (len(rest) == 3 and (rest[2] != "status" or not kind.status)):
            raise NotFoundError("the server could not find the requested resource")
        if kind.resource == CRD_RESOURCE:
            return self._crd_answer(request, rest)
        if namespace is None and len(rest) > 1:
            raise NotFoundError("the server could not find the requested resource")
        rt = kind.resource
        method = request.method
        dry_run = dry_run_of(method, query.get("dryRun"))
        warnings: list[str] = []
        if len(rest) == 1:
            if method == "GET":
                return self._list_or_watch(request, rt, namespace, query)
            if method == "POST" and namespace is not None:
                body = self._body(request, rt, namespace, query=query, warnings=warnings)
                self._track(request, query, rt, None, body)
                return Response(201, self.server.create(rt, namespace, body, dry_run=dry_run), warnings=warnings)
        else:
            assert namespace is not None
            name = rest[1]
            sub = len(rest) == 3
            if method == "GET":
                return self._one(request, self.server.get(rt, namespace, name))
            if method == "PUT":
                body = self._body(request, rt, namespace, name, query=query, warnings=warnings)
                existed = self.server.exists(rt, namespace, name)
                if not sub:
                    self._track(request, query, rt, self.server.get(rt, namespace, name) if existed else None, body)
                updated = (self.server.update_status if sub else self.server.update)(rt, namespace, body,
                                                                                     dry_run=dry_run)
                return Response(200 if existed else 201, updated, warnings=warnings)
            if method == "PATCH":
                return self._patch(request, rt, namespace, name, sub, dry_run, query, warnings)
            if method == "DELETE" and not sub:
                return self._delete(request, rt, namespace, name, dry_run)
        return status(405, "MethodNotAllowed",
                      f"the server does not allow this method on the requested resource ({method})")

    def _body(self, request: Request, rt: ResourceType, namespace: str, name: str | None = None, *,
              query: dict[str, str], warnings: list[str]) -> KubeObject:
        body = decode_json(request.body)
        if not isinstance(body, dict):
            raise BadRequestError(f"the body of the request was in an unknown format: expected a "
                                  f"{rt.kind} object")
        self._unknown_fields(request.method, rt, body, query, warnings)
        if name is not None and body.get("metadata", {}).get("name", name) != name:
            raise BadRequestError("the name of the object does not match the name on the URL")
        meta = body.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise BadRequestError("metadata must be an object")
        meta.setdefault("namespace", namespace)
        if name is not None:
            meta.setdefault("name", name)
        return body

    def _unknown_fields(self, method: str, rt: ResourceType, body: Any, query: dict[str, str],
                        warnings: list[str]) -> None:
        """`fieldValidation`: the fields decoding would drop are a 400 (`Strict`, in `transformDecodeError`'s
        words), a `Warning` header each (`Warn`, the default when absent: `fieldValidation` in apiserver
        `handlers/rest.go`), or nothing (`Ignore`)."""
        mode = query.get("fieldValidation", "")
        if mode not in ("", "Ignore", "Warn", "Strict"):
            invalid_option(OPTIONS.get(method, "CreateOptions"), "fieldValidation", "FieldValueNotSupported",
                           f'Unsupported value: {json.dumps(mode)}: supported values: "", "Ignore", "Strict", "Warn"')
        schema = self.server.rules(rt).schema or builtin_schema(rt)
        if mode == "Ignore" or schema is None:
            return
        unknown = [f'unknown field "{path}"' for path in unknown_fields(schema, body)]
        if unknown and mode == "Strict":
            raise BadRequestError(f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: '
                                  f'strict decoding error: {", ".join(unknown)}')
        warnings += ['299 - ' + json.dumps(text) for text in unknown]

    def _patch(self, request: Request, rt: ResourceType, namespace: str, name: str, sub: bool,
               dry_run: bool, query: dict[str, str], warnings: list[str]) -> Response:
        """A patch of the type its Content-Type names: those the resource accepts (`PatchResource`'s
        `patchTypes`: a CustomResource has no strategic merge patch), or a 415 that lists them."""
        kind = request.header("Content-Type").split(";")[0].strip()
        accepted = [JSON_PATCH, MERGE_PATCH, *([] if rt == NOTIFICATIONS else [STRATEGIC_PATCH]), APPLY_PATCH]
        if kind not in accepted:
            raise KubeApiError(f"the body of the request was in an unknown format - accepted media types "
                               f"include: {', '.join(accepted)}", code=415, reason="UnsupportedMediaType")
        if kind == APPLY_PATCH:
            return self._apply(request, rt, namespace, name, sub, dry_run, query)
        if "force" in query:
            invalid_patch_option("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply "
                                                                   "patch")
        patch = decode_json(request.body)
        if kind != JSON_PATCH:
            if not isinstance(patch, dict):
                raise BadRequestError("a merge patch must be a JSON object")
            # The fields the patched object gains: a null only removes, and removes nothing unknown.
            self._unknown_fields("PATCH", rt, without_nulls(patch), query, warnings)
        current = self.server.get(rt, namespace, name)
        # A resourceVersion in the patch is a precondition; without one, the version read is.
        patcher = {JSON_PATCH: json_patch, STRATEGIC_PATCH: strategic_merge_patch}.get(kind, merge_patch)
        patched = patcher(clone(current), patch)
        if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
            raise InvalidError("the server rejected our request due to an error in our request")
        # A patch may not move the object (`checkName` in apiserver `handlers/rest.go`).
        moved = patched["metadata"].get("name")
        if moved != name:
            raise BadRequestError(f"the name of the object ({moved}) does not match the name on the URL ({name})")
        if patched["metadata"].get("namespace", namespace) != namespace:
            raise BadRequestError("the namespace of the object does not match the namespace on the URL")
        if not sub:
            self._track(request, query, rt, current, patched)
        return Response(200, (self.server.update_status if sub else self.server.update)(rt, namespace, patched,
                                                                                        dry_run=dry_run),
                        warnings=warnings)

    def _apply(self, request: Request, rt: ResourceType, namespace: str, name: str, sub: bool, dry_run: bool,
               query: dict[str, str]) -> Response:
        """Server-side apply (`_apply`): the object made or changed, created (201) if it did not exist."""
        manager = query.get("fieldManager", "")
        if not manager:
            invalid_patch_option("fieldManager", "FieldValueRequired", "Required value: is required for apply "
                                                                        "patch")
        try:
            config = yaml.load(request.body.decode("utf-8") or "null", Loader=YamlLoader)
        except (UnicodeDecodeError, yaml.YAMLError) as error:
            raise BadRequestError(f"error decoding YAML: {error}") from None
        if not isinstance(config, dict) or not string_keys(config):
            raise BadRequestError("an applied configuration must be an object, its keys strings")
        meta = config.setdefault("metadata", {})
        if not isinstance(meta, dict) or meta.get("name", name) != name:
            raise BadRequestError("the name of the object does not match the name on the URL")
        meta.update(name=name, namespace=meta.get("namespace") or namespace)
        try:
            live: KubeObject | None = self.server.get(rt, namespace, name)
        except NotFoundError:
            if sub:
                raise  # a subresource of nothing: only the object itself is created by an apply
            live = None
        rules = self.server.rules(rt)
        merged = apply(live, config, manager=manager, force=true(query.get("force")), now=format_time(self._clock()),
                       api_version=rt.api_version, status_subresource=rules.status_subresource and not sub,
                       only_status=sub)
        if live is None:
            return Response(201, self.server.create(rt, namespace, merged, dry_run=dry_run))
        return Response(200, (self.server.update_status if sub else self.server.update)(rt, namespace, merged,
                                                                                        dry_run=dry_run))

    def _track(self, request: Request, query: dict[str, str], rt: ResourceType, old: KubeObject | None,
               new: KubeObject) -> None:
        """Record in `new`'s managedFields what this write changes, for its manager: `fieldManager`, or the
        product of its User-Agent (`prefixFromUserAgent`)."""
        manager = query.get("fieldManager") or request.header("User-Agent").split("/")[0] or "unknown"
        record_update(old, new, manager=manager, now=format_time(self._clock()), api_version=rt.api_version,
                      status_subresource=self.server.rules(rt).status_subresource)

    def _delete(self, request: Request, rt: ResourceType, namespace: str, name: str, dry_run: bool) -> Response:
        options = decode_json(request.body) if request.body.strip() else {}
        preconditions: dict[str, Any] = {}
        if isinstance(options, dict):
            preconditions = options.get("preconditions") or {}
            dry_run = dry_run or dry_run_of("DELETE", options.get("dryRun"))
        current = self.server.get(rt, namespace, name)
        self.server.delete(rt, namespace, name, resource_version=preconditions.get("resourceVersion"),
                           uid=preconditions.get("uid"), dry_run=dry_run)
        # Still there with finalizers pending (a dry run says what the delete would leave)
        if not dry_run or current["metadata"].get("finalizers"):
            try:
                return Response(200, self.server.get(rt, namespace, name))
            except NotFoundError:
                pass
        return Response(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                  "details": {"name": name, "group": rt.group, "kind": rt.plural,
                                              "uid": current["metadata"].get("uid", "")}})

    def _list_or_watch(self, request: Request, rt: ResourceType, namespace: str | None,
                       query: dict[str, str]) -> Response | WatchRequest:
        selector = Selector.parse(query.get("labelSelector", ""), query.get("fieldSelector", ""))
        self.server.check_selector(rt, selector)
        if true(query.get("watch")):
            timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
            return WatchRequest(rt, namespace, query.get("resourceVersion", ""),
                                true(query.get("allowWatchBookmarks")), timeout, selector, wants_table(request),
                                watch_options(query))
        if "sendInitialEvents" in query:
            invalid_list_option("sendInitialEvents", "FieldValueForbidden",
                                 "Forbidden: sendInitialEvents is forbidden for list")
        page = self.server.list_page(rt, namespace, selector, ListOptions.from_query(query))
        if wants_table(request):
            return Response(200, self.table(rt, page.items, page.resource_version))
        return Response(200, {"apiVersion": rt.api_version, "kind": f"{rt.kind}List",
                              "metadata": page.metadata(), "items": page.items})

    def _one(self, request: Request, obj: KubeObject) -> Response:
        if wants_table(request):
            return Response(200, self.table(_type_of(self.served, obj), [obj], obj["metadata"]["resourceVersion"]))
        return Response(200, obj)

    def table(self, rt: ResourceType, items: list[KubeObject], version: str, *,
              headers: bool = True) -> dict[str, Any]:
        """A `meta.k8s.io/v1` Table of the objects (`_tables.table`)."""
        printed = self._crd["spec"]["versions"][0]["additionalPrinterColumns"] if rt == NOTIFICATIONS else None
        return table(printed, self._clock(), items, version, headers=headers)

    def _crd_answer(self, request: Request, rest: list[str]) -> Response:
        if request.method != "GET":
            return status(405, "MethodNotAllowed", "the CustomResourceDefinitions of this server are built in "
                          "and read-only")
        if len(rest) == 2:
            if rest[1] != self._crd["metadata"]["name"]:
                raise NotFoundError(f'customresourcedefinitions.apiextensions.k8s.io "{rest[1]}" not found')
            return Response(200, self._crd)
        return Response(200, {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinitionList",
                              "metadata": {"resourceVersion": "1"}, "items": [self._crd]})


def _openapi_v2() -> Response:
    """An empty OpenAPI v2 document, in the protobuf kubectl before 1.27 insists on: it declares no types, so
    those clients skip client-side validation of custom resources (as against a cluster whose CRDs publish no
    schema) instead of refusing to apply."""
    def field(number: int, payload: bytes) -> bytes:
        return bytes([number << 3 | 2, len(payload)]) + payload

    info = field(1, b"Kubernetes") + field(2, KUBERNETES_VERSION["gitVersion"].encode())
    document = field(1, b"2.0") + field(2, info) + field(8, b"")  # swagger, info, paths (gnostic's numbering)
    return Response(200, document, "application/octet-stream")


def _type_of(served: tuple[Served, ...], obj: KubeObject) -> ResourceType:
    for s in served:
        if s.resource.api_version == obj.get("apiVersion") and s.resource.kind == obj.get("kind"):
            return s.resource
    return NOTIFICATIONS
