"""OpenAI key rotation (the guide's "Review and rotate API keys"), done safely.

Order, each step recorded: validate the new key against the configured API (official
client, `models.list`) before anything is touched; write `.env` atomically with a
backup (`agent.remediation.envfile`); restart the gateway, then the backend
(`docker compose restart`, argv built by `agent.remediation.steps`); verify with the
check machinery (gateway and backend healthy, the API accepting the new key); if
verification fails, write the old key back and restart again.

The key is never in argv, in a child's environment, in output, logs or the audit
record: it is named only by `fingerprint()` (a short SHA-256 prefix).

`plan_steps` and `judge_verification` are pure; `rotate` does the I/O.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from agent.config import Config
from vocab.model import Status
from vocab.redact import redact
from rules.evaluate import Report

ROLL_ORDER = ("gateway", "backend")  # the gateway first: it holds the sessions


class RotationError(Exception):
    """Bad input or a key that cannot be used; one line, never containing the key."""


def fingerprint(key: str) -> str:
    """`sha256:` + 12 hex digits: tells keys apart, reveals nothing usable."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:12]


def check_key_text(key: str) -> str:
    """The key as read (surrounding whitespace dropped) or RotationError."""
    key = key.strip()
    if not key:
        raise RotationError("no key given (an empty stdin or key file)")
    if any(c.isspace() for c in key) or not key.isprintable():
        raise RotationError("the new key must be one line without spaces")
    if len(key) < 8:
        raise RotationError("the new key is too short to be an API key")
    return key


# -- the plan (pure) ------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    name: str  # validate | write_env | restart_gateway | restart_backend | verify
    detail: str
    argv: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.name, "detail": self.detail}
        if self.argv:
            out["argv"] = list(self.argv)
        return out


def plan_steps(env_file: str, variable: str, services: dict[str, str],
               argv_for: Callable[[str], list[str]], base_url: str,
               new_fp: str) -> tuple[Step, ...]:
    """What `rotate` does, in order; `argv_for(service)` builds a restart's argv."""
    steps = [Step("validate", f"models.list at {base_url} with the new key ({new_fp})"),
             Step("write_env", f"{env_file}: {variable}=<redacted> ({new_fp}); the old file "
                               "is kept as a backup; written atomically, mode 600")]
    for role in ROLL_ORDER:
        service = services[role]
        steps.append(Step(f"restart_{role}", f"restart {service}", tuple(argv_for(service))))
    steps.append(Step("verify", "gateway and backend healthy, the API accepting the new "
                                "key (otherwise the old key is written back and both "
                                "restarted again)"))
    return tuple(steps)


def judge_verification(report: Report, required: tuple[str, ...]) -> tuple[bool, str]:
    """Healthy enough to keep the new key: every required component OK or WARNING."""
    found = {c.name: c for c in report.components}
    bad = []
    for name in required:
        comp = found.get(name)
        if comp is None:
            bad.append(f"{name}: not checked")
        elif comp.status not in (Status.OK, Status.WARNING):
            bad.append(f"{name} {comp.status.word}: {comp.summary}")
    if bad:
        return False, "; ".join(bad)
    return True, ", ".join(f"{n} {found[n].status.word}" for n in required)


# -- the I/O ----------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What happened; JSON-ready with `to_json` (never holds the key)."""

    env_file: str
    variable: str
    dry_run: bool
    new_fingerprint: str
    old_fingerprint: str | None
    outcome: str = "planned"  # planned | rotated | rejected | rolled_back | failed
    reason: str = ""
    plan: tuple[Step, ...] = ()
    done: list[dict[str, Any]] = field(default_factory=list)
    backup: str | None = None

    @property
    def exit_code(self) -> int:
        return {"planned": 0, "rotated": 0, "rolled_back": 1}.get(self.outcome, 2)

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason, "dry_run": self.dry_run,
                "env_file": self.env_file, "variable": self.variable,
                "fingerprint": {"new": self.new_fingerprint, "old": self.old_fingerprint},
                "backup": self.backup, "plan": [s.to_json() for s in self.plan],
                "steps": self.done}


async def validate_key(config: Config, key: str) -> tuple[str, str]:
    """("ok" | "rejected" | "unreachable", why) from models.list with `key`."""
    import openai

    from agent.probes.http import describe_error, make_client

    target = config.targets.openai
    assert target is not None
    http_client = make_client(target.timeout_ms)
    client = openai.AsyncOpenAI(base_url=target.base_url, api_key=key, max_retries=0,
                                timeout=target.timeout_ms / 1000, http_client=http_client)
    try:
        async with client:
            page = await client.models.list()
            count = len(getattr(page, "data", None) or [])
        return "ok", f"the API accepted the new key ({count} models)"
    except openai.AuthenticationError:
        return "rejected", "the API rejected the new key (HTTP 401: invalid or revoked)"
    except openai.PermissionDeniedError:
        return "rejected", "the API refused the new key (HTTP 403)"
    except openai.APIConnectionError as exc:
        return "unreachable", ("cannot validate the new key: "
                               f"{describe_error(exc.__cause__ or exc, target.timeout_ms)}")
    except openai.APIStatusError as exc:
        return "unreachable", f"cannot validate the new key: HTTP {exc.status_code}"
    except Exception as exc:  # an unreadable answer is not a validation
        return "unreachable", f"cannot validate the new key: {exc.__class__.__name__}"


def with_key(config: Config, key: str) -> Config:
    openai_target = config.targets.openai
    assert openai_target is not None
    targets = config.targets.model_copy(
        update={"openai": openai_target.model_copy(update={"api_key": SecretStr(key)})})
    return config.model_copy(update={"targets": targets})


