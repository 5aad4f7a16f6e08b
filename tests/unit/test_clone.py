"""`clone`, the JSON-value deep copy that replaced `copy.deepcopy` on every API object."""

from __future__ import annotations

from datetime import UTC, datetime

from notifier._resources import clone


def test_a_clone_is_equal_and_shares_no_container() -> None:
    obj = {"metadata": {"labels": {"a": "1"}}, "status": {"attempts": [{"n": 1, "ok": True, "w": 0.5, "e": None}]}}
    copied = clone(obj)
    assert copied == obj
    copied["metadata"]["labels"]["a"] = "2"
    copied["status"]["attempts"][0]["n"] = 2
    copied["status"]["attempts"].append({})
    assert obj == {"metadata": {"labels": {"a": "1"}}, "status": {"attempts": [{"n": 1, "ok": True, "w": 0.5,
                                                                                 "e": None}]}}


def test_values_that_are_not_json_are_still_copied_deeply() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    obj = {"pair": ([1], [2]), "when": when}
    copied = clone(obj)
    assert copied == obj and copied["pair"] is not obj["pair"] and copied["pair"][0] is not obj["pair"][0]
