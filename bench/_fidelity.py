"""Section 7: fidelity of the HTTPS front where timing matters: does any event arrive after a bookmark that
covers it? (A client resuming from that bookmark would lose the event; kube-apiserver never sends one so.)"""

from __future__ import annotations

import json
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from fakes.apiserver import ApiServer, HttpApiServer
from fakes.apiserver._tls import self_signed
from harness import EPOCH
from notifier import NOTIFICATIONS

TOKEN = "bench-token"


def _notification(name: str) -> dict[str, Any]:
    return {"apiVersion": "kubernaut.ai/v1alpha1", "kind": "NotificationRequest",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "Simple", "priority": "High", "subject": "s", "body": "b"}}


def bookmark_order(events: int, bookmark_every: float = 0.002) -> dict[str, Any]:
    """Watch over HTTPS with bookmarks every `bookmark_every` seconds while `events` objects are created:
    how many events came after a bookmark with a higher resourceVersion (the goal is 0)."""
    cert = self_signed()
    server = ApiServer(clock=lambda: EPOCH)
    with tempfile.TemporaryDirectory() as tmp, \
            HttpApiServer(server, token=TOKEN, tls=cert.context(Path(tmp)), bookmark_every=bookmark_every) as front:
        ca = Path(tmp) / "ca.pem"
        ca.write_bytes(cert.cert_pem)

        def write() -> None:
            for i in range(events):
                with front.lock:
                    server.create(NOTIFICATIONS, "default", _notification(f"n{i}"))
                if i % 20 == 0:
                    time.sleep(0.001)

        marked = late = added = bookmarks = 0
        writer = threading.Thread(target=write, name="bench-writer")
        url = (f"{front.url}/apis/kubernaut.ai/v1alpha1/namespaces/default/notificationrequests"
               f"?watch=1&allowWatchBookmarks=true&resourceVersion={server.revision}")
        with httpx.stream("GET", url, timeout=60, verify=ssl.create_default_context(cafile=str(ca)),
                          headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            writer.start()
            for line in answer.iter_lines():
                if not line.strip():
                    continue
                event = json.loads(line)
                version = int(event["object"]["metadata"]["resourceVersion"])
                if event["type"] == "BOOKMARK":
                    marked, bookmarks = max(marked, version), bookmarks + 1
                    continue
                late += version <= marked
                added += 1
                if added == events:
                    break
        writer.join()
    return {"events": added, "bookmarks": bookmarks, "bookmark_every_ms": bookmark_every * 1000,
            "events_after_a_higher_bookmark": late}


def section(quick: bool) -> dict[str, Any]:
    return {"bookmark_order": bookmark_order(60 if quick else 1800)}
