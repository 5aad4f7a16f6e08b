"""kubectl against the sandbox as against a cluster: server-side apply and its conflicts, `--dry-run=server`,
patches of every type, `get -w`, delete with a finalizer, label and field selectors."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import yaml

from tests.conftest import notification
from tests.e2e.conftest import Sandbox, wait_for


def _file(tmp_path: Path, name: str, **labels: str) -> Path:
    body = notification(name)
    if labels:
        body["metadata"]["labels"] = labels
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def _get(box: Sandbox, *args: str) -> dict[str, object]:
    answer: dict[str, object] = json.loads(box.kubectl("get", *args, "-o", "json").stdout)
    return answer


def test_server_side_apply_owns_fields_and_reports_a_conflict(sandbox: Sandbox, kubectl: str,
                                                              tmp_path: Path) -> None:
    done = sandbox.kubectl("apply", "--server-side", "-f", str(_file(tmp_path, "ssa", team="sre")))
    assert done.stdout.strip() == "notificationrequest.kubernaut.ai/ssa serverside-applied"
    managers = {e["manager"]: e["operation"] for e in _get(sandbox, "notif", "ssa",
                                                            "--show-managed-fields")["metadata"]["managedFields"]}
    assert managers == {"kubectl": "Apply"}
    other = _file(tmp_path, "ssa", team="db")
    refused = sandbox.kubectl("apply", "--server-side", "--field-manager=ops", "-f", str(other), check=False)
    assert refused.returncode != 0 and 'conflict with "kubectl"' in refused.stderr
    assert ".metadata.labels.team" in refused.stderr
    sandbox.kubectl("apply", "--server-side", "--field-manager=ops", "--force-conflicts", "-f", str(other))
    assert _get(sandbox, "notif", "ssa")["metadata"]["labels"] == {"team": "db"}  # type: ignore[index]


def test_a_server_dry_run_checks_and_stores_nothing(sandbox: Sandbox, kubectl: str, tmp_path: Path) -> None:
    done = sandbox.kubectl("apply", "--dry-run=server", "-f", str(_file(tmp_path, "dry")))
    assert done.stdout.strip() == "notificationrequest.kubernaut.ai/dry created (server dry run)"
    missing = sandbox.kubectl("get", "notif", "dry", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr
    bad = notification("dry-bad", priority="Urgent")
    refused = sandbox.kubectl("create", "--dry-run=server", "-f", "-", input=yaml.safe_dump(bad), check=False)
    assert refused.returncode != 0 and 'spec.priority: Unsupported value: "Urgent"' in refused.stderr


def test_patches_of_every_type(sandbox: Sandbox, kubectl: str, tmp_path: Path) -> None:
    sandbox.kubectl("apply", "-f", str(_file(tmp_path, "patched")))
    sandbox.kubectl("patch", "notif", "patched", "--type=merge", "-p", '{"metadata":{"labels":{"a":"1"}}}')
    sandbox.kubectl("patch", "notif", "patched", "--type=json",
                    "-p", '[{"op":"add","path":"/metadata/labels/b","value":"2"}]')
    failed = sandbox.kubectl("patch", "notif", "patched", "--type=json",
                             "-p", '[{"op":"test","path":"/metadata/labels/a","value":"9"}]', check=False)
    assert failed.returncode != 0 and "the server rejected our request due to an error in our request" in failed.stderr
    assert _get(sandbox, "notif", "patched")["metadata"]["labels"] == {"a": "1", "b": "2"}  # type: ignore[index]
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "kubectl-lease", "namespace": "default"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(lease))
    sandbox.kubectl("patch", "lease", "kubectl-lease", "-p", '{"spec":{"holderIdentity":"b"}}')  # strategic
    assert _get(sandbox, "lease", "kubectl-lease")["spec"] == {"holderIdentity": "b", "leaseDurationSeconds": 15}


def test_delete_waits_for_the_finalizer(sandbox: Sandbox, kubectl: str, tmp_path: Path) -> None:
    body = notification("finalized")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    sandbox.kubectl("create", "-f", "-", input=yaml.safe_dump(body))
    sandbox.kubectl("delete", "notif", "finalized", "--wait=false")
    meta = _get(sandbox, "notif", "finalized")["metadata"]
    assert meta["deletionTimestamp"] and meta["deletionGracePeriodSeconds"] == 0  # type: ignore[index]
    sandbox.kubectl("patch", "notif", "finalized", "--type=json",
                    "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    wait_for(lambda: sandbox.kubectl("get", "notif", "finalized", check=False).returncode != 0, "the object to go")


def test_label_and_field_selectors(sandbox: Sandbox, kubectl: str, tmp_path: Path) -> None:
    for name, team in (("sel-a", "sre"), ("sel-b", "db"), ("sel-c", "web")):
        sandbox.kubectl("apply", "-f", str(_file(tmp_path, name, team=team, group="selectors")))

    def names(labels: str, *args: str) -> list[str]:
        return sandbox.kubectl("get", "notif", "-l", f"group=selectors{labels}", *args, "-o", "name").stdout.split()

    assert names(",team in (sre,db)") == ["notificationrequest.kubernaut.ai/sel-a",
                                          "notificationrequest.kubernaut.ai/sel-b"]
    assert names(",team!=sre", "--field-selector", "metadata.name!=sel-c") == [
        "notificationrequest.kubernaut.ai/sel-b"]
    assert names("", "--field-selector", "spec.type=Simple") == [f"notificationrequest.kubernaut.ai/sel-{x}"
                                                                  for x in "abc"]


def test_get_watch_prints_changes_as_they_happen(sandbox: Sandbox, kubectl: str, tmp_path: Path) -> None:
    watcher = subprocess.Popen([kubectl, "--kubeconfig", str(sandbox.kubeconfig), "get", "notif", "-l",
                                "watched=yes", "-w", "-o", "name"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        time.sleep(1.0)  # (the list and the watch opened)
        sandbox.kubectl("apply", "-f", str(_file(tmp_path, "watched-1", watched="yes")))
        sandbox.kubectl("label", "notif", "watched-1", "extra=1")
        wait_for(lambda: _get(sandbox, "notif", "watched-1")["metadata"]["labels"].get("extra"),  # type: ignore[index]
                 "the label")
        time.sleep(1.0)
    finally:
        watcher.terminate()
        out, err = watcher.communicate(timeout=10)
    assert out.split() == ["notificationrequest.kubernaut.ai/watched-1"] * 2, err
