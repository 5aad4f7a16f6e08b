"""Console, log and file channels (spec 3.6): their output and their failures."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifier import BackendRejectedError, BackendUnavailableError
from notifier._channels import ConsoleChannel, FileChannel, LogChannel, SendContext, atomic_write
from notifier._model import Notification
from tests.conftest import notification

CTX = SendContext(channel="x", attempt=1)
T0 = 1_767_225_600.5


def n(**spec: Any) -> Notification:
    body = notification("disk", namespace="prod", **spec)
    body["metadata"].update(uid="u-1", labels={"team": "sre"})
    body["status"] = {"phase": "Sending", "successfulDeliveries": 1}
    return Notification.from_object(body)


def test_console_writes_priority_type_subject_then_body() -> None:
    lines: list[str] = []
    asyncio.run(ConsoleChannel(lines.append).deliver(n(), CTX))
    assert lines == ["[High] [Simple] disk full\nnode-1 disk 95%\n"]


def test_log_json_has_the_documented_keys() -> None:
    lines: list[str] = []
    asyncio.run(LogChannel(lambda: T0, write=lines.append).deliver(
        n(extensions={"k": "v"}, actionLinks=[{"service": "grafana", "url": "https://g"}]), CTX))
    record = json.loads(lines[0])
    assert record == {
        "timestamp": "2026-01-01T00:00:00Z", "notification_name": "disk", "notification_namespace": "prod",
        "notification_uid": "u-1", "type": "Simple", "priority": "High", "subject": "disk full",
        "body": "node-1 disk 95%", "metadata": {"k": "v"}, "labels": {"team": "sre"}, "phase": "Sending",
        "successful_deliveries": 1, "action_links": [{"service": "grafana", "url": "https://g"}]}


def test_log_text_is_one_line() -> None:
    lines: list[str] = []
    asyncio.run(LogChannel(lambda: T0, fmt="text", write=lines.append).deliver(n(), CTX))
    assert lines == ["[2026-01-01T00:00:00Z] prod/disk disk full: node-1 disk 95%"]


def test_log_format_is_checked() -> None:
    with pytest.raises(ValueError, match=r"^log format must be 'json' or 'text', not 'xml'$"):
        LogChannel(lambda: T0, fmt="xml")


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_file_writes_the_whole_resource_with_a_timestamped_name(tmp_path: Path, fmt: str) -> None:
    asyncio.run(FileChannel(tmp_path, lambda: T0, fmt=fmt).deliver(n(), CTX))
    (written,) = list(tmp_path.iterdir())
    assert written.name == f"notification-disk-20260101-000000.500000.{fmt}"
    loaded = json.loads(written.read_text()) if fmt == "json" else yaml.safe_load(written.read_text())
    assert loaded["metadata"]["name"] == "disk" and loaded["spec"]["subject"] == "disk full"


def test_file_write_failure_is_retryable(tmp_path: Path) -> None:
    def broken(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")
    with pytest.raises(BackendUnavailableError, match="No space left on device"):
        asyncio.run(FileChannel(tmp_path, lambda: T0, writer=broken).deliver(n(), CTX))


def test_unsupported_file_format_is_permanent(tmp_path: Path) -> None:
    with pytest.raises(BackendRejectedError):
        asyncio.run(FileChannel(tmp_path, lambda: T0, fmt="xml").deliver(n(), CTX))


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.json", b"{}")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_atomic_write_removes_the_temp_file_when_the_rename_fails(tmp_path: Path) -> None:
    (tmp_path / "a.json").mkdir()
    (tmp_path / "a.json" / "blocker").write_text("x")
    with pytest.raises(OSError):
        atomic_write(tmp_path / "a.json", b"{}")
    assert not (tmp_path / "a.json.tmp").exists()


def test_enrichment_replaces_the_workflow_id_with_its_name() -> None:
    from notifier._model import enrich

    n1 = n(body="ran wf-123 twice", context={"workflow": {"workflowId": "wf-123", "workflowName": "restart-pod"}})
    assert enrich(n1).body == "ran restart-pod twice"


@pytest.mark.parametrize("workflow", [{"workflowId": "wf-1"}, {"workflowName": "x"}, {}])
def test_enrichment_needs_both_the_id_and_the_name(workflow: dict[str, str]) -> None:
    from notifier._model import enrich

    n1 = n(body="ran wf-1", context={"workflow": workflow})
    assert enrich(n1) is n1


def test_enrichment_falls_back_to_the_selected_workflow() -> None:
    from notifier._model import enrich

    n1 = n(body="chose sel-9", context={"workflow": {"selectedWorkflow": "sel-9", "workflowName": "drain"}})
    assert enrich(n1).body == "chose drain"
