"""`remediate verify`: check every step of the playbooks against this deployment, changing
nothing (an I/O edge; the verdict is `rules.remediation.applicability`, pure).

Per step type:
- http: a GET of the rendered URL (no body, no headers, so no secret leaves), whatever the
  step's method: 404, 410 or 501 mean the route is not served (not applicable); 405 means
  it exists for another method (ok); any other answer is ok; no answer at all (refused,
  timed out) cannot be verified now (unknown), which never makes a playbook not applicable.
  Servers that answer 404 for a wrong method (Ollama before 0.6.6) look "not served" for
  their POST routes; the shipped playbooks use those only in optional diagnostics.
- compose: the docker executable is on PATH; the compose file (`-f FILE`, relative to
  remediation.compose_dir; else the directory's default compose.yaml / docker-compose.yml
  and its override) exists and its `services:` holds the service.
- command: its argv[0] is on PATH.
- env: the directory of the .env file exists and is writable.
- wait_healthy: the component is configured.
- notify: always ok.
A step that cannot be rendered (a placeholder not configured, a command not allowed) is
not applicable. In a demo (`agent.demo.DemoConfig`) compose and command steps are only
recorded, never run, so they are not checked.

    verify_playbooks(playbooks, config, now=..., transport=None) -> {name: Verification}

`VerificationCache` keeps the agent's verdicts (`agent.remediation.controller`): checked
at start, after a reload and every 10 minutes; the planner holds every playbook found not
applicable (`rules.remediation.Spec.not_applicable`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from agent.config import Config
from agent.remediation.render import RenderError, render
from rules.playbooks import Playbook
from rules.remediation import Spec, StepCheck, Verdict, applicability

log = logging.getLogger("alice_ops.remediation")
REQUEST_TIMEOUT_S = 3.0
TOTAL_TIMEOUT_S = 15.0
START_TIMEOUT_S = 5.0
"""The agent's first verification (at start) waits at most this long."""
REFRESH_EVERY_S = 600.0
CONCURRENCY = 8
NOT_SERVED = frozenset({404, 410, 501})
DEFAULT_COMPOSE = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDES = ("compose.override.yaml", "compose.override.yml", "docker-compose.override.yml",
             "docker-compose.override.yaml")


@dataclass(frozen=True)
class Verification:
    playbook: str
    verdict: Verdict
    reason: str
    """Empty when applicable; else "not applicable: step N (title): why" or "cannot
    verify now: ..."."""
    checks: tuple[StepCheck, ...]
    checked_at: float

    def to_json(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "verdict": self.verdict, "reason": self.reason,
                "checked_at": self.checked_at,
                "checks": [{"phase": c.phase, "step": c.index + 1, "title": c.title,
                            "status": c.status, "detail": c.detail, "optional": c.optional}
                           for c in self.checks]}


def _shown_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path or "/"


def _answer(status: int | None, error: str, method: str, path: str) -> tuple[str, str]:
    """(check status, detail) for what a GET of a step's URL got."""
    if status is None:
        return "unknown", f"{method} {path}: no answer to GET ({error})"
    if status in NOT_SERVED:
        return "not_applicable", f"{method} {path} is not served (GET answered {status})"
    if status == 405:
        return "ok", f"{method} {path}: the route exists (GET answered 405)"
    return "ok", f"{method} {path}: GET answered {status}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host unreachable"
    return exc.__class__.__name__


class _Probe:
    """GETs of URLs, each at most once per verification, a few at a time."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._gate = asyncio.Semaphore(CONCURRENCY)
        self._seen: dict[str, asyncio.Task] = {}

    def cancel(self) -> None:
        for task in self._seen.values():
            task.cancel()

    def get(self, url: str) -> asyncio.Task:
        if url not in self._seen:
            self._seen[url] = asyncio.get_running_loop().create_task(self._get(url))
        return self._seen[url]

    async def _get(self, url: str) -> tuple[int | None, str]:
        async with self._gate:
            try:
                response = await asyncio.wait_for(self._client.get(url), REQUEST_TIMEOUT_S)
            except (httpx.HTTPError, TimeoutError) as exc:
                return None, _reason(exc)
            return response.status_code, ""


class _Compose:
    """Compose files of remediation.compose_dir, read once per verification."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._services: dict[Path, set[str] | str] = {}

    def services(self, path: Path) -> set[str] | str:
        """The service names of one file, or why they cannot be read."""
        if path not in self._services:
            self._services[path] = self._read(path)
        return self._services[path]

    @staticmethod
    def _read(path: Path) -> set[str] | str:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return f"{path} does not exist"
        except OSError as exc:
            return f"{path}: cannot read: {exc.strerror or exc.__class__.__name__}"
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            return f"{path}:{mark.line + 1 if mark else '?'}: not valid YAML"
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            return f"{path} has no services: mapping"
        return {str(name) for name in services}

    def files_for(self, file: str | None) -> list[Path] | str:
        if file:
            path = Path(file).expanduser()
            return [path if path.is_absolute() else self.dir / path]
        if not self.dir.is_dir():
            return f"compose_dir {self.dir} does not exist"
        base = next((self.dir / n for n in DEFAULT_COMPOSE if (self.dir / n).is_file()), None)
        if base is None:
            return f"no compose file in {self.dir} ({' / '.join(DEFAULT_COMPOSE[:3])})"
        extra = [self.dir / n for n in OVERRIDES if (self.dir / n).is_file()]
        return [base, *extra[:1]]


