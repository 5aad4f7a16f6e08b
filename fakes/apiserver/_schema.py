"""Structural-schema defaulting and validation, as the API server applies a CRD's openAPIV3Schema.

Pure: no I/O. Covers what CRDs use: type, enum, minLength/maxLength, pattern, format (date-time, date),
minItems/maxItems, minimum/maximum, required, default,
properties, additionalProperties, items, x-kubernetes-preserve-unknown-fields, and the one transition rule
controllers rely on, `self == oldSelf`. Unknown fields are pruned, as a structural schema prunes them.
Errors name the field path and use the API server's wording.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

from notifier import clone

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
SUPPORTED_RULES = frozenset({"self == oldSelf"})


@dataclass(frozen=True, slots=True)
class FieldError:
    """One cause of an Invalid answer: `field`, the `reason` word, and the server's message."""

    field: str
    reason: str
    message: str

    def as_cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


def _quote(value: Any) -> str:
    return json.dumps(value)


def _is_type(value: Any, type_name: str) -> bool:
    if type_name in ("integer", "number") and isinstance(value, bool):
        return False
    if type_name == "number" and isinstance(value, float) and value != value:  # NaN
        return False
    return isinstance(value, _TYPES.get(type_name, (object,)))


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Fill missing fields that have a default, recursively, where their parent object exists."""
    if isinstance(value, dict):
        props: dict[str, Any] = schema.get("properties", {})
        for name, sub in props.items():
            if name not in value and "default" in sub:
                value[name] = clone(sub["default"])
            if name in value:
                value[name] = apply_defaults(sub, value[name])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name in value:
                if name not in props:
                    value[name] = apply_defaults(extra, value[name])
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(schema["items"], item) for item in value]
    return value


def prune(schema: dict[str, Any], value: Any) -> Any:
    """Drop fields the schema does not know, unless it preserves unknown fields."""
    if isinstance(value, dict) and schema.get("type") == "object":
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields", False)
        if not props and extra is None:
            return value
        for name in list(value):
            if name in props:
                value[name] = prune(props[name], value[name])
            elif isinstance(extra, dict):
                value[name] = prune(extra, value[name])
            elif not preserve:
                del value[name]
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(schema["items"], item) for item in value]
    return value


#: ObjectMeta's fields: any other under `metadata` is unknown, whatever the schema says of `metadata`.
OBJECT_META = frozenset({"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                         "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
                         "annotations", "ownerReferences", "finalizers", "managedFields"})


def unknown_fields(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """The paths `prune` would drop, as apiextensions' pruning reports them for `fieldValidation`
    (`spec.foo`, `spec.items[0].foo`: `schema/options.go` `AppendKey`/`AppendIndex`), in document order."""
    out: list[str] = []
    if isinstance(value, dict) and path == "" and isinstance(value.get("metadata"), dict):
        out += [f"metadata.{name}" for name in value["metadata"] if name not in OBJECT_META]
    if isinstance(value, dict) and schema.get("type") == "object":
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not props and extra is None:
            return out
        for name, item in value.items():
            if path == "" and name == "metadata":
                continue
            if name in props:
                out += unknown_fields(props[name], item, _join(path, name))
            elif isinstance(extra, dict):
                out += unknown_fields(extra, item, _join(path, name))
            elif not schema.get("x-kubernetes-preserve-unknown-fields", False):
                out.append(_join(path, name))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            out += unknown_fields(schema["items"], item, f"{path}[{index}]")
    return out


def validate(schema: dict[str, Any], value: Any, path: str = "", root: str = "") -> list[FieldError]:
    """Every violation of `schema` by `value`, in document order. Messages name a field relative to `root`
    ("`x in body`"), as a validator rooted there does: the status subresource's is rooted at `status`
    (apiextensions' `ValidateStatusUpdate`), so its errors read `status.x: ...: x in body ...`."""
    errors: list[FieldError] = []
    type_name = schema.get("type")
    at = _body(path, root)
    if value is None:
        if not schema.get("nullable", False) and type_name is not None:
            errors.append(FieldError(path, "FieldValueTypeInvalid", f"Invalid value: \"null\": {path} in "
                                     f"body must be of type {type_name}: \"null\""))
        return errors
    if type_name is not None and not _is_type(value, type_name):
        got = _json_type(value)
        errors.append(FieldError(path, "FieldValueTypeInvalid",
                                 f"Invalid value: \"{got}\": {at} in body must be of type {type_name}: \"{got}\""))
        return errors
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(_quote(v) for v in schema["enum"])
        errors.append(FieldError(path, "FieldValueNotSupported",
                                 f"Unsupported value: {_quote(value)}: supported values: {supported}"))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(FieldError(path, "FieldValueInvalid",
                                     f"Invalid value: {_quote(value)}: {at} in body should be at least "
                                     f"{schema['minLength']} chars long"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(FieldError(path, "FieldValueTooLong",
                                     f"Too long: may not be more than {schema['maxLength']} bytes"))
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {_quote(value)}: {at} in body "
                                                                f"should match '{schema['pattern']}'"))
        if schema.get("format") in _FORMATS and not _FORMATS[schema["format"]](value):
            errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {_quote(value)}: {at} in body "
                                                                f"must be of type {schema['format']}: "
                                                                f"{_quote(value)}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(FieldError(path, "FieldValueInvalid",
                                     f"Invalid value: {value}: {at} in body should be greater than or "
                                     f"equal to {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(FieldError(path, "FieldValueInvalid",
                                     f"Invalid value: {value}: {at} in body should be less than or "
                                     f"equal to {schema['maximum']}"))
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                errors.append(FieldError(_join(path, name), "FieldValueRequired", "Required value"))
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name in props:
                errors.extend(validate(props[name], item, _join(path, name), root))
            elif isinstance(extra, dict):
                errors.extend(validate(extra, item, _join(path, name), root))
    if isinstance(value, list) and "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(FieldError(path, "FieldValueTooMany",
                                 f"Too many: {len(value)}: must have at most {schema['maxItems']} items"))
    if isinstance(value, list) and "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: {len(value)}: {at} in body should "
                                                            f"have at least {schema['minItems']} items"))
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            errors.extend(validate(schema["items"], item, f"{path}[{index}]", root))
    return errors


