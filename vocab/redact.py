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
# Other well-known key shapes, masked whole: GitHub, Slack, AWS access key ids, JWTs,
# and `key=`/`token=`/`password=` assignments as typed into a free-text comment.
_SHAPES = (
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
)
_ASSIGNED = re.compile(r"(?i)(\b(?:api[_-]?key|token|secret|password|passwd)\s*[:=]\s*)"
                       r"[\"']?[^\s\"',;]{6,}[\"']?")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with every known secret and secret-shaped token masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(MASK, text)
    text = _PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)
    text = _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)
    for shape in _SHAPES:
        text = shape.sub(MASK, text)
    return text


def redact_comment(text: str, secrets: Iterable[str] = ()) -> str:
    """A free-text comment (silence, ack, checklist note) as it may be stored and shown:
    known secrets and key shapes masked, and `token=...` style assignments too."""
    return _ASSIGNED.sub(lambda m: m.group(1) + MASK, redact(text, secrets))


def url_without_secrets(url: object) -> str:
    """`scheme://host:port` of a URL for error messages: no user, password, path (a
    webhook's path is often its secret) or query."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url))
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    if not parts.scheme or not host:
        return f"{parts.scheme}://…" if parts.scheme else "<url without a scheme>"
    host = f"[{host}]" if ":" in host else host
    hidden = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"
