"""YAML files validated by pydantic models, with errors that name the file, the line and the field.

Pure apart from reading the text it is given: the caller reads the file. Used for routing files here and for
scenario files by the harness.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from notifier._errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(ConfigError):
    """A configuration file is unreadable or invalid. Carries `path`, `line` (1-based, 0 unknown), `field`."""

    def __init__(self, path: str, line: int, field: str, problem: str) -> None:
        where = f"{path}:{line}" if line else path
        subject = f"{field}: " if field else ""
        super().__init__(f"{where}: {subject}{problem}")
        self.path = path
        self.line = line
        self.field = field
        self.problem = problem


def load_model(text: str, model: type[M], path: str) -> M:
    """Parse `text` as YAML and validate it with `model`.

    Raises:
        ConfigFileError: bad YAML, or the first validation error, naming its line and dotted field.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigFileError(path, line, "", f"not valid YAML: {problem}") from None
    if data is None:
        raise ConfigFileError(path, 1, "", "the file is empty")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        loc = [part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        field = _dotted(loc)
        raise ConfigFileError(path, _line_of(root, loc), field, _wording(first)) from None


def _dotted(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _wording(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    message = str(error["msg"])
    value = error.get("input")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message[0].lower()}{message[1:]}, got {value!r}"
    return message[0].lower() + message[1:]


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """The line of the deepest node along `loc` that exists (a missing field points at its parent)."""
    line = node.start_mark.line + 1 if node is not None else 0
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if key.value == part:
                    found = value
                    line = key.start_mark.line + 1
                    break
            if found is None:
                return line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
