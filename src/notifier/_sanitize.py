"""Redaction of secrets and PII from subject and body before each send (spec 3.7).

Pure: text in, text out. Rules run in order; each match becomes `[REDACTED]`.
"""

from __future__ import annotations

import re
from typing import Final

REDACTED: Final = "[REDACTED]"
_KEYS = r"(?:password|passwd|pwd|api[_-]?key|apikey|token|access[_-]?token|secret|client[_-]?secret|authorization)"

#: (category, pattern, replacement) in the order they apply.
RULES: Final[tuple[tuple[str, re.Pattern[str], str], ...]] = (
    ("prometheus-generator-url", re.compile(r'("generatorURL"\s*:\s*)"[^"]*"'), rf'\1"{REDACTED}"'),
    ("json-annotations", re.compile(r'("annotations"\s*:\s*)\{[^{}]*\}'), rf'\1"{REDACTED}"'),
    ("pem", re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?-----END [A-Z0-9 ]+-----", re.DOTALL), REDACTED),
    ("json-secret", re.compile(rf'("{_KEYS}"\s*:\s*)"[^"]*"', re.IGNORECASE), rf'\1"{REDACTED}"'),
    ("bearer", re.compile(r"\bBearer\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), f"Bearer {REDACTED}"),
    ("key-value-secret", re.compile(rf"\b({_KEYS})(\s*[:=]\s*)(?!\[REDACTED\])[^\s,;\"']+", re.IGNORECASE),
     rf"\1\2{REDACTED}"),
    ("openai-key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"), REDACTED),
    ("github-token", re.compile(r"\bghp_[A-Za-z0-9]{20,}"), REDACTED),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    ("aws-secret-key", re.compile(r"(?i)(aws_secret_access_key\s*[:=]\s*)[A-Za-z0-9/+=]{40}"), rf"\1{REDACTED}"),
    ("url-credentials", re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^\s:/@]+:[^\s/@]+@", re.IGNORECASE),
     rf"\1{REDACTED}@"),
    ("k8s-secret-data",
     re.compile(r"(?m)^(\s*[A-Za-z0-9_.\-]+:\s+)(?=[A-Za-z0-9+/]{24,}={0,2}\s*$)[A-Za-z0-9+/]+={0,2}"),
     rf"\1{REDACTED}"),
    ("email", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), REDACTED),
    ("ipv4", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"), REDACTED),
)


def sanitize(text: str) -> str:
    """Apply every rule in order. Pure."""
    for _, pattern, replacement in RULES:
        text = pattern.sub(replacement, text)
    return text
