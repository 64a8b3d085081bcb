"""Executing a playbook (the "act" step): under the lock, step by step, audited,
reverted on failure.

`Runner.plan(playbook)` is the dry-run: every step rendered exactly as it would run
(secrets redacted, `.env` before/after). `Runner.run(playbook, actor=..., reason=...)`
executes: read-only refuses; the cross-process lock is taken (busy: refused); the run
is recorded `started` before the first step; each step runs under its timeout
(default 30 s); the first failing step (unless `optional`) stops the run and the
revert steps run; the outcome (`ok`, `failed`, `reverted`, `revert_failed`) closes
the record. Every plan, step, output (redacted), outcome and revert is in the audit
trail with the actor (a user name, "agent", "tui", "api").
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from agent.config import Config
from vocab.model import Status
from vocab.redact import redact
from agent.remediation import ledger as store_ops
from agent.remediation.envfile import EnvFileError, apply_env, plan_env
from agent.remediation.lock import LockBusy, RemediationLock, lock_path
from agent.remediation.render import RenderError, render, secrets_of
from agent.remediation.steps import Executor, executor_for
from agent.store import AuditRecord, Store
from rules.playbooks import Playbook

log = logging.getLogger("alice_ops.remediation")
OUTPUT_KEEP = 2000
Db = Callable[..., Awaitable[Any]]


@dataclass
class RunOutcome:
    run_id: int | None
    playbook: str
    kind: str
    outcome: str
    steps: list[dict] = field(default_factory=list)
    revert_steps: list[dict] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "playbook": self.playbook, "kind": self.kind,
                "outcome": self.outcome, "steps": self.steps,
                "revert_steps": self.revert_steps, "error": self.error}


async def _direct(fn: Callable, *args: Any) -> Any:
    return fn(*args)


class Runner:
    """Runs playbooks for one config and store. `db` runs a store call (the agent
    passes its store thread; the CLI calls directly); `notify` receives `notify` steps;
    `executor` runs `compose` and `command` steps (default `executor_for(config)`: the
    real program, or the demo's recorder)."""

    def __init__(self, config: Config, store: Store, *, db: Db | None = None,
                 clock: Callable[[], float] = time.time, notify: Callable | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 read_only: bool = False, executor: Executor | None = None) -> None:
        self.config, self.store = config, store
        self.executor = executor or executor_for(config)
        self._db = db or _direct
        self._clock = clock
        self._notify = notify
        self._transport = transport
        self.read_only = read_only or config.read_only
        self._secrets = secrets_of(config)
        self.lock = RemediationLock(lock_path(config))

    def _scrub(self, value: Any) -> Any:
        """Every string in `value` (nested) with known secrets masked."""
        if isinstance(value, str):
            return redact(value, self._secrets)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        return value

    # -- dry-run ----------------------------------------------------------------------------

    def plan(self, playbook: Playbook) -> dict[str, Any]:
        """Every step as it would run, nothing done (RenderError for a bad step)."""
        revealed, steps = self._render(playbook, revert=False)
        for shown, real in zip(steps, revealed):
            if shown["type"] == "env":
                try:
                    shown["diff"] = self._scrub([c.to_json() for c in plan_env(
                        real["file"], real["set"]).diff])
                except EnvFileError as exc:
                    shown["diff_error"] = self._scrub(str(exc))
        return {"playbook": playbook.name, "title": playbook.title, "guide": playbook.guide,
                "target": playbook.target, "trigger": playbook.trigger.model_dump(),
                "steps": steps, "revert": render(playbook, self.config, revert=True),
                "revert_on_resolve": playbook.revert_on_resolve,
                "read_only": self.read_only}

    async def record_plan(self, playbook: Playbook, actor: str, kind: str = "plan",
                          reason: str = "") -> dict[str, Any]:
        """A dry-run, audited: `kind` "plan" (asked for) or "dry-run" (the agent's mode)."""
        shown = self.plan(playbook)
        now = self._clock()
        await self._db(store_ops.record_run, self.store, playbook.name, kind, actor, now,
                       "planned", reason, {"steps": shown["steps"]},
                       [AuditRecord(now, actor, f"remediation.{kind}", playbook.name, "planned",
                                    {"reason": reason, "steps": shown["steps"],
                                     "revert": shown["revert"]})])
        return shown

    # -- execution --------------------------------------------------------------------------

    async def refuse(self, playbook: str, actor: str, why: str) -> RunOutcome:
        now = self._clock()
        run_id = await self._db(store_ops.record_run, self.store, playbook, "run", actor, now,
                                "refused", why, {},
                                [AuditRecord(now, actor, "remediation.refused", playbook,
                                             "refused", {"why": why})])
        return RunOutcome(run_id, playbook, "run", "refused", error=why)

    async def run(self, playbook: Playbook, *, actor: str, reason: str = "",
                  revert_only: bool = False) -> RunOutcome:
        """Execute the playbook (or, with `revert_only`, its revert steps: the agent's
        revert-on-resolve). Never raises for what a step does; a run that cannot start
        (read-only, a render error, the lock busy) is returned as an outcome "refused"."""
        kind = "revert" if revert_only else "run"
        if self.read_only:
            return await self.refuse(playbook.name, actor, "read-only mode: no mutating action")
        try:
            steps, shown = self._render(playbook, revert_only)
            reverts, reverts_shown = ([], []) if revert_only else self._render(playbook, True)
        except RenderError as exc:
            return await self.refuse(playbook.name, actor, str(exc))
        try:
            self.lock.acquire()
        except LockBusy as exc:
            return await self.refuse(playbook.name, actor, str(exc))
        try:
            return await self._run_locked(playbook, kind, actor, reason, steps, shown,
                                          reverts, reverts_shown)
        finally:
            self.lock.release()

    def _render(self, playbook: Playbook, revert: bool) -> tuple[list[dict], list[dict]]:
        """The steps (or revert steps) as they run, and as they are shown and audited."""
        return (render(playbook, self.config, reveal=True, revert=revert),
                render(playbook, self.config, revert=revert))

    async def _run_locked(self, playbook: Playbook, kind: str, actor: str, reason: str,
                          steps, shown, reverts, reverts_shown) -> RunOutcome:
        now = self._clock()
        run_id = await self._db(
            store_ops.start_run, self.store, playbook.name, kind, actor, now, reason,
            {"steps": shown},
            [AuditRecord(now, actor, "remediation.start", playbook.name, "started",
                         {"kind": kind, "reason": reason, "steps": shown})])
        log.warning("remediation %s %s started by %s (%s)", kind, playbook.name, actor, reason)
        result = RunOutcome(run_id, playbook.name, kind, "ok")
        failed = await self._steps(playbook.name, run_id, actor, steps, shown, result.steps,
                                   "remediation.step")
        if failed is not None:
            result.outcome, result.error = "failed", failed
            if reverts:
                rfailed = await self._steps(playbook.name, run_id, actor, reverts,
                                            reverts_shown, result.revert_steps,
                                            "remediation.revert_step")
                result.outcome = "revert_failed" if rfailed else "reverted"
        end = self._clock()
        await self._db(store_ops.finish_run, self.store, run_id, end, result.outcome,
                       {"steps": result.steps, "revert_steps": result.revert_steps,
                        "error": result.error},
                       [AuditRecord(end, actor, "remediation.outcome", playbook.name,
                                    result.outcome, {"run_id": run_id, "kind": kind,
                                                     "error": result.error,
                                                     "duration_s": round(end - now, 3)})])
        log.warning("remediation %s %s: %s%s", kind, playbook.name, result.outcome,
                    f" ({result.error})" if result.error else "")
        return result

    async def _steps(self, name: str, run_id: int, actor: str, steps, shown, out: list,
                     action: str) -> str | None:
        """Run steps in order; return the first (non-optional) failure, or None."""
        for i, (step, view) in enumerate(zip(steps, shown)):
            started = time.monotonic()
            try:
                ok, detail = await self._one(step, name)
            except Exception as exc:  # a step's bug is that step's failure, not a crash
                ok, detail = False, {"error": f"{exc.__class__.__name__}: {exc}"}
            detail = self._scrub(detail)
            record = {"index": i, **view, "ok": ok,
                      "duration_s": round(time.monotonic() - started, 3), **detail}
            out.append(record)
            now = self._clock()
            await self._db(store_ops.add_audit, self.store,
                           [AuditRecord(now, actor, action, name, "ok" if ok else "failed",
                                        {"run_id": run_id, **record})])
            if not ok and not step["optional"]:
                return f"step {i + 1} ({view['title']}): {detail.get('error', 'failed')}"
        return None

    async def _one(self, step: dict, playbook: str = "") -> tuple[bool, dict]:
        timeout = float(step["timeout_s"])
        kind = step["type"]
        if kind in ("compose", "command"):
            cwd = str(Path(self.config.remediation.compose_dir).expanduser())
            res = await asyncio.to_thread(self.executor, step["argv"], timeout, None, cwd)
            detail = {"returncode": res.returncode, "stdout": res.stdout[-OUTPUT_KEEP:],
                      "stderr": res.stderr[-OUTPUT_KEEP:]}
            if not res.ok:
                detail["error"] = res.error or f"exit status {res.returncode}"
            return res.ok, detail
        if kind == "env":
            try:
                done = await asyncio.to_thread(apply_env, step["file"], step["set"],
                                               now=self._clock())
            except EnvFileError as exc:
                return False, {"error": str(exc)}
            return True, {"diff": [c.to_json() for c in done.diff], "backup": done.backup}
        progress: dict[str, str] = {}
        try:
            if kind == "http":
                return await asyncio.wait_for(self._http(step, timeout), timeout)
            if kind == "wait_healthy":
                return await asyncio.wait_for(self._wait_healthy(step, progress), timeout)
        except TimeoutError:
            last = progress.get("last")
            return False, {"error": f"timed out after {timeout:g} s"
                           + (f"; last: {last}" if last else "")}
        if kind == "notify":  # rendered with secrets revealed: the notice must not carry them
            message = redact(step["message"], self._secrets)
            log.warning("remediation notice (%s): %s", step["severity"], message)
            if self._notify is not None:
                delivered = self._notify(step["severity"], message, playbook)
                if inspect.isawaitable(delivered):
                    await delivered
            return True, {}
        return False, {"error": f"unknown step type {kind!r}"}

    async def _http(self, step: dict, timeout: float) -> tuple[bool, dict]:
        kw: dict[str, Any] = {"headers": step["headers"]}
        if step["body"] is not None:
            kw["json"] = step["body"]
        async with httpx.AsyncClient(timeout=timeout, transport=self._transport) as client:
            try:
                resp = await client.request(step["method"], step["url"], **kw)
            except httpx.HTTPError as exc:
                return False, {"error": f"{exc.__class__.__name__}: {exc}"}
        ok = resp.status_code in step["expect_status"]
        detail = {"status": resp.status_code, "response": resp.text[:OUTPUT_KEEP]}
        if not ok:
            detail["error"] = (f"HTTP {resp.status_code}, expected "
                               f"{', '.join(map(str, step['expect_status']))}")
        return ok, detail

    async def _wait_healthy(self, step: dict, progress: dict) -> tuple[bool, dict]:
        """Poll the component's own probe until OK (`all`: every configured Alice
        component OK, the host not CRITICAL); the step's timeout bounds it."""
        from agent.check import _guard, probe_jobs, threshold_rows

        rows = threshold_rows(self.config)
        jobs = probe_jobs(self.config, rows, self._transport)
        names = [n for n in jobs if n != "host"] if step["component"] == "all" \
            else [step["component"]]
        missing = [n for n in names if n not in jobs]
        if missing:
            return False, {"error": f"component {missing[0]} is not configured"}
        attempts = 0
        while True:
            attempts += 1
            results = await asyncio.gather(*(_guard(n, jobs[n][0](), jobs[n][1], self._secrets)
                                             for n in names))
            bad = [r for r in results if r.status is not Status.OK]
            if not bad:
                return True, {"attempts": attempts}
            progress["last"] = "; ".join(f"{r.component}: {r.status.word} ({r.summary})"
                                         for r in bad)
            await asyncio.sleep(float(step["interval_s"]))

    # -- housekeeping -----------------------------------------------------------------------

    async def recover(self) -> list:
        """Mark runs a crash left `started` as interrupted, but only when no one holds
        the lock (a run in flight elsewhere is not a crash)."""
        try:
            self.lock.acquire()
        except LockBusy:
            return []
        try:
            return await self._db(store_ops.recover, self.store, self._clock())
        finally:
            self.lock.release()
