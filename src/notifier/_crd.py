"""The NotificationRequest CRD manifest, shipped as `crd.yaml` beside this module."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def crd_text() -> str:
    """The manifest as YAML text, exactly as shipped."""
    return resources.files("notifier").joinpath("crd.yaml").read_text(encoding="utf-8")


def crd_manifest() -> dict[str, Any]:
    """The manifest parsed: a `CustomResourceDefinition` object."""
    loaded: dict[str, Any] = yaml.safe_load(crd_text())
    return loaded
