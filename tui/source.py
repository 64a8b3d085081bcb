"""Where the dashboard's snapshots come from and where its commands go.

One small protocol (`Source`) with two implementations: the agent running in this
process (`InProcessSource`, over `AgentService.runtime`) and a running `alice-agent`
over HTTP (`AttachSource`: the SSE stream of /api/v1/events, reconnecting with
exponential backoff). The UI only ever sees snapshot dicts (`Snapshot.to_json()`)
and sends the three commands (and reads pages of the alert history); this is the only
tui module that touches the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, runtime_checkable
from urllib.parse import quote

log = logging.getLogger("alice_ops.tui")
# --demo: seconds of simulated traffic before the agent's first probes. After 0.5 s every
# guide scenario's component statuses are those after 1.2 s (the earlier wait; measured
# over all of them, and tests/tui/test_tui_demo_warmup.py keeps the ones that differed at
# 0.3-0.4 s); shorter, rates have too few samples (UNKNOWN "no data").
DEMO_WARMUP_S = 0.5


class SourceError(Exception):
    """The source cannot start (bad config, unreachable agent); one clear line."""


class CommandError(Exception):
    """A silence/ack/expire was refused or could not be delivered; one clear line."""


@runtime_checkable
class Source(Protocol):
    label: str
    """Where the data comes from, for the header ("demo", "attach http://...")."""
    expected_interval_s: float
    """How often a new snapshot is expected; 3x this without one is STALE."""
    can_mutate: bool
    """False when commands cannot work (attach without a token)."""

    @property
    def connected(self) -> bool: ...

    @property
    def problem(self) -> str | None:
        """Why the source is down (shown with STALE), None when fine."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def next_snapshot(self, after_seq: int, timeout: float) -> dict | None:
        """A snapshot newer than the one numbered `after_seq`, or None after `timeout`."""

    async def add_silence(self, matchers: str, duration_s: float, comment: str,
                          by: str) -> dict: ...

    async def expire_silence(self, silence_id: str) -> bool: ...

    async def add_ack(self, alert: str, comment: str, duration_s: float | None,
                      by: str) -> dict: ...

    async def alert_history(self, limit: int, before: int | None = None) -> dict:
        """A page of alert transitions, newest first: {"records": [...], "total": N,
        "next_before": id or None} (agent `Runtime.alert_history`); CommandError when
        it cannot be read."""

    async def remediation_plan(self, name: str, by: str) -> dict:
        """The dry-run of a playbook: every step exactly as it would run (audited)."""

    async def remediation_run(self, name: str, confirm: str, by: str) -> dict:
        """Run a playbook; `confirm` must be its name (the typed confirmation)."""

    async def remediation_resume(self, name: str, by: str) -> dict: ...

    async def checklist_answer(self, kind: str, item_id: str, result: str, note: str,
                               by: str) -> dict:
        """Tick (answer) one item of today's daily / this week's weekly run."""


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or exc.__class__.__name__


# -- in-process --------------------------------------------------------------------------


