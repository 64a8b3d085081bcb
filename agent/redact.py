"""Keep secrets out of every string that leaves the process (output, logs, JSON, audit).

Known secret values are replaced wherever they appear, and anything shaped like an
OpenAI key or a bearer token is masked even when we were never told about it.
"""

from __future__ import annotations

import re
from typing import Iterable

MASK = "<secret>"

OPENAI_KEY = re.compile(r"\bsk-(?:proj-|admin-|svcacct-)?[A-Za-z0-9_\-]{8,}")
_PATTERNS = (
    OPENAI_KEY,
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/\-]+=*"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\s,}]+(?:\s+[^\"'\s,}]+)?"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with every known secret and secret-shaped token masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(MASK, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)
    text = _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)
    return text
