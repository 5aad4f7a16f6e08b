"""Label and field selectors, parsed and matched as apimachinery's `labels.Parse` and `fields.ParseSelector` do.

Label selectors have the whole grammar of `pkg/labels/selector.go`: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
`k notin (a,b)`, `k` (exists), `!k` (does not exist), `k>1`, `k<1`. `!=` and `notin` also match an object
without the label. Field selectors (`pkg/fields/selector.go`) have `=`, `==` and `!=` terms, a backslash
escaping `,`, `=` and `!`; which field labels a resource supports is the server's to say (`ApiServer`):
`metadata.name` and `metadata.namespace` everywhere, a CustomResource's declared `selectableFields`, and the
fields the Event strategy exposes. A malformed selector, or an unsupported field, is a 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from notifier import BadRequestError

#: A label key: an optional DNS-subdomain prefix and `/`, then a name (`validation.IsQualifiedName`).
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
#: A label value (`validation.IsValidLabelValue`): empty, or 63 characters at most of this shape.
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
#: The lexer's tokens (`labels.Lexer`): operators, parentheses, commas, and identifiers (anything else up
#: to a space or one of those).
_TOKEN = re.compile(r"\s*(==|!=|=|!|>|<|\(|\)|,|[^\s=!<>(),]+)")


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label term: `key op values` (op in =, !=, in, notin, exists, !, gt, lt)."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        try:  # gt, lt: both sides integers, or no match (`Requirement.Matches`)
            have, bound = int(value), int(self.values[0])
        except ValueError:
            return False
        return present and (have > bound if self.op == "gt" else have < bound)


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """One field term: `field=value` or `field!=value`."""

    field: str
    value: str
    negated: bool = False

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (fields.get(self.field, "") == self.value) != self.negated


@dataclass(frozen=True, slots=True)
class Selector:
    """A list's or watch's filter: every label requirement and every field term must hold."""

    labels: tuple[Requirement, ...] = ()
    fields: tuple[FieldTerm, ...] = ()

    @classmethod
    def parse(cls, label_selector: str = "", field_selector: str = "") -> Selector:
        return cls(parse_labels(label_selector), parse_fields(field_selector))

    def __bool__(self) -> bool:
        return bool(self.labels or self.fields)

    def field(self, name: str) -> str | None:
        """The value an `=` term requires of a field, if one does (a namespace or a name to narrow to)."""
        return next((t.value for t in self.fields if t.field == name and not t.negated), None)

    def matches(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.labels) and all(t.matches(fields) for t in self.fields)


def parse_labels(selector: str) -> tuple[Requirement, ...]:
    """The requirements of a label selector, in the order written (`labels.Parse`)."""
    if not selector.strip():
        return ()
    tokens = _TOKEN.findall(selector)
    out: list[Requirement] = []
    at = 0

    def take() -> str:
        nonlocal at
        token = tokens[at] if at < len(tokens) else ""
        at += 1
        return token

    while True:
        negated = tokens[at] == "!" if at < len(tokens) else False
        if negated:
            at += 1
        key = take()
        if not key or not _KEY.match(key):
            raise _bad(selector, f"invalid label key {key!r}")
        following = tokens[at] if at < len(tokens) else ""
        if following in ("", ","):
            out.append(Requirement(key, "!" if negated else "exists"))
        elif negated:
            raise _bad(selector, f"found '{following}', expected: ',' or 'end of string'")
        else:
            op = take()
            if op in ("=", "=="):
                out.append(Requirement(key, "=", (_value(selector, take()),)))
            elif op == "!=":
                out.append(Requirement(key, "!=", (_value(selector, take()),)))
            elif op in (">", "<"):
                bound = take()
                if not re.fullmatch(r"-?\d+", bound):
                    raise _bad(selector, f"for 'Gt', 'Lt' operators, the value must be an integer: {bound!r}")
                out.append(Requirement(key, "gt" if op == ">" else "lt", (bound,)))
            elif op in ("in", "notin"):
                if take() != "(":
                    raise _bad(selector, "found '(' expected for set-based requirement")
                values: list[str] = []
                while True:
                    token = take()
                    if token == ")" and not values:
                        raise _bad(selector, "for 'in', 'notin' operators, values set can't be empty")
                    if token in ("", ",", ")", "(") or not _VALUE.match(token):
                        raise _bad(selector, f"found {token!r}, expected: a value or ')'")
                    values.append(token)
                    closing = take()
                    if closing == ")":
                        break
                    if closing != ",":
                        raise _bad(selector, f"found {closing!r}, expected: ',' or ')'")
                out.append(Requirement(key, op, tuple(sorted(set(values)))))
            else:
                raise _bad(selector, f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
        token = take()
        if token == "":
            return tuple(out)
        if token != ",":
            raise _bad(selector, f"found '{token}', expected: ',' or 'end of string'")


def _value(selector: str, token: str) -> str:
    if token in (",", "(", ")", "!", "=", "==", "!=") or not _VALUE.match(token):
        raise _bad(selector, f"invalid label value: {token!r}: a valid label must be an empty string or "
                             f"consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                             f"with an alphanumeric character")
    return token


def _bad(selector: str, why: str) -> BadRequestError:
    return BadRequestError(f"unable to parse requirement: {why} (in labelSelector {selector!r})")


def parse_fields(selector: str) -> tuple[FieldTerm, ...]:
    """The terms of a field selector (`fields.ParseSelector`): `,` separates them, `\\` escapes."""
    terms: list[FieldTerm] = []
    for raw in _split_unescaped(selector, ","):
        if not raw:
            continue
        match = re.match(r"^((?:[^\\=!]|\\.)*)(!=|==|=)(.*)$", raw)
        if match is None:
            raise BadRequestError(f"invalid selector: '{selector}'; can't understand '{raw}'")
        field, op, value = match.groups()
        terms.append(FieldTerm(_unescape(field), _unescape(value), negated=op == "!="))
    return tuple(terms)


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