class InProcessSource:
    """The agent in this event loop: `--demo` (simulator + agent) or `--config`.

    Hand in a running `AgentService` (tests), or a config / `demo=True` and let
    `start()` build it; whatever `start()` opened, `close()` closes.
    """

    can_mutate = True

    def __init__(self, config: Any = None, *, demo: bool = False, scenario: str = "normal",
                 service: Any = None, label: str | None = None,
                 warmup_s: float = DEMO_WARMUP_S):
        if service is None and config is None and not demo:
            raise ValueError("InProcessSource needs a config, demo=True or a service")
        self._config, self._demo, self._scenario, self._warmup_s = config, demo, scenario, warmup_s
        self.during_warmup: Callable[[], None] | None = None
        """--demo: called when the simulator is up and its traffic warm-up (an idle
        `warmup_s` sleep) begins; the CLI preloads modules meanwhile."""
        self.service = service
        self.starting = False
        self._started: asyncio.Event | None = None
        self.sim: Any = None
        self._stack = contextlib.AsyncExitStack()
        self.label = label or ("demo" if demo else "in-process agent")
        cfg = config if config is not None else getattr(getattr(service, "runtime", None),
                                                        "config", None)
        self.expected_interval_s = cfg.agent.intervals.fast_s if cfg is not None else 5.0

    @property
    def connected(self) -> bool:
        """True while running, and while starting (the dashboard may be up first: it
        waits for the first snapshot then, it is not cut off from the agent)."""
        return self.starting or (self.service is not None and self.service.runtime is not None)

    @property
    def problem(self) -> str | None:
        return None if self.connected else "the in-process agent is not running"

    async def start(self) -> None:
        if self.service is not None:
            return
        self.starting = True
        try:
            await self._start()
        finally:
            self.starting = False

    async def _start(self) -> None:
        config = self._config
        try:
            if self._demo:
                import secrets

                from tui.marks import mark

                mark("sim_start")
                key = f"sk-sim-demo-{secrets.token_hex(8)}"  # this demo's, never printed
                self.sim = await self._stack.enter_async_context(
                    SimProcess(self._scenario, key))
                if self.during_warmup is not None:
                    self.during_warmup()
                # let the simulated traffic fill the metric windows (what demo_stack's
                # warmup_s does; here so that `during_warmup` can use the time)
                await asyncio.sleep(self._warmup_s)
                mark("sim_ready")
                import tempfile

                from agent.demo import demo_config, with_demo_capabilities

                tmp = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="alice-tui-"))
                config = with_demo_capabilities(demo_config(self.sim.urls, api_key=key),
                                                str(Path(tmp) / "state.db"))
                self.expected_interval_s = config.agent.intervals.fast_s
            from agent.service import AgentService

            self.service = await AgentService.start(config, serve_api=False)
            self._stack.push_async_callback(self._stop_service)
            self._started_event().set()
        except Exception as exc:
            await self._stack.aclose()
            what = "demo" if self._demo else "agent"
            raise SourceError(f"{what}: cannot start: {_why(exc)}") from None

    def _started_event(self) -> asyncio.Event:
        if self._started is None:  # made in the running loop, on first use
            self._started = asyncio.Event()
        return self._started

    def modules_to_preload(self) -> list[str]:
        """What the agent will import (and load) as it starts and on its first probes,
        heaviest last: its own modules (AgentService.start imports them lazily), the
        shipped tables it parses once (`module:function`, cached functions called with
        no arguments), and the client SDKs of the configured OpenAI / Ollama /
        Prometheus targets, imported by their probes on the first run (~0.3 s for
        openai, on the path to the first complete snapshot). Only names: the CLI
        imports them ahead on a thread."""
        config = self._config
        targets = getattr(config, "targets", None)
        names = ["agent.service", "agent.store", "agent.runtime", "agent.scheduler",
                 "alerts.notifiers", "agent.remediation.controller",
                 "rules.thresholds:default_rows", "rules.playbooks:default_playbooks",
                 # AgentService.start imports the API module (aiohttp: it loads the
                 # system CA paths at import, releasing the GIL: better on this thread)
                 "agent.api",
                 # the probes' wire modules and TLS context (the agent's first cycle)
                 "agent.check:import_wire_modules"]
        if self._demo:
            names.insert(0, "agent.demo")  # the demo config, built after the warm-up
        if self._demo or getattr(config, "checklists", None) is not None:
            names += ["agent.checklists.controller", "rules.checklists:default_checklists"]
        if self._demo or getattr(config, "cost", None) is not None:
            names += ["agent.cost.component", "agent.cost", "rules.cost_table:default_table"]
        names += sdks_to_preload(config, self._demo)
        if self._demo or getattr(targets, "prometheus", None) is not None:
            # the PromQL client (agent/probes/prometheus.py), imported by the first
            # Prometheus probe; without this it was the last probe in, holding up the
            # first full paint
            names.append("agent.probes.prometheus")
        return names

    async def _stop_service(self) -> None:
        service, self.service = self.service, None
        if service is not None:
            await service.stop()

    async def close(self) -> None:
        await self._stack.aclose()

    async def next_snapshot(self, after_seq: int, timeout: float) -> dict | None:
        runtime = self.service.runtime if self.service is not None else None
        if runtime is None:
            # not started yet (the dashboard may be up first): wake when it is
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._started_event().wait(), timeout)
            return None
        snap = await runtime.wait_for_change(after_seq, timeout)
        if snap is None or snap.seq == after_seq:
            return None
        return snap.to_json()

    def _runtime(self):
        if self.service is None or self.service.runtime is None:
            raise CommandError("the in-process agent is not running")
        return self.service.runtime

    async def add_silence(self, matchers: str, duration_s: float, comment: str,
                          by: str) -> dict:
        return await self._call("add_silence", matchers, duration_s, comment, by)

    async def expire_silence(self, silence_id: str) -> bool:
        return await self._runtime().expire_silence(silence_id)

    async def add_ack(self, alert: str, comment: str, duration_s: float | None,
                      by: str) -> dict:
        return await self._call("add_ack", alert, comment, duration_s, by)

    async def alert_history(self, limit: int, before: int | None = None) -> dict:
        return await self._call("alert_history", limit, before)

    async def _call(self, method: str, *args: Any) -> Any:
        """A runtime command; its refusals (unknown name, read-only, bad input) become
        one-line CommandErrors, as the agent API turns them into 404/403/400."""
        try:
            return await getattr(self._runtime(), method)(*args)
        except KeyError as exc:
            raise CommandError(str(exc.args[0]) if exc.args else _why(exc)) from None
        except (PermissionError, ValueError) as exc:
            raise CommandError(_why(exc)) from None

    async def remediation_plan(self, name: str, by: str) -> dict:
        return await self._call("remediation_plan", name, by)

    async def remediation_run(self, name: str, confirm: str, by: str) -> dict:
        return await self._call("remediation_run", name, confirm, by)

    async def remediation_resume(self, name: str, by: str) -> dict:
        return await self._call("remediation_resume", name, by)

    async def checklist_answer(self, kind: str, item_id: str, result: str, note: str,
                               by: str) -> dict:
        return await self._call("checklist_answer", kind, item_id, result, note, by)