def _on_path(program: str) -> bool:
    return shutil.which(program) is not None


def _compose(argv: list[str], compose: _Compose, demo: bool) -> tuple[str, str]:
    if demo:
        return "ok", "demo: recorded, not run"
    if not _on_path(argv[0]):
        return "not_applicable", f"{argv[0]} is not on PATH"
    file = argv[argv.index("-f") + 1] if "-f" in argv else None
    service = argv[-1]
    files = compose.files_for(file)
    if isinstance(files, str):
        return "not_applicable", files
    names: set[str] = set()
    for path in files:
        got = compose.services(path)
        if isinstance(got, str):
            return "not_applicable", got
        names |= got
    shown = ", ".join(p.name for p in files)
    if service not in names:
        return "not_applicable", (f"service {service!r} is not in {shown} (services: "
                                  f"{', '.join(sorted(names)) or 'none'})")
    return "ok", f"service {service!r} is in {shown}"


def _env(file: str) -> tuple[str, str]:
    path = Path(file).expanduser()
    parent = path.parent
    if not parent.is_dir():
        return "not_applicable", f"the directory of {path.name} ({parent}) does not exist"
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "not_applicable", f"{path} cannot be written"
    return "ok", f"{path.name} {'exists' if path.exists() else 'will be created'} in {parent}"


def _components(config: Config) -> set[str]:
    from agent.check import probe_jobs, threshold_rows

    return set(probe_jobs(config, threshold_rows(config)))


def _title(step: Any, shown: dict | None) -> str:
    """The step's own title, else one from its rendered form (no raw placeholders)."""
    if step.title or shown is None:
        return step.title or step.type
    if shown["type"] == "http":
        return f"{shown['method']} {_shown_path(shown['url'])}"
    if shown["type"] == "compose":
        return f"compose {step.action} {shown['argv'][-1]}"
    if shown["type"] == "env":
        return f"set {', '.join(shown['set'])} in {Path(shown['file']).name}"
    return shown["title"]


def _rendered(playbook: Playbook, config: Config, phase: str
              ) -> list[tuple[Any, dict | None, dict | None, str]]:
    """(step, revealed, shown, render error) for each step of one phase."""
    steps = playbook.revert if phase == "revert" else playbook.steps
    out = []
    for step in steps:
        one = playbook.model_copy(update={"steps": (step,), "revert": (step,)})
        try:
            revealed = render(one, config, reveal=True, revert=phase == "revert")[0]
            shown = render(one, config, revert=phase == "revert")[0]
            out.append((step, revealed, shown, ""))
        except RenderError as exc:
            out.append((step, None, None, str(exc).split(": ", 2)[-1]))
    return out


async def _check_playbook(playbook: Playbook, config: Config, probe: _Probe,
                          compose: _Compose, components: set[str], now: float
                          ) -> Verification:
    from agent.sandbox import is_demo

    demo = is_demo(config)
    checks: list[StepCheck] = []
    for phase in ("steps", "revert"):
        for i, (step, real, shown, error) in enumerate(_rendered(playbook, config, phase)):
            title = _title(step, shown)
            if real is None or shown is None:
                status, detail = "not_applicable", error
            elif real["type"] == "http":
                code, why = await probe.get(real["url"])
                status, detail = _answer(code, why, real["method"], _shown_path(shown["url"]))
            elif real["type"] == "compose":
                status, detail = _compose(real["argv"], compose, demo)
            elif real["type"] == "command":
                status, detail = (("ok", "demo: recorded, not run") if demo else
                                  ("ok", f"{real['argv'][0]} is on PATH")
                                  if _on_path(real["argv"][0]) else
                                  ("not_applicable", f"{real['argv'][0]} is not on PATH"))
            elif real["type"] == "env":
                status, detail = _env(real["file"])
            elif real["type"] == "wait_healthy" and real["component"] == "all":
                status, detail = "ok", "the full check of every configured component"
            elif real["type"] == "wait_healthy":
                status, detail = (("ok", f"{real['component']} is configured")
                                  if real["component"] in components else
                                  ("not_applicable", f"component {real['component']} is "
                                                     "not configured"))
            else:
                status, detail = "ok", "nothing to check"
            checks.append(StepCheck(phase, i, title, status, detail,  # type: ignore[arg-type]
                                    step.optional))
    verdict, reason = applicability(checks)
    return Verification(playbook.name, verdict, reason, tuple(checks), now)


