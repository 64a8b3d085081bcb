"""Secrets in logs (the guide's `grep -r "sk-" logs/`, done properly): OpenAI keys,
Authorization headers and bearer tokens, reported by file and line with the secret
cut to at most 5 leading characters; and every secret of the config (the known-secret
list of `agent.check.secrets_of`: agent token, notifier tokens, remediation.secrets,
...) found anywhere, shown with none of its characters. Files are streamed in bounded
chunks.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Iterator

from vocab.model import Status
from vocab.redact import redact
from agent.security.finding import Finding

CHECK = "secrets"
SHOWN_CHARS = 5
CHUNK_CHARS = 1 << 20
"""A line longer than this is read in pieces (a secret cut in two may be missed)."""
MAX_FINDINGS_PER_FILE = 50
EXCERPT_CONTEXT = 24

# (kind, pattern, group holding the secret). Earlier kinds win where matches overlap,
# so "Authorization: Bearer sk-..." is one Authorization finding, not three.
PATTERNS: tuple[tuple[str, re.Pattern, int], ...] = (
    ("Authorization header",
     re.compile(r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?"
                r"((?:(?:bearer|basic|token)\s+)?[^\s\"',}]{4,})"), 1),
    ("OpenAI key", re.compile(r"\b(sk-(?:proj-|admin-|svcacct-)?[A-Za-z0-9_\-]{20,})"), 1),
    ("bearer token", re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/\-]{8,}=*)"), 1),
)


_SCHEME = re.compile(r"(?i)^((?:bearer|basic|token)\s+)?")


KNOWN = "configured secret"


def masked(secret: str, kind: str = "") -> str:
    """`sk-pr…<redacted>`: at most SHOWN_CHARS of the secret (an auth scheme word such
    as "Bearer " is kept in front, it is not secret)."""
    if kind == KNOWN:
        return "<redacted>"
    scheme = _SCHEME.match(secret).group(0)  # type: ignore[union-attr]
    return f"{scheme}{secret[len(scheme):][:SHOWN_CHARS]}…<redacted>"


def find_secrets(line: str, known: tuple[str, ...] = ()) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each secret in `line`, non-overlapping, in line order; a
    known secret (from the config) wins over the shapes it overlaps."""
    spans: list[tuple[str, int, int]] = []
    for secret in known:
        if len(secret) < 4:
            continue
        start = line.find(secret)
        while start >= 0:
            end = start + len(secret)
            if all(end <= s or start >= e for _, s, e in spans):
                spans.append((KNOWN, start, end))
            start = line.find(secret, end)
    known_spans = list(spans)
    spans = []
    for kind, pattern, group in PATTERNS:
        for match in pattern.finditer(line):
            start, end = match.span(group)
            if all(end <= s or start >= e for _, s, e in spans + known_spans):
                spans.append((kind, start, end))
    return sorted(spans + known_spans, key=lambda span: span[1])


def excerpt(line: str, spans: list[tuple[str, int, int]], focus: int,
            known: tuple[str, ...] = ()) -> str:
    """The text around span `focus`, every secret cut to its first characters and
    anything else secret-shaped masked by `vocab.redact`."""
    kind, start, end = spans[focus]
    lo, hi = max(0, start - EXCERPT_CONTEXT), min(len(line), end + EXCERPT_CONTEXT)
    pieces, pos = [], lo
    for _kind, s, e in spans:
        if e <= lo or s >= hi:
            continue
        pieces.append(redact(line[pos:max(s, lo)], known))  # between secrets, scrubbed too
        pieces.append(masked(line[s:e], _kind))
        pos = min(e, hi)
    pieces.append(redact(line[pos:hi], known))
    text = "".join(pieces).strip().replace("\t", " ")
    return ("…" if lo else "") + text + ("…" if hi < len(line) else "")


def _lines(handle) -> Iterator[tuple[int, str]]:
    number = 1
    while True:
        chunk = handle.readline(CHUNK_CHARS)
        if not chunk:
            return
        yield number, chunk.rstrip("\r\n")
        if chunk.endswith("\n"):
            number += 1


def scan_file(path: str, known: tuple[str, ...] = ()) -> list[Finding]:
    """WARNING per secret found (at most MAX_FINDINGS_PER_FILE, then a count), OK for a
    clean file, UNKNOWN when the file cannot be read."""
    findings: list[Finding] = []
    extra = 0
    lines = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in _lines(handle):
                lines = number
                spans = find_secrets(line, known)
                for i, (kind, _s, _e) in enumerate(spans):
                    if len(findings) >= MAX_FINDINGS_PER_FILE:
                        extra += 1
                        continue
                    findings.append(Finding(CHECK, f"{path}:{number}", Status.WARNING,
                                            f"{kind}: {excerpt(line, spans, i, known)}"))
    except OSError as exc:
        return [Finding(CHECK, path, Status.UNKNOWN,
                        f"cannot read: {exc.strerror or exc.__class__.__name__}")]
    if extra:
        findings.append(Finding(CHECK, path, Status.WARNING,
                                f"{extra} more secrets not listed"))
    if not findings:
        findings.append(Finding(CHECK, path, Status.OK, f"{lines} lines, no secrets"))
    return findings


def scan_globs(patterns: tuple[str, ...], known: tuple[str, ...] = ()) -> list[Finding]:
    """Every file matched by the globs (`**` recursive, `~` expanded), each once. A glob
    matching nothing is UNKNOWN: a log scan that reads nothing is a blind spot."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for pattern in patterns:
        paths = sorted(p for p in glob.glob(os.path.expanduser(pattern), recursive=True)
                       if not os.path.isdir(p))
        if not paths:
            findings.append(Finding(CHECK, pattern, Status.UNKNOWN, "no file matches this glob"))
        for path in paths:
            if path not in seen:
                seen.add(path)
                findings.extend(scan_file(path, known))
    return findings
