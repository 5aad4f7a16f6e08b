"""How the API server words what it refuses, and the checks that only compare two versions of an object.

`Status` details, NotFound and Conflict in the generic registry's words (`registry/generic/registry/store.go`,
apimachinery `api/errors`), DeleteOptions' preconditions (`rest.BeforeDelete`), `ValidateNoNewFinalizers`,
and whether a write changes anything at all.
"""

from __future__ import annotations

from typing import Any

from fakes.apiserver._schema import FieldError
from notifier import ConflictError, KubeObject, NotFoundError, ResourceType


def qualified(resource: ResourceType) -> str:
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def kind_group(resource: ResourceType) -> str:
    return f"{resource.kind}.{resource.group}" if resource.group else resource.kind


def details(
    resource: ResourceType, name: str, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "group": resource.group, "kind": resource.plural}
    if errors:
        details["kind"] = resource.kind
        details["causes"] = [error.as_cause() for error in errors]
    return details

def not_found(resource: ResourceType, name: str) -> NotFoundError:
    return NotFoundError(f'{qualified(resource)} "{name}" not found', details=details(resource, name))

def conflict(resource: ResourceType, name: str, why: str = "", *, as_kind: str = "") -> ConflictError:
    return ConflictError(
        f'Operation cannot be fulfilled on {as_kind or qualified(resource)} "{name}": ' + (
            why or "the object has been modified; please apply your changes to the latest version and try "
                   "again"),
        details=details(resource, name),
    )


def preconditions(resource: ResourceType, old: KubeObject, uid: str | None,
                   resource_version: str | None) -> None:
    """DeleteOptions' preconditions, as `rest.BeforeDelete` checks them: a mismatch is a Conflict."""
    meta, name = old["metadata"], old["metadata"]["name"]
    if uid and uid != meta.get("uid"):
        raise conflict(resource, name, f"the UID in the precondition ({uid}) does not match the UID in "
                                             f"record ({meta.get('uid')}). The object might have been "
                                             f"deleted and then recreated", as_kind=kind_group(resource))
    if resource_version and resource_version != meta["resourceVersion"]:
        raise conflict(resource, name, f"the ResourceVersion in the precondition ({resource_version}) "
                                             f"does not match the ResourceVersion in record "
                                             f"({meta['resourceVersion']}). The object might have been "
                                             f"modified", as_kind=kind_group(resource))


def no_new_finalizers(new: KubeObject, old: KubeObject) -> list[FieldError]:
    """ValidateNoNewFinalizers, once an object is being deleted."""
    if not old["metadata"].get("deletionTimestamp"):
        return []
    extra = sorted(set(new["metadata"].get("finalizers") or ()) - set(old["metadata"].get("finalizers") or ()))
    if not extra:
        return []
    found = "[]string{" + ", ".join(f'"{f}"' for f in extra) + "}"
    return [FieldError("metadata.finalizers", "FieldValueForbidden", f"Forbidden: no new finalizers can be "
                                                                     f"added if the object is being deleted, "
                                                                     f"found new finalizers {found}")]


def same_content(new: KubeObject, old: KubeObject) -> bool:
    strip = {"resourceVersion"}
    new_meta = {k: v for k, v in new.get("metadata", {}).items() if k not in strip}
    old_meta = {k: v for k, v in old.get("metadata", {}).items() if k not in strip}
    return new_meta == old_meta and {k: v for k, v in new.items() if k != "metadata"} == {
        k: v for k, v in old.items() if k != "metadata"
    }
