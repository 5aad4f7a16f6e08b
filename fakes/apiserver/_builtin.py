"""What kube-apiserver checks in the built-in types the controller writes, Lease and Event, beyond
what decoding JSON into their Go structs checks (which is `decode_errors`: a 400, as the real handler answers a
body it cannot decode).

Pure: no I/O. From `pkg/apis/coordination/validation/validation.go` (`ValidateLeaseSpec`) and
`pkg/apis/core/validation/events.go` (`ValidateEventCreate`).
"""

from __future__ import annotations

import re
from typing import Any, Final

from fakes.apiserver._schema import OBJECT_META, FieldError
from notifier import EVENTS, LEASES, BadRequestError, KubeObject, ResourceType

#: metav1.MicroTime's JSON form (`RFC3339Micro`), and metav1.Time's, as their UnmarshalJSON parse them.
_MICRO_TIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")
_TIME: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_LEASE_SPEC: Final = {"holderIdentity": str, "leaseDurationSeconds": int, "acquireTime": "micro",
                      "renewTime": "micro", "leaseTransitions": int, "strategy": str, "preferredHolder": str}


def decode(resource: ResourceType, obj: KubeObject) -> None:
    """Decoding into the Go structs: what does not decode is a 400; what ObjectMeta has no field for is
    dropped."""
    why = decode_errors(resource, obj)
    if why is not None:
        raise BadRequestError(why)
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for name in [name for name in meta if name not in OBJECT_META]:
            del meta[name]


def decode_errors(resource: ResourceType, obj: KubeObject) -> str | None:
    """Why the body cannot be decoded into the type's Go struct (a wrong JSON type, a time that does not
    parse), in the server's words; None if it can."""
    if resource != LEASES:
        return None
    spec = obj.get("spec")
    if spec is None:
        return None
    if not isinstance(spec, dict):
        return f"json: cannot unmarshal {_json(spec)} into Go struct field Lease.spec of type v1.LeaseSpec"
    for field, wanted in _LEASE_SPEC.items():
        value = spec.get(field)
        if value is None:
            continue
        if wanted == "micro":
            if not isinstance(value, str) or not _MICRO_TIME.match(value):
                return (f'Lease in version "v1" cannot be handled as a Lease: parsing time "{value}" as '
                        f'"2006-01-02T15:04:05.000000Z07:00": cannot parse "{value}" as a MicroTime')
        elif not isinstance(value, wanted) or isinstance(value, bool):  # type: ignore[arg-type]
            go = "int32" if wanted is int else "string"
            return (f"json: cannot unmarshal {_json(value)} into Go struct field LeaseSpec.spec.{field} "
                    f"of type {go}")
    return None


def validate_builtin(resource: ResourceType, obj: KubeObject, namespace: str) -> list[FieldError]:
    """The type's own validation (a 422 with these causes)."""
    if resource == LEASES:
        return _lease(obj.get("spec") or {})
    if resource == EVENTS:
        return _event(obj, namespace)
    return []


def _lease(spec: dict[str, Any]) -> list[FieldError]:
    errors = []
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errors.append(FieldError("spec.leaseDurationSeconds", "FieldValueInvalid",
                                 f"Invalid value: {duration}: must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        errors.append(FieldError("spec.leaseTransitions", "FieldValueInvalid",
                                 f"Invalid value: {transitions}: must be greater than or equal to 0"))
    return errors


def _event(obj: KubeObject, namespace: str) -> list[FieldError]:
    """events.k8s.io/v1 (an Event with an eventTime): what reports it, and what it says, are required, and
    none longer than the API allows; one without an eventTime (the legacy form) must name its object's
    namespace."""
    if not obj.get("eventTime"):
        theirs = (obj.get("regarding") or obj.get("involvedObject") or {}).get("namespace") or ""
        if theirs != namespace and (theirs or namespace not in ("", "default")):
            return [FieldError("involvedObject.namespace", "FieldValueInvalid",
                               f'Invalid value: "{theirs}": does not match event.namespace')]
        return []
    errors = []
    for field in ("reportingController", "reportingInstance", "action", "reason"):
        value = obj.get(field) or ""
        if not value:
            errors.append(FieldError(field, "FieldValueRequired", "Required value"))
        elif len(value) > 128:
            errors.append(FieldError(field, "FieldValueInvalid", f'Invalid value: "{value}": can have at most '
                                                                  f"128 characters"))
    if len(obj.get("note") or "") > 1024:
        errors.append(FieldError("note", "FieldValueInvalid", "Invalid value: \"...\": can have at most 1024 "
                                                              "characters"))
    return errors


def _json(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "bool"}.get(type(value), "number")


def _fields(*names: str, **nested: dict[str, Any]) -> dict[str, Any]:
    """An object schema that knows these fields (leaves of any value, `nested` objects of their own)."""
    return {"type": "object", "properties": {**{name: {} for name in names}, **nested}}


_REFERENCE: Final = _fields("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
#: The fields of the built-in types' Go structs, for `fieldValidation` (what strict decoding calls unknown).
_SCHEMAS: Final = {
    LEASES: _fields("apiVersion", "kind", "metadata", spec=_fields(*_LEASE_SPEC)),
    EVENTS: _fields("apiVersion", "kind", "metadata", "eventTime", "reportingController", "reportingInstance",
                    "action", "reason", "note", "type", "deprecatedFirstTimestamp", "deprecatedLastTimestamp",
                    "deprecatedCount", regarding=_REFERENCE, related=_REFERENCE,
                    series=_fields("count", "lastObservedTime"), deprecatedSource=_fields("component", "host")),
}


def builtin_schema(resource: ResourceType) -> dict[str, Any] | None:
    """Which fields a built-in type has, as a schema `unknown_fields` reads; None for another type."""
    return _SCHEMAS.get(resource)
