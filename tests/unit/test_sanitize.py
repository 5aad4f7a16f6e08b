"""Sanitization of subject and body before a send (spec 3.7): each category is redacted."""

from __future__ import annotations

import pytest

from notifier._sanitize import REDACTED, RULES, sanitize

CASES = [
    ("prometheus-generator-url", '{"generatorURL": "http://prom:9090/graph?g0.expr=up"}', "prom:9090"),
    ("json-annotations", '{"annotations": {"runbook": "internal"}}', "runbook"),
    ("pem", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", "MIIEvQIBADANBg"),
    ("json-secret", '{"password": "hunter2"}', "hunter2"),
    ("bearer", "Authorization header was Bearer abc.def.ghi", "abc.def.ghi"),
    ("key-value-secret", "api_key=AbCdEf123 token: zzz999", "AbCdEf123"),
    ("openai-key", "key sk-abcdefghijklmnopqrstuv in logs", "sk-abcdefghijklmnopqrstuv"),
    ("github-token", "pushed with ghp_aaaaaaaaaaaaaaaaaaaaaaaa", "ghp_aaaaaaaaaaaaaaaaaaaaaaaa"),
    ("aws-access-key", "found AKIAABCDEFGHIJKLMNOP in env", "AKIAABCDEFGHIJKLMNOP"),
    ("aws-secret-key", "aws_secret_access_key = " + "A" * 40, "A" * 40),
    ("url-credentials", "db is postgres://admin:s3cret@db:5432/app", "admin:s3cret"),
    ("k8s-secret-data", "data:\n  password: c3VwZXJzZWNyZXRwYXNzd29yZDEyMw==", "c3VwZXJzZWNyZXRwYXNzd29yZDEyMw=="),
    ("email", "paged alice@example.com", "alice@example.com"),
    ("ipv4", "node 10.1.2.3 is down", "10.1.2.3"),
]


@pytest.mark.parametrize(("category", "text", "secret"), CASES, ids=[c[0] for c in CASES])
def test_each_secret_category_is_redacted(category: str, text: str, secret: str) -> None:
    cleaned = sanitize(text)
    assert secret not in cleaned and REDACTED in cleaned


def test_every_rule_has_a_case() -> None:
    assert sorted(name for name, _, _ in RULES) == sorted(case[0] for case in CASES)


def test_plain_text_is_left_alone() -> None:
    text = "Disk usage on node-1 reached 95%; see the runbook."
    assert sanitize(text) == text


def test_redacting_twice_changes_nothing_more() -> None:
    once = sanitize('password=abc {"token": "x"} bob@example.org')
    assert sanitize(once) == once
