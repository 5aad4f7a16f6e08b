"""The sandbox as a user drives it: `serve`, the real controller process, the official client and kubectl."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier import NOTIFICATIONS, KubeObject
from tests.conftest import notification
from tests.e2e.conftest import Sandbox, kubectl_path, start_sandbox, wait_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def controlled(sandbox: Sandbox) -> Iterator[Sandbox]:
    controller = sandbox.start_controller("notifier-0")
    wait_for(lambda: "started" in controller.text() or controller.popen.poll() is not None, "the controller")
    assert controller.popen.poll() is None, controller.text()
    yield sandbox


def _get(box: Sandbox, name: str) -> KubeObject:
    return asyncio.run(box.api().get(NOTIFICATIONS, "default", name))


def _phase(box: Sandbox, name: str) -> str:
    return str(_get(box, name).get("status", {}).get("phase", ""))


def test_a_notification_created_with_the_official_client_ends_sent_and_reaches_slack(controlled: Sandbox) -> None:
    body = notification("from-client", subject="client-made alert", priority="High")
    asyncio.run(controlled.api().create(NOTIFICATIONS, "default", body))
    wait_for(lambda: _phase(controlled, "from-client") == "Sent", "phase Sent")
    uid = _get(controlled, "from-client")["metadata"]["uid"]
    slack = [r for r in controlled.receipts() if r["notification"] == uid]
    assert [(r["service"], r["endpoint"], r["answered"]) for r in slack] == [("slack", "alerts", 200)]
    assert "client-made alert" in json.dumps(slack[0]["payload"])
    assert slack[0]["replica"] == "notifier-0" and slack[0]["fencing_token"].startswith("notifier-0@")


def test_kubectl_apply_get_columns_json_and_delete(controlled: Sandbox, kubectl: str) -> None:
    applied = controlled.kubectl("apply", "-f", str(EXAMPLES / "notification.yaml"))
    assert applied.stdout.strip() == "notificationrequest.kubernaut.ai/disk-pressure created"
    wait_for(lambda: _phase(controlled, "disk-pressure") == "Sent", "phase Sent")
    table = controlled.kubectl("get", "notif").stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "PRIORITY", "PHASE", "ATTEMPTS", "AGE"]
    row = next(line.split() for line in table[1:] if line.startswith("disk-pressure "))
    assert row[:5] == ["disk-pressure", "Escalation", "High", "Sent", "2"]
    wide = controlled.kubectl("get", "notificationrequests", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "TYPE", "PRIORITY", "PHASE", "ATTEMPTS", "REASON", "AGE"]
    as_json = json.loads(controlled.kubectl("get", "notif", "disk-pressure", "-o", "json").stdout)
    assert as_json["kind"] == "NotificationRequest" and as_json["status"]["phase"] == "Sent"
    assert as_json["status"]["successfulDeliveries"] == 2
    again = controlled.kubectl("apply", "-f", str(EXAMPLES / "notification.yaml"))
    assert again.stdout.strip() == "notificationrequest.kubernaut.ai/disk-pressure unchanged"
    deleted = controlled.kubectl("delete", "notif", "disk-pressure")
    # (kubectl 1.35 and later add " from default namespace")
    assert deleted.stdout.strip().startswith('notificationrequest.kubernaut.ai "disk-pressure" deleted')
    gone = controlled.kubectl("get", "notif", "disk-pressure", check=False)
    assert gone.returncode == 1 and "NotFound" in gone.stderr and '"disk-pressure" not found' in gone.stderr


def test_kubectl_get_watch_streams_each_change(controlled: Sandbox, kubectl: str, tmp_path: Path) -> None:
    # kubectl prints nothing for an empty list under -w, so one object first shows when the watch is listed.
    asyncio.run(controlled.api().create(NOTIFICATIONS, "default", notification("watch-anchor")))
    out = tmp_path / "watch.out"
    with out.open("wb") as handle:
        watch = subprocess.Popen([kubectl_path(), "--kubeconfig", str(controlled.kubeconfig), "get", "notif", "-w"],
                                 stdout=handle, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: "watch-anchor" in out.read_text(), "the watch to list")
            controlled.kubectl("apply", "-f", str(EXAMPLES / "critical.yaml"))
            rows = wait_for(lambda: [line.split() for line in out.read_text().splitlines()
                                     if line.startswith("disk-full ") and " Sent " in line], "a Sent row")
        finally:
            watch.send_signal(signal.SIGINT)
            watch.wait(10)
    assert rows[0][:5] == ["disk-full", "Escalation", "Critical", "Sent", "3"]
    seen = [line.split()[3] for line in out.read_text().splitlines()
            if line.startswith("disk-full ") and len(line.split()) == 6]
    assert seen.index("Sent") > 0  # the earlier phases streamed before it
    received = {(r["service"], r["endpoint"]) for r in controlled.receipts()
                if r["notification"] == _get(controlled, "disk-full")["metadata"]["uid"]}
    assert received == {("slack", "alerts"), ("pagerduty", "pager"), ("teams", "oncall")}


def _raw(box: Sandbox, method: str, path: str, token: str, body: bytes | None = None) -> tuple[int, Any]:
    context = ssl.create_default_context(cafile=str(box.directory / "tls" / "ca.crt"))
    server = json.loads(box.kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    request = urllib.request.Request(server + path, data=body, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_wrong_token_gets_401_and_changes_nothing_and_a_malformed_body_gets_400(controlled: Sandbox) -> None:
    token = json.loads(controlled.kubeconfig.read_text())["users"][0]["user"]["token"]
    path = "/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
    # Names, not the list's resourceVersion: that is the server's revision, which the controller running
    # beside this test (still finishing what earlier tests created, in any order) moves with its own writes.
    before = sorted(item["metadata"]["name"] for item in _raw(controlled, "GET", path, token)[1]["items"])
    code, body = _raw(controlled, "POST", path, "not-the-token", json.dumps(notification("intruder")).encode())
    assert (code, body["kind"], body["reason"]) == (401, "Status", "Unauthorized")
    code, body = _raw(controlled, "POST", path, token, b'{"metadata": {"name": ')
    assert (code, body["kind"], body["reason"]) == (400, "Status", "BadRequest")
    code, listed = _raw(controlled, "GET", path, token)
    assert code == 200 and sorted(item["metadata"]["name"] for item in listed["items"]) == before
    assert "intruder" not in before
    assert _raw(controlled, "GET", "/version", token)[0] == 200  # still serving


def test_serve_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox")
    assert box.serve.stop(signal.SIGINT) == 0
    assert "notifier-sim serve: stopped" in box.serve.text() and "Traceback" not in box.serve.text()