def _date_time(text: str) -> bool:
    """kube-openapi's `strfmt.IsDateTime`: RFC 3339 and the ISO 8601 shapes its `ParseDateTime` accepts."""
    match = _DATE_TIME.match(text)
    if match is None:
        return False
    try:
        datetime.datetime.fromisoformat(f"{match.group(1)}T{match.group(2) or '00:00'}{match.group(3) or ''}")
    except ValueError:
        return False
    return True


def _date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})"
                        r"(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)([Zz]|[+-]\d{2}:?\d{2})?)?$")
#: The string formats checked (kube-openapi's `strfmt` registry has more; the CRD uses these).
_FORMATS = {"date-time": _date_time, "date": _date}


def validate_transition(schema: dict[str, Any], new: Any, old: Any, path: str = "") -> list[FieldError]:
    """The transition rules (`x-kubernetes-validations` with `oldSelf`) of `schema` and its properties."""
    errors: list[FieldError] = []
    for rule in schema.get("x-kubernetes-validations", []):
        if rule["rule"] not in SUPPORTED_RULES:
            raise ValueError(f"unsupported validation rule {rule['rule']!r}; supported: {sorted(SUPPORTED_RULES)}")
        if old is not None and new != old:
            message = rule.get("message", f"failed rule: {rule['rule']}")
            errors.append(FieldError(path, "FieldValueInvalid", f"Invalid value: \"object\": {message}"))
    if isinstance(new, dict) and isinstance(old, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in new and name in old:
                errors.extend(validate_transition(sub, new[name], old[name], _join(path, name)))
    return errors


def check_rules_supported(schema: dict[str, Any]) -> None:
    """Raise ValueError at registration if the schema uses a rule this fake cannot evaluate."""
    validate_transition(schema, None, None)
    for sub in schema.get("properties", {}).values():
        check_rules_supported(sub)


def validate_name(name: str, path: str = "metadata.name") -> list[FieldError]:
    """A DNS-1123 subdomain of at most 253 characters, as object names must be."""
    if not name:
        return [FieldError(path, "FieldValueRequired", "Required value: name or generateName is required")]
    if len(name) > 253:
        return [FieldError(path, "FieldValueInvalid",
                           f"Invalid value: {_quote(name)}: must be no more than 253 characters")]
    if not _DNS1123_SUBDOMAIN.match(name):
        return [FieldError(path, "FieldValueInvalid",
                           f"Invalid value: {_quote(name)}: a lowercase RFC 1123 subdomain must consist of lower "
                           f"case alphanumeric characters, '-' or '.', and must start and end with an "
                           f"alphanumeric character")]
    return []


def _body(path: str, root: str) -> str:
    return path[len(root) + 1:] if root and path.startswith(root + ".") else path


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _json_type(value: Any) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__
