"""An in-memory Kubernetes API server: storage and API-machinery semantics, with no I/O and no clock.

It keeps what controllers depend on: one monotonically increasing resourceVersion (an etcd revision), `uid`
and `creationTimestamp` on create, `generation` bumped by spec changes only, the status subresource (an update
ignores status, a status update ignores everything else), compare-and-swap on resourceVersion (409),
NotFound, AlreadyExists, Invalid (422) from the CRD's structural schema, finalizers and deletionTimestamp,
and an ordered change history that watches replay from, with a compaction horizon below which a watch is
Gone (410). Errors are the `notifier` port exceptions with `Status`-shaped details.

Time comes from the `clock` passed in; uids are hashed from an object's key and incarnation, generated names
come from a counter per prefix, so a world is deterministic. Asynchrony (latency, delivery delay, faults)
belongs to `FakeKubeApi`, which wraps this.
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fakes.apiserver._answers import (
    conflict,
    details,
    kind_group,
    no_new_finalizers,
    not_found,
    preconditions,
    qualified,
    same_content,
)
from fakes.apiserver._builtin import decode, validate_builtin
from fakes.apiserver._list import (
    ListOptions,
    ListPage,
    decode_continue,
    encode_continue,
    expired_continue,
    paginate,
    too_large,
)
from fakes.apiserver._owners import Owners
from fakes.apiserver._patch import merge_patch
from fakes.apiserver._schema import (
    FieldError,
    Schema,
    apply_defaults,
    check_rules_supported,
    compile_schema,
    prune,
    validate,
    validate_name,
    validate_transition,
)
from fakes.apiserver._select import EVENT_FIELDS, Selector, check_field_labels, field_labels
from fakes.apiserver._watch import Change, Watcher
from notifier import (
    EVENTS,
    LEASES,
    NOTIFICATIONS,
    AlreadyExistsError,
    BadRequestError,
    GoneError,
    InvalidError,
    KubeApiError,
    KubeObject,
    NotFoundError,
    ResourceType,
    WatchEvent,
    WatchEventType,
    clone,
    crd_manifest,
    format_time,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceRules:
    """How the server treats one resource type."""

    schema: dict[str, Any] | None = None
    status_subresource: bool = False
    track_generation: bool = False
    allow_unconditional_update: bool = True
    #: Whether an update of an object that does not exist creates it (`AllowCreateOnUpdate`).
    allow_create_on_update: bool = False
    #: Field labels a field selector may name besides `metadata.name` and `metadata.namespace` (a CRD's
    #: `selectableFields`, the fields an Event's strategy exposes), as dotted paths into the object.
    selectable_fields: tuple[str, ...] = ()


def _uid(key: tuple[str, str, str], incarnation: int) -> str:
    """A uid in the shape of a UUID, drawn from the object's kind, namespace, name and how many objects of that
    key were created before it: unique, and the same whatever else the world creates, so removing one object
    from a scenario leaves every other object's uid (and what is named after it, as its delivery Lease) as it
    was. (A real server draws a random UUID; nothing may read meaning into a uid.)"""
    digest = hashlib.blake2b("\x1f".join((*key, str(incarnation))).encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-8{digest[17:20]}-{digest[20:32]}"


class ApiServer:
    """The store and its rules. Register each type before use; NotificationRequests, Leases and Events are.

    Args:
        clock: seconds since the epoch, for creation and deletion timestamps.
        history_limit: how many changes watches can replay; older ones are compacted away.
    """

    def __init__(self, *, clock: Callable[[], float], history_limit: int = 100_000) -> None:
        self._clock = clock
        self._history_limit = history_limit
        # etcd's store starts at revision 1 (`currentRev: 1` in mvcc's `NewStore`), so the first write is 2
        # and no list ever answers "0", which a watch would take as "any version" and answer with
        # synthetic ADDED events in key order, from which a client that is cut off cannot resume.
        self.revision = 1
        self.horizon = 0
        self._objects: dict[tuple[str, str, str], KubeObject] = {}
        self._history: deque[Change] = deque()
        self._watchers: list[Watcher] = []
        self._rules: dict[str, ResourceRules] = {}
        self._compiled: dict[str, Schema] = {}
        self._types: dict[str, ResourceType] = {}
        #: Whether the garbage collector has anything to look at: an object was deleted, or one with owners
        #: created, since it last looked.
        self._gc_due = False
        self._incarnations: Counter[tuple[str, str, str]] = Counter()
        self._owners = Owners()
        self._generated: Counter[str] = Counter()
        #: Called with every change as it is committed (the harness traces them).
        self.observers: list[Callable[[Change], None]] = []
        crd = crd_manifest()
        self.register(
            NOTIFICATIONS,
            ResourceRules(
                schema=crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
                status_subresource=True,
                track_generation=True,
                allow_unconditional_update=False,
                selectable_fields=tuple(str(f["jsonPath"]).lstrip(".")
                                        for f in crd["spec"]["versions"][0].get("selectableFields", ())),
            ),
        )
        # `AllowUnconditionalUpdate` is false in the Lease strategy (pkg/registry/coordination/lease)
        self.register(LEASES, ResourceRules(allow_unconditional_update=False, allow_create_on_update=True))
        self.register(EVENTS, ResourceRules(selectable_fields=EVENT_FIELDS, allow_create_on_update=True))

    def register(self, resource: ResourceType, rules: ResourceRules) -> None:
        if rules.schema is not None:
            check_rules_supported(rules.schema)
            self._compiled[qualified(resource)] = compile_schema(rules.schema)
        self._rules[qualified(resource)] = rules
        self._types[qualified(resource)] = resource

    def rules(self, resource: ResourceType) -> ResourceRules:
        try:
            return self._rules[qualified(resource)]
        except KeyError:
            raise NotFoundError(
                f"the server could not find the requested resource ({qualified(resource)})"
            ) from None

    # -- reads -----------------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str, name: str) -> KubeObject:
        self.rules(resource)
        stored = self._objects.get((qualified(resource), namespace, name))
        if stored is None:
            raise not_found(resource, name)
        return clone(stored)

    def list_objects(self, resource: ResourceType, namespace: str | None,
                     selector: Selector | None = None) -> tuple[list[KubeObject], str]:
        """The objects (of `namespace`, or all), those the selector matches, in key order; and the revision."""
        page = self.list_page(resource, namespace, selector)
        return page.items, page.resource_version

    def list_page(self, resource: ResourceType, namespace: str | None, selector: Selector | None = None,
                  options: ListOptions | None = None) -> ListPage:
        """A list as `_list` describes it: a page from a continue token's snapshot, or at the revision asked
        (`resourceVersion=0`: whole, from the cache; a revision not reached: 504; one compacted: 410)."""
        self.rules(resource)
        selector = selector or Selector()
        options = options or ListOptions()
        options.validate()
        self.check_selector(resource, selector)
        at, start, limit = self.revision, "", options.limit
        if options.continue_token:
            at, start = decode_continue(options.continue_token)
            if at < 0:
                at = self.revision  # (a token handed out with a 410: on from the latest revision)
            elif at < self.horizon:
                raise expired_continue(start)
        elif options.resource_version == "0":
            limit = 0  # the watch cache serves it whole (`computeListLimit`)
        elif options.resource_version:
            wanted = int(options.resource_version)
            if wanted > self.revision:
                raise too_large(wanted, self.revision)
            if options.match == "Exact" or (not options.match and limit > 0):
                if wanted < self.horizon:
                    raise GoneError("The resourceVersion for the provided list is too old.", code=410,
                                    reason="Expired")
                at = wanted
        state = self._state_at(resource, at)
        keyed = sorted((name if namespace is not None else f"{ns}/{name}", obj)
                       for (_, ns, name), obj in state.items() if namespace is None or ns == namespace)
        items, following, remaining = paginate(
            ((key, obj, not selector or selector.matches(obj["metadata"].get("labels") or {},
                                                         self._fields(resource, obj))) for key, obj in keyed),
            start=start, limit=limit, selected=bool(selector))
        return ListPage([clone(obj) for obj in items], str(at),
                        encode_continue(at, following) if following else "", remaining)

    def _state_at(self, resource: ResourceType, revision: int) -> dict[tuple[str, str, str], KubeObject]:
        """The stored objects of a type as they stood at `revision` (the history undone back to it)."""
        kind = qualified(resource)
        state = {key: obj for key, obj in self._objects.items() if key[0] == kind}
        for change in reversed(self._history):
            if change.revision <= revision:
                break
            if change.resource == resource:
                key = (kind, change.namespace, change.object["metadata"]["name"])
                if change.previous is None:
                    state.pop(key, None)
                else:
                    state[key] = change.previous
        return state

    def watch(
        self, resource: ResourceType, namespace: str | None, resource_version: str, *, bookmarks: bool = True,
        selector: Selector | None = None, send_initial_events: bool = False,
    ) -> Watcher:
        """Open a watch; changes after `resource_version` are pushed to it in order, then live ones. With a
        selector, objects entering and leaving it are ADDED and DELETED (`Watcher.event`). From "" or "0", or
        with `send_initial_events` (client-go's WatchList), it starts with an ADDED per object; the latter
        ends them with a bookmark annotated `k8s.io/initial-events-end` (`AnnotateInitialEventsEndBookmark`)
        at the revision they were read at, if the watch takes bookmarks."""
        self.rules(resource)
        selector = selector or Selector()
        self.check_selector(resource, selector)
        watcher = Watcher(resource, namespace, bookmarks, selector=selector,
                          fields=lambda obj: self._fields(resource, obj))
        if send_initial_events and resource_version not in ("", "0") \
                and self._parse_version(resource_version) > self.revision:
            raise too_large(self._parse_version(resource_version), self.revision)
        if resource_version in ("", "0") or send_initial_events:
            items, _ = self.list_objects(resource, namespace, selector)
            for item in items:
                watcher.pending.append(WatchEvent(type="ADDED", object=item))
            if send_initial_events and bookmarks:
                watcher.pending.append(WatchEvent(type="BOOKMARK", object={
                    "apiVersion": resource.api_version, "kind": resource.kind, "metadata": {
                        "resourceVersion": str(self.revision),
                        "annotations": {"k8s.io/initial-events-end": "true"}}}))
        else:
            since = self._parse_version(resource_version)
            if since < self.horizon:
                raise GoneError(
                    f"too old resource version: {since} ({self.horizon})", code=410, reason="Expired"
                )
            for change in self._history:
                if change.revision > since and watcher.wants(change):
                    event = watcher.event(change)
                    if event is not None:
                        watcher.pending.append(event)
        self._watchers.append(watcher)
        return watcher

    def check_selector(self, resource: ResourceType, selector: Selector) -> None:
        """A field selector names only the resource's field labels (`check_field_labels`)."""
        check_field_labels(self.rules(resource).selectable_fields, selector)

    def _fields(self, resource: ResourceType, obj: KubeObject) -> dict[str, str]:
        return field_labels(resource, self.rules(resource).selectable_fields, obj)

    def exists(self, resource: ResourceType, namespace: str, name: str) -> bool:
        return (qualified(resource), namespace, name) in self._objects

    def namespaces(self) -> set[str]:
        """The namespaces objects live in."""
        return {namespace for _, namespace, _ in self._objects}

    def close(self, watcher: Watcher) -> None:
        watcher.closed = True
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def open_watches(self) -> int:
        return len(self._watchers)

    def bookmark(self) -> None:
        """Send every watch that asked for bookmarks the current resourceVersion."""
        for watcher in list(self._watchers):
            if watcher.bookmarks:
                res = watcher.resource
                watcher.push(WatchEvent(type="BOOKMARK", object={
                    "apiVersion": res.api_version,
                    "kind": res.kind,
                    "metadata": {"resourceVersion": str(self.revision)},
                }))

    def compact(self, revision: int | None = None) -> None:
        """Forget history up to `revision` (all of it by default): older watches get Gone."""
        upto = self.revision if revision is None else min(revision, self.revision)
        while self._history and self._history[0].revision <= upto:
            self._history.popleft()
        self.horizon = max(self.horizon, upto)

    # -- writes ----------------------------------------------------------------------------------

    def create(self, resource: ResourceType, namespace: str, body: KubeObject, *,
               dry_run: bool = False) -> KubeObject:
        """Store a new object; `dry_run` (`dryRun=All`): every check, nothing stored, no counter moved."""
        rules = self.rules(resource)
        obj = clone(body)
        meta = obj.setdefault("metadata", {})
        self._check_namespace(meta, namespace)
        decode(resource, obj)
        if not meta.get("name") and meta.get("generateName"):
            generated = self._generated[meta["generateName"]] + 1
            self._generated[meta["generateName"]] = generated - dry_run
            meta["name"] = f"{meta['generateName']}{generated:05x}"
        name = str(meta.get("name") or "")
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        if rules.status_subresource:
            obj.pop("status", None)
        self._validate(resource, rules, obj, None, [*validate_name(name), *validate_builtin(resource, obj,
                                                                                              namespace)])
        key = (qualified(resource), namespace, name)
        if key in self._objects:
            raise AlreadyExistsError(
                f"{qualified(resource)} {name!r} already exists".replace("'", '"'),
                details=details(resource, name),
            )
        meta.update(
            namespace=namespace,
            uid=_uid(key, self._incarnations[key] + 1),
            creationTimestamp=format_time(self._clock()),
        )
        for system in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            meta.pop(system, None)
        if rules.track_generation:
            meta["generation"] = 1
        if dry_run:
            return obj
        if str(body.get("metadata", {}).get("resourceVersion") or "").isdigit() and int(
                body["metadata"]["resourceVersion"]) > 0:
            # etcd3 `store.Create` refuses it with a plain error, which the handler answers as a 500 of no
            # reason (`ErrorToAPIStatus`); after validation, and not in a dry run.
            raise KubeApiError("resourceVersion should not be set on objects to be created", code=500, reason="")
        self._incarnations[key] += 1
        self._gc_due = self._gc_due or bool(meta.get("ownerReferences"))
        return self._commit("ADDED", resource, key, obj)

    def update(self, resource: ResourceType, namespace: str, body: KubeObject, *,
               dry_run: bool = False) -> KubeObject:
        """Replace the object; with a status subresource, the stored status is kept. A uid in the body is a
        precondition (`defaultUpdatedObjectInfo.Preconditions`). A type whose strategy allows create on update
        (Lease, Event) is created by an update of an object that does not exist, its system fields wiped
        first, a resourceVersion among them (the generic store's `Update`, `WipeObjectMetaSystemFields`)."""
        rules = self.rules(resource)
        meta = body.get("metadata", {})
        if rules.allow_create_on_update and not self.exists(resource, namespace, str(meta.get("name") or "")):
            wiped = {**body, "metadata": {k: v for k, v in meta.items() if k not in ("resourceVersion", "uid")}}
            return self.create(resource, namespace, wiped, dry_run=dry_run)
        old, key = self._current(resource, namespace, body)
        obj = clone(body)
        decode(resource, obj)
        if rules.status_subresource:
            obj.pop("status", None)
            if "status" in old:
                obj["status"] = clone(old["status"])
        return self._replace(resource, rules, key, old, obj, dry_run)

    def update_status(self, resource: ResourceType, namespace: str, body: KubeObject, *,
                      dry_run: bool = False) -> KubeObject:
        """Replace only the status; everything else in the body is ignored (but a uid, a precondition)."""
        rules = self.rules(resource)
        if not rules.status_subresource:
            raise NotFoundError(f"the server could not find the requested resource ({qualified(resource)}/status)")
        old, key = self._current(resource, namespace, body)
        obj = {field: clone(value) for field, value in old.items() if field != "status"}
        obj["metadata"]["resourceVersion"] = body.get("metadata", {}).get("resourceVersion", "")
        if body.get("metadata", {}).get("uid"):
            obj["metadata"]["uid"] = body["metadata"]["uid"]
        if "status" in body:
            obj["status"] = clone(body["status"])
        else:
            obj.pop("status", None)
        return self._replace(resource, rules, key, old, obj, dry_run)

    def patch(self, resource: ResourceType, namespace: str, name: str, patch: KubeObject, *,
              dry_run: bool = False) -> KubeObject:
        """A JSON merge patch (RFC 7386) of the object; a resourceVersion in it is a precondition."""
        rules = self.rules(resource)
        key = (qualified(resource), namespace, name)
        old = self._objects.get(key)
        if old is None:
            raise not_found(resource, name)
        obj = merge_patch(clone(old), patch)
        if not isinstance(obj, dict):
            raise BadRequestError("the patch must be a JSON object")
        if rules.status_subresource:
            obj["status"] = clone(old.get("status"))
            if obj["status"] is None:
                del obj["status"]
        precondition = patch.get("metadata", {}).get("resourceVersion") if isinstance(patch, dict) else None
        obj.setdefault("metadata", {})["resourceVersion"] = precondition or old["metadata"]["resourceVersion"]
        decode(resource, obj)
        return self._replace(resource, rules, key, old, obj, dry_run)

    def delete(
        self, resource: ResourceType, namespace: str, name: str, *, resource_version: str | None = None,
        uid: str | None = None, dry_run: bool = False,
    ) -> None:
        """Delete, or with finalizers mark for deletion until they are removed: a deletionTimestamp, a grace
        period of 0, and the generation bumped where there is one (`markAsDeleting` in the generic store).
        `resource_version` and `uid` are DeleteOptions' preconditions."""
        self.rules(resource)
        key = (qualified(resource), namespace, name)
        old = self._objects.get(key)
        if old is None:
            raise not_found(resource, name)
        preconditions(resource, old, uid, resource_version)
        if dry_run:
            return
        if old["metadata"].get("finalizers"):
            if "deletionTimestamp" not in old["metadata"]:
                obj = clone(old)
                meta = obj["metadata"]
                if meta.get("generation", 0) > 0:
                    meta["generation"] += 1
                meta.update(deletionTimestamp=format_time(self._clock()), deletionGracePeriodSeconds=0)
                self._commit("MODIFIED", resource, key, obj)
            return
        self._remove(resource, key, old)

    def collect_garbage(self) -> int:
        """One pass of the garbage collector (background propagation): every object whose owners, named by
        uid in its ownerReferences, all no longer exist is deleted (with finalizers: marked for deletion),
        and so on down. How many it deleted or marked. The real collector runs apart from the requests, a
        little later; so does this, when its caller runs it."""
        done = 0
        while self._gc_due:
            # (in the store's order, which is the order of creation: deterministic)
            dependents = [(key, obj["metadata"]["ownerReferences"]) for key in self._owners.dependents()
                          if "deletionTimestamp" not in (obj := self._objects[key])["metadata"]]
            uids = self._owners.uids
            orphans = [key for key, owners in dependents if not any(owner.get("uid") in uids for owner in owners)]
            self._gc_due = bool(orphans)
            for kind, namespace, name in orphans:
                resource = self._types[kind]
                self.delete(resource, namespace, name)
                done += 1
        return done

    # -- internals -------------------------------------------------------------------------------

    def _current(self, resource: ResourceType, namespace: str, body: KubeObject) -> tuple[KubeObject, Any]:
        meta = body.get("metadata", {})
        self._check_namespace(meta, namespace)
        name = str(meta.get("name") or "")
        key = (qualified(resource), namespace, name)
        old = self._objects.get(key)
        if old is None:
            raise not_found(resource, name)
        return old, key

    def _replace(
        self, resource: ResourceType, rules: ResourceRules, key: Any, old: KubeObject, obj: KubeObject,
        dry_run: bool = False,
    ) -> KubeObject:
        name = key[2]
        meta = obj.setdefault("metadata", {})
        if meta.get("uid") and meta["uid"] != old["metadata"]["uid"]:
            # The body's uid is a storage precondition (`defaultUpdatedObjectInfo.Preconditions`), checked
            # before the resourceVersion.
            raise conflict(resource, name, f"StorageError: invalid object, Code: 4, Key: /registry/"
                                                 f"{resource.group or 'core'}/{resource.plural}/{key[1]}/{name}, "
                                                 f"ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: "
                                                 f"UID in precondition: {meta['uid']}, UID in object meta: "
                                                 f"{old['metadata']['uid']}")
        version = meta.get("resourceVersion") or ""
        if not version and not rules.allow_unconditional_update:
            raise InvalidError(
                f'{kind_group(resource)} "{name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: '
                f"must be specified for an update",
                details=details(resource, name, [FieldError(
                    "metadata.resourceVersion", "FieldValueInvalid",
                    "Invalid value: 0x0: must be specified for an update",
                )]),
            )
        if version and version != old["metadata"]["resourceVersion"]:
            raise conflict(resource, name)
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        for kept in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                     "deletionGracePeriodSeconds", "generation"):
            if kept in old["metadata"]:
                meta[kept] = old["metadata"][kept]
            else:
                meta.pop(kept, None)
        self._validate(resource, rules, obj, old, [*validate_builtin(resource, obj, key[1]),
                                                   *no_new_finalizers(obj, old)])
        if rules.track_generation and obj.get("spec") != old.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        if same_content(obj, old) or dry_run:
            return clone(old if same_content(obj, old) else obj)  # a no-op write changes nothing
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            # Deleted instead (`deleteWithoutFinalizers`): the write that emptied the finalizers is never
            # stored, so the DELETED event carries the object as it was last stored.
            self._remove(resource, key, old)
            return clone(obj)  # what the request made of it, at the version it replaced
        return self._commit("MODIFIED", resource, key, obj)

    def _validate(
        self,
        resource: ResourceType,
        rules: ResourceRules,
        obj: KubeObject,
        old: KubeObject | None,
        errors: list[FieldError],
    ) -> None:
        if rules.schema is not None:
            schema = self._compiled[qualified(resource)]
            apply_defaults(schema, obj)
            prune(schema, obj)
            # With a status subresource only a status update can change the status, and its validator is
            # rooted at `status` (`ValidateStatusUpdate`); everything else is rooted at the object.
            errors = [*errors, *validate(schema, obj, root="status" if rules.status_subresource else "")]
            if old is not None:
                errors += validate_transition(schema, obj, old)
        if errors:
            name = obj.get("metadata", {}).get("name", "")
            summary = errors[0].field + ": " + errors[0].message if len(errors) == 1 else (
                "[" + ", ".join(f"{e.field}: {e.message}" for e in errors) + "]"
            )
            raise InvalidError(
                f'{kind_group(resource)} "{name}" is invalid: {summary}',
                details=details(resource, name, errors),
            )

    def _commit(self, kind: WatchEventType, resource: ResourceType, key: Any, obj: KubeObject) -> KubeObject:
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        previous = self._objects.get(key)
        self._objects[key] = obj
        self._owners.stored(key, obj, new=previous is None, revision=self.revision)
        # Stored objects are never changed in place (every write builds a new one), so the history can
        # share them; callers and watchers get their own copies.
        self._record(Change(self.revision, kind, resource, key[1], obj, previous))
        return clone(obj)

    def _remove(self, resource: ResourceType, key: Any, obj: KubeObject) -> None:
        self.revision += 1
        gone = {**obj, "metadata": {**obj["metadata"], "resourceVersion": str(self.revision)}}
        del self._objects[key]
        self._owners.removed(key, obj)
        self._gc_due = True
        self._record(Change(self.revision, "DELETED", resource, key[1], gone, obj))

    def _record(self, change: Change) -> None:
        self._history.append(change)
        for observer in self.observers:
            observer(change)
        while len(self._history) > self._history_limit:
            self.horizon = self._history.popleft().revision
        # One copy per change, shared by its watchers: informers treat what they receive as read-only (as
        # client-go's do) and hand out copies, so a copy per watcher bought nothing but time.
        shared: KubeObject | None = None
        for watcher in list(self._watchers):
            if not watcher.wants(change):
                continue
            if watcher.selector:
                event = watcher.event(change)
                if event is not None:
                    watcher.push(event)
                continue
            shared = clone(change.object) if shared is None else shared
            watcher.push(WatchEvent(type=change.type, object=shared))

    def history(self) -> list[Change]:
        """The changes still kept, oldest first; their objects are shared and must not be changed."""
        return list(self._history)

    @staticmethod
    def _check_namespace(meta: dict[str, Any], namespace: str) -> None:
        if meta.get("namespace") not in (None, "", namespace):
            raise BadRequestError(
                "the namespace of the provided object does not match the namespace sent on the request"
            )

    @staticmethod
    def _parse_version(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise BadRequestError(f"invalid resource version: {text!r}") from None
