"""Two `notifier run` processes with `--lock lease` against one sandbox: every message is delivered once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from notifier import NOTIFICATIONS
from tests.conftest import notification
from tests.e2e.conftest import start_sandbox, wait_for

COUNT = 8


def test_two_replicas_with_leases_deliver_each_notification_once(tmp_path: Path) -> None:
    box = start_sandbox(tmp_path / "sandbox")
    try:
        replicas = [box.start_controller(f"replica-{i}", "--lock", "lease", "--workers", "2") for i in range(2)]
        for replica in replicas:
            wait_for(lambda r=replica: "started" in r.text() or r.popen.poll() is not None, f"{replica.name}")
            assert replica.popen.poll() is None, replica.text()
        api = box.api()

        async def create_all() -> None:
            for i in range(COUNT):
                priority = "Critical" if i % 2 else "High"
                await api.create(NOTIFICATIONS, "default", notification(f"n{i}", priority=priority))

        asyncio.run(create_all())

        def phases() -> list[str]:
            listed = asyncio.run(api.list(NOTIFICATIONS, "default"))
            return [str(item.get("status", {}).get("phase", "")) for item in listed.items]

        wait_for(lambda: phases() == ["Sent"] * COUNT, f"{COUNT} notifications Sent", within=60)
        receipts = box.receipts()
        per_message = Counter((r["notification"], r["service"]) for r in receipts)
        assert sum(per_message.values()) == COUNT // 2 * 1 + COUNT // 2 * 3  # High: Slack; Critical: Slack, PD, Teams
        assert set(per_message.values()) == {1}, per_message
        assert {r["replica"] for r in receipts} <= {"replica-0", "replica-1"}
        assert all(r["fencing_token"].startswith(r["replica"] + "@") for r in receipts)
        assert all(r.popen.poll() is None for r in replicas)
    finally:
        box.close()
    assert [r.popen.returncode for r in box.controllers] == [0, 0]