async def verify(config: Config, key: str, timeout_s: float, interval_s: float = 1.0
                 ) -> tuple[bool, str]:
    """Poll `check` (with the new key) until the rolled services are healthy or
    `timeout_s` passes; restarted services take a moment to come back."""
    from agent.check import check

    required = tuple(n for n in ("openai", *ROLL_ORDER)
                     if getattr(config.targets, n, None) is not None)
    checked = with_key(config, key)
    deadline = time.monotonic() + timeout_s
    while True:
        ok, why = judge_verification(await check(checked), required)
        if ok or time.monotonic() >= deadline:
            return ok, why
        await asyncio.sleep(min(interval_s, max(0.0, deadline - time.monotonic())))


async def rotate(config: Config, env_file: Path, variable: str, new_key: str, *,
                 execute: bool, compose_file: str | None = None,
                 verify_timeout_s: float = 60.0, now: Callable[[], float] = time.time
                 ) -> Outcome:
    """Validate, then (with `execute`) write, roll, verify and roll back on failure."""
    from agent.remediation.envfile import EnvFileError, read_env
    from agent.remediation.steps import compose_argv

    if config.targets.openai is None:
        raise RotationError("no targets.openai in the config: nothing to validate the key "
                            "against")
    rem = config.remediation
    try:
        current = read_env(env_file)
    except EnvFileError as exc:
        raise RotationError(str(exc)) from None
    old_key = current.get(variable)
    secrets = [s for s in (new_key, old_key) if s]
    out = Outcome(str(env_file), variable, not execute, fingerprint(new_key),
                  fingerprint(old_key) if old_key else None)
    cwd = str(Path(rem.compose_dir).expanduser())

    def argv_for(service: str) -> list[str]:
        return compose_argv("restart", service, compose_file, rem.docker)

    out.plan = plan_steps(str(env_file), variable, rem.services, argv_for,
                          config.targets.openai.base_url, out.new_fingerprint)
    if old_key == new_key:
        out.outcome, out.reason = "rejected", f"{variable} in {env_file} already holds this key"
        return out

    status, why = await validate_key(config, new_key)
    why = redact(why, secrets)  # the reason goes to output and the audit record too
    out.done.append({"step": "validate", "ok": status == "ok", "detail": why})
    if status != "ok":
        out.outcome, out.reason = ("rejected" if status == "rejected" else "failed"), why
        return out
    if not execute:
        out.reason = "dry run: nothing written (add --execute to rotate)"
        return out
    if config.read_only:
        raise RotationError("read-only mode (config read_only: true): nothing written")
    # one remediation at a time: a playbook restarting the same services meanwhile
    # would race the rolling restart and the rollback
    from agent.remediation.lock import LockBusy, RemediationLock, lock_path

    lock = RemediationLock(lock_path(config))
    try:
        lock.acquire()
    except LockBusy as exc:
        raise RotationError(f"{exc}; nothing written") from None
    try:
        return await _rotate_locked(out, config, env_file, variable, new_key, old_key,
                                    secrets, verify_timeout_s, now, argv_for, cwd)
    finally:
        lock.release()


async def _rotate_locked(out: Outcome, config: Config, env_file: Path, variable: str,
                         new_key: str, old_key: str | None, secrets: list[str],
                         verify_timeout_s: float, now: Callable[[], float], argv_for,
                         cwd: str) -> Outcome:
    from agent.remediation.envfile import EnvFileError, apply_env
    from agent.remediation.steps import run_argv

    rem = config.remediation

    async def write(key: str, label: str) -> bool:
        try:
            result = await asyncio.to_thread(apply_env, env_file, {variable: key}, now=now())
        except EnvFileError as exc:
            out.done.append({"step": label, "ok": False, "detail": redact(str(exc), secrets)})
            return False
        out.backup = out.backup or result.backup
        out.done.append({"step": label, "ok": True, "backup": result.backup,
                         "detail": f"{variable} set ({fingerprint(key)})"})
        return True

    async def roll(label: str) -> bool:
        for role in ROLL_ORDER:
            argv = argv_for(rem.services[role])
            result = await asyncio.to_thread(run_argv, argv, rem.step_timeout_s, None, cwd)
            out.done.append({"step": f"{label}_{role}", "ok": result.ok, "argv": argv,
                             "returncode": result.returncode,
                             "duration_s": round(result.duration_s, 3),
                             "detail": redact(result.error or result.stderr.strip()[-300:]
                                              or "restarted", secrets)})
            if not result.ok:
                return False
        return True

    if not await write(new_key, "write_env"):
        out.outcome, out.reason = "failed", "cannot write the .env file; nothing changed"
        return out
    rolled = await roll("restart")
    ok, why = (await verify(config, new_key, verify_timeout_s)) if rolled \
        else (False, "a restart failed")
    why = redact(why, secrets)
    out.done.append({"step": "verify", "ok": ok, "detail": why})
    if ok:
        out.outcome, out.reason = "rotated", why
        return out
    # roll back: the old key (or the variable's absence is not restorable: keep the backup)
    if old_key is None:
        out.outcome = "failed"
        out.reason = (f"verification failed ({why}); there was no old "
                      f"{variable} to restore, the backup is {out.backup}")
        return out
    restored = await write(old_key, "rollback_env") and await roll("rollback_restart")
    out.outcome = "rolled_back" if restored else "failed"
    out.reason = (f"verification failed ({why}); "
                  + ("the old key is back in place" if restored else
                     f"ROLLBACK INCOMPLETE: restore {out.backup} by hand"))
    return out


__all__ = ["Outcome", "RotationError", "Step", "check_key_text", "fingerprint",
           "judge_verification", "plan_steps", "rotate"]