# -- attach over HTTP --------------------------------------------------------------------


RUN_TIMEOUT_S = 1800.0
"""A playbook run answers when it is over; full-recovery alone may wait ~10 minutes for
health checks."""


class SimProcess:
    """The --demo simulator in a process of its own (`python -m tui.demo_sim`), on free
    loopback ports: `async with SimProcess(scenario, key) as sim: sim.urls`. Its start,
    traffic and answers then run on another core than the dashboard and the agent. It
    stops when its stdin closes (at the block's end, or when this process dies)."""

    READY_S = 30.0

    def __init__(self, scenario: str, api_key: str, profile: str = "guide"):
        self.scenario, self.profile, self._key = scenario, profile, api_key
        self.urls: dict[str, str] = {}
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> "SimProcess":
        import os
        import sys

        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui.demo_sim", self.scenario, self.profile,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "ALICE_SIM_API_KEY": self._key})
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), self.READY_S)
        except TimeoutError:
            await self._stop()
            raise SourceError(f"the simulator did not start within {self.READY_S:g} s") \
                from None
        try:
            said = json.loads(line) if line.strip() else {}
        except ValueError:
            said = {}
        if not isinstance(said, dict) or not isinstance(said.get("urls"), dict):
            await self._stop()
            why = said.get("error") if isinstance(said, dict) else None
            raise SourceError(f"the simulator did not start: {why or 'it exited'}")
        self.urls = said["urls"]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # its cue to stop
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def sdks_to_preload(config: Any, demo: bool) -> list[str]:
    """The official SDKs the agent's first cycle imports: `openai` for the deep probe, the
    Realtime probe and the costs API (spend with an admin key), `ollama` for the deep
    generate. The demo's config has only Ollama's deep probe on. A plain probe uses none
    (importing `openai` is ~0.5 s of CPU: preloaded for nothing, it competed with the
    first paint)."""
    if demo:
        return ["ollama"]
    targets = getattr(config, "targets", None)
    openai, ollama = getattr(targets, "openai", None), getattr(targets, "ollama", None)
    names = []
    if openai is not None and (openai.deep_probe or openai.realtime.enabled or (
            getattr(config, "cost", None) is not None and openai.admin_key is not None)):
        names.append("openai")
    if ollama is not None and ollama.deep_probe:
        names.append("ollama")
    return names


