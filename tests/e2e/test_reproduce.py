"""From a real sandbox to the simulator: Slack loses one answer, two `notifier run` processes deliver again,
and `notifier-sim reproduce` finds that history in the simulator from what kubectl shows of it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from harness._dump import DUMPED
from harness.cli import main
from notifier import NOTIFICATIONS
from tests.conftest import notification
from tests.e2e.conftest import Sandbox, kubectl_path, start_sandbox, wait_for


def dump(box: Sandbox) -> str:
    """`kubectl get notificationrequests,leases,events -A -o yaml`; without kubectl, the same three lists read
    over the same HTTPS API and joined as kubectl joins them."""
    if kubectl_path():
        return box.kubectl("get", "notificationrequests,leases,events", "-A", "-o", "yaml").stdout
    api = box.api()
    items = []
    for rt in DUMPED:
        listed = asyncio.run(api.list(rt, None))
        items += [{"apiVersion": rt.api_version, "kind": rt.kind, **item} for item in listed.items]
    return yaml.safe_dump({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})


def test_a_lost_slack_answer_delivered_again_by_two_replicas_is_found_in_the_simulator(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = start_sandbox(tmp_path / "sandbox", "--answer", "slack=lost")
    try:
        replicas = [box.start_controller(f"replica-{i}", "--lock", "lease") for i in range(2)]
        for replica in replicas:
            wait_for(lambda r=replica: "started" in r.text() or r.popen.poll() is not None, f"{replica.name}")
            assert replica.popen.poll() is None, replica.text()
        api = box.api()
        body = notification("disk-full", retryPolicy={"maxAttempts": 3, "initialBackoffSeconds": 1,
                                                      "backoffMultiplier": 2, "maxBackoffSeconds": 60})
        asyncio.run(api.create(NOTIFICATIONS, "default", body))

        def phase() -> str:
            return str(asyncio.run(api.get(NOTIFICATIONS, "default", "disk-full")).get("status", {}).get("phase"))

        wait_for(lambda: phase() == "Sent", "the notification Sent", within=60)
        slack = Counter(r["attempt"] for r in box.receipts() if r["service"] == "slack")
        assert sum(slack.values()) == 2, slack  # the lost answer's message, and its redelivery
        (tmp_path / "dump.yaml").write_text(dump(box))
    finally:
        box.close()
    capsys.readouterr()
    # on-call saw the message twice in Slack: a duplicate, as far as they know
    code = main(["reproduce", str(tmp_path / "dump.yaml"), "--symptom", "duplicate-delivery", "--budget", "60",
                 "-j", "1", "--out", str(tmp_path / "reproduce")])
    said = capsys.readouterr().out
    assert code == 0, said
    assert "symptom: redelivery: disk-full slack:team-alerts" in said, said
    assert "reproduced in" in said and "things the dump shows" in said, said
    assert "its answer was lost" in said, said  # the story names the lost answer
    test = next((tmp_path / "reproduce" / "regressions").glob("test_*.py"))
    assert "assert shown and broken == []" in test.read_text()
    # the simulated world's slack attempts are the sandbox's: an unknown outcome, then a redelivery
    scenario = yaml.safe_load((tmp_path / "reproduce" / "scenario.yaml").read_text())
    assert scenario["symptom"]["kind"] == "redelivery"
    assert json.dumps(scenario["backends"]["slack:team-alerts"]["script"][0]) == '{"outcome": "timeout-after-receive"}'