async def verify_playbooks(playbooks: tuple[Playbook, ...] | list[Playbook], config: Config,
                           *, now: float, transport: httpx.AsyncBaseTransport | None = None,
                           total_timeout_s: float = TOTAL_TIMEOUT_S
                           ) -> dict[str, Verification]:
    """Every playbook's verification, in order. Requests that do not answer within the
    total deadline leave their steps unknown."""
    compose = _Compose(Path(config.remediation.compose_dir).expanduser())
    components = _components(config)
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, transport=transport,
                                 follow_redirects=False) as client:
        probe = _Probe(client)

        async def one(pb: Playbook) -> Verification:
            return await _check_playbook(pb, config, probe, compose, components, now)

        tasks = [asyncio.ensure_future(one(pb)) for pb in playbooks]
        done, pending = await asyncio.wait(tasks, timeout=total_timeout_s) if tasks \
            else (set(), set())
        for task in pending:
            task.cancel()
        probe.cancel()
    out: dict[str, Verification] = {}
    for pb, task in zip(playbooks, tasks):
        if task not in done:
            why = f"cannot verify now: not finished within {total_timeout_s:g} s"
        elif task.exception() is not None:
            why = f"cannot verify now: {task.exception().__class__.__name__}"
        else:
            out[pb.name] = task.result()
            continue
        out[pb.name] = Verification(pb.name, "unknown", why, (), now)
    return out


class VerificationCache:
    """The agent's verdicts, refreshed at start, after a reload (`invalidate`) and every
    `every_s`; a refresh runs in the background and never blocks a cycle."""

    def __init__(self, every_s: float = REFRESH_EVERY_S) -> None:
        self.every_s = every_s
        self.results: dict[str, Verification] = {}
        self.checked_at: float | None = None
        self._task: asyncio.Task | None = None

    def invalidate(self) -> None:
        """The config changed: verify again at the next chance (old verdicts stand until
        then, so a playbook found not applicable stays held)."""
        self.checked_at = None

    async def refresh(self, playbooks, config: Config, now: float,
                      transport: httpx.AsyncBaseTransport | None = None,
                      total_timeout_s: float = START_TIMEOUT_S) -> None:
        self.checked_at = now
        if not playbooks:
            self.results = {}
            return
        results = await verify_playbooks(playbooks, config, now=now, transport=transport,
                                         total_timeout_s=total_timeout_s)
        for name, v in results.items():
            before = self.results.get(name)
            if v.verdict == "not_applicable" and (before is None or before.reason != v.reason):
                log.info("remediation %s is not applicable here, not run automatically: %s",
                         name, v.reason)
        self.results = results

    def spawn_if_due(self, playbooks, config: Config, now: float,
                     transport: httpx.AsyncBaseTransport | None, on_done: Callable[[], Any]
                     ) -> None:
        if self._task is not None and not self._task.done():
            return
        if self.checked_at is not None and now - self.checked_at < self.every_s:
            return

        async def run() -> None:
            try:
                await self.refresh(playbooks, config, now, transport, TOTAL_TIMEOUT_S)
            except Exception:  # a bug here must not stop remediation; keep the old verdicts
                log.exception("remediation verification failed")
                return
            on_done()

        self.checked_at = now
        self._task = asyncio.get_running_loop().create_task(run())

    def apply(self, specs: tuple[Spec, ...]) -> tuple[Spec, ...]:
        """The planner's specs with each not-applicable playbook's reason."""
        out = []
        for spec in specs:
            v = self.results.get(spec.name)
            held = v is not None and v.verdict == "not_applicable"
            out.append(replace(spec, not_applicable=v.reason) if held and v else spec)
        return tuple(out)

    def view(self, name: str) -> dict[str, Any]:
        """The snapshot's fields for one playbook."""
        from agent.snapshot import iso

        v = self.results.get(name)
        return {"applicable": v.verdict if v else None,
                "not_applicable_reason": v.reason if v else "",
                "verified_at": iso(v.checked_at) if v else None}

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