class AttachSource:
    """A running alice-agent: snapshots from its SSE stream, commands over its API.

    The stream reconnects with exponential backoff (0.5 s doubling to a 10 s cap,
    reset after a successful connection); `connected` is False while it is down so
    the header shows STALE.
    """

    def __init__(self, url: str, token: str | None = None, *, backoff_min_s: float = 0.5,
                 backoff_max_s: float = 10.0, expected_interval_s: float = 5.0,
                 read_timeout_s: float = 30.0, transport: Any = None,
                 verify: Callable[[], Any] | None = None):
        self.url = url.rstrip("/")
        self.label = f"attach {self.url}"
        self._token = token
        self.can_mutate = bool(token)
        self.expected_interval_s = expected_interval_s
        self._backoff = (backoff_min_s, backoff_max_s)
        self._read_timeout_s = read_timeout_s
        self._transport = transport
        # builds the TLS context (an SSLContext) when the first client is made
        self._verify = verify
        self._tls_context: Any = None
        self._client: Any = None
        self._task: asyncio.Task | None = None
        self._connected = False
        self._problem: str | None = "connecting"
        self._latest: dict | None = None
        self._raw: str | None = None  # the newest event's text, not parsed yet
        self._version = 0
        self._taken = 0
        self._arrived = asyncio.Event()
        self.reconnects = 0

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def problem(self) -> str | None:
        return None if self._connected else self._problem

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def _make_client(self):
        import httpx

        return httpx.AsyncClient(transport=self._transport, headers=self._headers(),
                                 timeout=httpx.Timeout(10.0, read=self._read_timeout_s),
                                 follow_redirects=False, verify=self._tls())

    def _tls(self) -> Any:
        """The TLS context every client of this source shares (`verify` builds it once:
        loading the CA bundle is ~20 ms a client); httpx's default without `verify`."""
        if self._verify is None:
            return True
        if self._tls_context is None:
            self._tls_context = self._verify()
        return self._tls_context

    async def check(self, timeout_s: float = 5.0) -> None:
        """One GET of the snapshot before the UI starts: a wrong URL, port or token is
        a one-line error (SourceError) rather than a dashboard that is STALE forever."""
        import httpx

        async with self._make_client() as client:
            try:
                resp = await client.get(f"{self.url}/api/v1/snapshot", timeout=timeout_s)
            except httpx.HTTPError as exc:
                raise SourceError(f"--attach {self.url}: cannot connect: {_why(exc)}") from None
            if resp.status_code == 401:
                raise SourceError(f"--attach {self.url}: the agent wants a bearer token: "
                                  f"{_error_text(resp)} (use --token-file)")
            if resp.status_code == 503:
                return  # the agent runs, its first probes have not finished
            if resp.status_code != 200:
                raise SourceError(f"--attach {self.url}: not an alice-agent API "
                                  f"(HTTP {resp.status_code} for /api/v1/snapshot)")
            try:
                snap = resp.json()
            except ValueError:
                raise SourceError(f"--attach {self.url}: not an alice-agent API "
                                  "(the snapshot is not JSON)") from None
            if not isinstance(snap, dict) or "components" not in snap:
                raise SourceError(f"--attach {self.url}: not an alice-agent API "
                                  "(no components in the snapshot)")
            self._accept(snap)

    async def start(self) -> None:
        if self._task is None:
            self._client = self._make_client()
            self._task = asyncio.create_task(self._run(), name="alice-tui-attach")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._connected = False

    async def _run(self) -> None:
        delays = backoff_delays(*self._backoff)
        while True:
            try:
                if await self._stream():
                    delays = backoff_delays(*self._backoff)  # it worked: start over
                self._problem = "the agent closed the event stream"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure is data: STALE with the reason
                self._problem = _describe(exc)
            finally:
                self._connected = False
                self._arrived.set()
            delay = next(delays)
            log.info("attach: %s; reconnecting in %.1f s", self._problem, delay)
            await asyncio.sleep(delay)
            self.reconnects += 1

    async def _stream(self) -> bool:
        """Read the event stream until it ends; True if it delivered a snapshot."""
        from tui.sse import SseParser

        got_one = False
        async with self._client.stream("GET", f"{self.url}/api/v1/events") as resp:
            if resp.status_code != 200:
                await resp.aread()
                raise _Refused(f"HTTP {resp.status_code} from the event stream: "
                               f"{_error_text(resp)}")
            self._connected = True
            self._problem = None
            parser = SseParser()
            async for line in resp.aiter_lines():
                event = parser.feed(line)
                if event is None or event.event != "snapshot":
                    continue
                if event.data.lstrip().startswith("{"):
                    self._accept_raw(event.data)
                    got_one = True
        return got_one

    def _accept(self, snap: dict) -> None:
        self._latest, self._raw = snap, None
        self._version += 1
        self._arrived.set()

    def _accept_raw(self, data: str) -> None:
        """Keep the event's text; it is parsed only if the dashboard takes it. An agent
        publishes a snapshot per probe result (50 endpoints probed every second: ~50 a
        second), the dashboard shows at most 4 a second: parsing them all was wasted."""
        self._raw = data
        self._version += 1
        self._arrived.set()

    async def next_snapshot(self, after_seq: int, timeout: float) -> dict | None:
        if self._version == self._taken:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout)
        if self._version == self._taken:
            return None
        self._taken = self._version
        if self._raw is not None:
            raw, self._raw = self._raw, None
            try:
                snap = json.loads(raw)
            except ValueError:
                snap = None
            if not isinstance(snap, dict):
                return None  # a garbled event: wait for the next one
            self._latest = snap
        return self._latest

    async def _request(self, method: str, path: str, *, body: dict | None = None,
                       params: dict | None = None, timeout: float = 10.0):
        """One request on the stream's client (a short-lived one before `start`)."""
        import httpx

        client = self._client or self._make_client()
        try:
            return await client.request(method, f"{self.url}{path}", json=body,
                                        params=params, timeout=timeout)
        except httpx.HTTPError as exc:
            raise CommandError(f"agent unreachable: {_describe(exc)}") from None
        finally:
            if client is not self._client:
                await client.aclose()

    async def _send(self, method: str, path: str, body: dict | None = None,
                    timeout: float = 10.0):
        """A change: refused here, without a request, when there is no token."""
        if not self._token:
            raise CommandError("read-only: the agent needs a bearer token for changes "
                               "(start alice-tui with --token-file)")
        return await self._request(method, path, body=body, timeout=timeout)

    async def add_silence(self, matchers: str, duration_s: float, comment: str,
                          by: str) -> dict:
        return await self._post("/api/v1/silences",
                                {"matchers": matchers, "duration_s": duration_s,
                                 "comment": comment, "created_by": by}, "the silence",
                                ok=(201,))

    async def expire_silence(self, silence_id: str) -> bool:
        resp = await self._send("DELETE", f"/api/v1/silences/{silence_id}")
        if resp.status_code == 404:
            return False
        if resp.status_code != 200:
            raise CommandError(f"agent refused to expire the silence: {_error_text(resp)}")
        return True

    async def add_ack(self, alert: str, comment: str, duration_s: float | None,
                      by: str) -> dict:
        return await self._post("/api/v1/acks", {"alert": alert, "comment": comment,
                                                 "duration_s": duration_s, "by": by},
                                "the acknowledgement", ok=(201,))

    async def _post(self, path: str, body: dict, what: str, timeout: float = 10.0,
                    ok: tuple[int, ...] = (200, 201)) -> dict:
        resp = await self._send("POST", path, body, timeout)
        if resp.status_code not in ok:
            raise CommandError(f"agent refused {what}: {_error_text(resp)}")
        return resp.json()

    async def remediation_plan(self, name: str, by: str) -> dict:
        return await self._post(f"/api/v1/remediation/{quote(name, safe='')}/plan",
                                {"by": by}, "the dry-run")

    async def remediation_run(self, name: str, confirm: str, by: str) -> dict:
        return await self._post(f"/api/v1/remediation/{quote(name, safe='')}/run",
                                {"confirm": confirm, "by": by}, "the run",
                                timeout=RUN_TIMEOUT_S)

    async def remediation_resume(self, name: str, by: str) -> dict:
        return await self._post(f"/api/v1/remediation/{quote(name, safe='')}/resume",
                                {"by": by}, "the resume")

    async def checklist_answer(self, kind: str, item_id: str, result: str, note: str,
                               by: str) -> dict:
        return await self._post(f"/api/v1/checklists/{quote(kind, safe='')}/items/"
                                f"{quote(item_id, safe='')}",
                                {"result": result, "note": note, "by": by}, "the answer")

    async def alert_history(self, limit: int, before: int | None = None) -> dict:
        """GET /api/v1/alerts/history (a read: no token needed on loopback)."""
        params = {"limit": str(limit), **({"before": str(before)} if before is not None
                                          else {})}
        resp = await self._request("GET", "/api/v1/alerts/history", params=params)
        if resp.status_code == 404:
            raise CommandError("this agent has no alert history API (an older alice-agent)")
        if resp.status_code != 200:
            raise CommandError(f"agent refused the alert history: {_error_text(resp)}")
        try:
            page = resp.json()
        except ValueError:
            page = None
        if not isinstance(page, dict) or not isinstance(page.get("records"), list):
            raise CommandError("the agent's alert history is not what was expected")
        return page


def backoff_delays(first_s: float = 0.5, cap_s: float = 10.0) -> Iterator[float]:
    """0.5, 1, 2, 4, 8, 10, 10, ... seconds between reconnection attempts."""
    delay = first_s
    while True:
        yield delay
        delay = min(delay * 2, cap_s)


class _Refused(Exception):
    pass


def _error_text(resp: Any) -> str:
    try:
        data = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}"
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {resp.status_code}"


def _describe(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({_why(exc)})"
    if isinstance(exc, httpx.ReadTimeout):
        return "no data from the agent (read timeout)"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return f"connection lost ({_why(exc)})"
    return _why(exc)
