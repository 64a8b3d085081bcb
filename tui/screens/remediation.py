"""Screen 3, Remediation: the guide's runbooks as playbooks (agent.remediation), their
state and rails, the dry-run preview of the exact steps (p / enter), a run by hand after
the operator types the playbook's name (r), resume after the agent gave up (u), and
the audit history of runs; from the snapshot's `remediation` section. A playbook that
`remediate verify` found cannot work on this deployment shows N/A, and the highlighted
playbook's verdict (why not applicable) shows under the table."""

from __future__ import annotations

from typing import Any, Awaitable, Mapping

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from tui import format as fmt
from tui.screens.base import DashboardScreen
from tui.source import CommandError
from tui.widgets.keyed_table import KeyedTable

PLAYBOOK_COLUMNS = (("playbook", "name"), ("state", "state"), ("mode", "mode"),
                    ("runs", "runs"), ("last run", "last"), ("on alerts", "trigger"))
RUN_COLUMNS = (("when", "when"), ("playbook", "playbook"), ("kind", "kind"),
               ("outcome", "outcome"), ("by", "actor"), ("why", "reason"))
STATE_STYLES = {"ready": "green", "applied": "cyan", "triggered": "yellow",
                "cooldown": "yellow", "running": "bold cyan", "suspended": "bold red",
                "not_applicable": "magenta"}
OUTCOME_STYLES = {"ok": "green", "planned": "cyan", "reverted": "yellow",
                  "started": "cyan", "failed": "bold red", "revert_failed": "bold red",
                  "refused": "yellow", "interrupted": "bold red", "suspended": "bold red"}


def verdict_line(p: Mapping[str, Any] | None) -> str:
    """Pure: the verification verdict of one playbook, for the line under the table."""
    if not p:
        return ""
    verdict = p.get("applicable")
    if verdict is None:
        return f"{p.get('name', '')}: not verified yet"
    if verdict == "applicable":
        return f"{p.get('name', '')}: applicable (every step fits this deployment)"
    held = "; never run automatically" if verdict == "not_applicable" else ""
    return f"{p.get('name', '')}: {p.get('not_applicable_reason') or verdict}{held}"


def playbook_row(p: Mapping[str, Any], now: float) -> tuple:
    """Pure: the cells of one playbook (state and outcome as words, with colour)."""
    state = str(p.get("state", ""))
    word = state.upper()
    if state == "cooldown" and p.get("cooldown_left_s"):
        word += f" {fmt.format_duration(float(p['cooldown_left_s']))}"
    if p.get("applicable") == "not_applicable":
        word, state = f"N/A {word}", "not_applicable"
    last = p.get("last_run") or {}
    outcome = str(last.get("outcome") or "")
    last_cell = Text(f"{outcome.upper()} {fmt.clock_time(last.get('started_at'), now)}"
                     if last else "-", style=OUTCOME_STYLES.get(outcome, "dim"))
    return (str(p.get("name", "")), Text(word, style=STATE_STYLES.get(state, "")),
            str(p.get("mode", "")),
            f"{p.get('runs_in_window', 0)}/{p.get('limit', '?')} in "
            f"{fmt.format_duration(float(p.get('window_s') or 0))}",
            last_cell, ", ".join(p.get("trigger") or []))


def run_row(r: Mapping[str, Any], now: float) -> tuple:
    """Pure: one run of the history."""
    outcome = str(r.get("outcome", ""))
    return (fmt.clock_time(r.get("started_at"), now), str(r.get("playbook", "")),
            str(r.get("kind", "")), Text(outcome.upper(), style=OUTCOME_STYLES.get(outcome, "")),
            str(r.get("actor", "")), str(r.get("reason") or ""))


class RemediationScreen(DashboardScreen):
    NAME, TITLE, NUMBER = "remediation", "Remediation", 3
    BINDINGS = [Binding("p", "plan", "dry-run", id="plan"),
                Binding("r", "run", "run", id="run"),
                Binding("u", "resume", "resume", id="resume")]

    def __init__(self) -> None:
        super().__init__()
        self._playbooks: dict[str, dict] = {}
        self.last_result: dict | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(id="remediation-info")
        yield KeyedTable(PLAYBOOK_COLUMNS, id="playbooks")
        yield Static(id="playbook-verdict")
        yield Static("Runs (newest first)", id="runs-title")
        yield KeyedTable(RUN_COLUMNS, id="runs")

    def on_mount(self) -> None:
        self.query_one("#playbooks", KeyedTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run", "resume") and self.app.read_only:
            return False
        return True

    def show(self, snapshot: dict) -> None:
        section = snapshot.get("remediation") or {}
        now = self.app.now
        playbooks = section.get("playbooks") or []
        self._playbooks = {p["name"]: p for p in playbooks}
        self.query_one("#playbooks", KeyedTable).sync(
            [(p["name"], playbook_row(p, now)) for p in playbooks])
        runs = section.get("history") or []
        self.query_one("#runs", KeyedTable).sync(
            [(str(r.get("id")), run_row(r, now)) for r in runs])
        info = [f"{len(playbooks)} playbooks"]
        if section.get("running"):
            info.append(f"running: {section['running']}")
        if section.get("read_only") or self.app.read_only:
            info.append("read-only: runs are not offered")
        if section.get("error"):
            info.append(f"error: {section['error']}")
        notices = section.get("notices") or []
        if notices:
            info.append(f"last notice: {notices[-1].get('message', '')}")
        if not playbooks:
            info = ["no playbooks (remediation not set up in this agent)"]
        self.set_text("#remediation-info", "; ".join(info) +
                       ("" if not playbooks else "   p dry-run" +
                        ("" if self.app.read_only else ", r run, u resume")))
        self._show_verdict()

    @on(DataTable.RowHighlighted, "#playbooks")
    def _show_verdict(self) -> None:
        self.set_text("#playbook-verdict", escape(verdict_line(self.selected_playbook())))

    def selected_playbook(self) -> dict | None:
        key = self.query_one("#playbooks", KeyedTable).selected_key()
        return self._playbooks.get(key) if key else None

    # -- actions -------------------------------------------------------------------------

    def _need_playbook(self) -> dict | None:
        playbook = self.selected_playbook()
        if playbook is None:
            self.notify("No playbook selected.", severity="warning")
        return playbook

    @on(DataTable.RowSelected, "#playbooks")
    def _enter(self) -> None:
        self.action_plan()

    def action_plan(self) -> None:
        playbook = self._need_playbook()
        if playbook is not None:
            self.plan_playbook(playbook["name"])

    def action_run(self) -> None:
        playbook = self._need_playbook()
        if playbook is not None:
            self.confirm_run(playbook["name"])

    def confirm_run(self, name: str) -> None:
        """The typed confirmation, then the run (the command palette comes here too)."""
        from tui.screens.confirm_run import ConfirmRun

        playbook = self._playbooks.get(name)
        if playbook is None or self.app.read_only:
            return

        def confirmed(typed: str | None) -> None:
            if typed:
                self.run_playbook(playbook["name"], typed)

        self.app.push_screen(ConfirmRun(playbook["name"], playbook.get("title", ""),
                                        int(playbook.get("steps") or 0),
                                        str(playbook.get("mode", ""))), confirmed)

    def action_resume(self) -> None:
        playbook = self._need_playbook()
        if playbook is not None:
            self.resume_playbook(playbook["name"])

    async def _ask(self, request: Awaitable[dict], refused: str, timeout: float) -> dict | None:
        """The source's answer (kept in `last_result`), or None after notifying why not."""
        try:
            self.last_result = await request
        except CommandError as exc:
            self.notify(str(exc), title=refused, severity="error", timeout=timeout)
            return None
        return self.last_result

    @work(group="remediation", exit_on_error=False)
    async def plan_playbook(self, name: str) -> None:
        from tui.screens.plan_dialog import PlanDialog

        shown = await self._ask(self.app.source.remediation_plan(name, self.app.user),
                                "dry-run failed", 8)
        if shown is not None:
            self.app.push_screen(PlanDialog(shown))

    @work(group="remediation", exit_on_error=False)
    async def run_playbook(self, name: str, confirm: str) -> None:
        self.notify(f"Running {name}...", title="remediation")
        outcome = await self._ask(self.app.source.remediation_run(name, confirm, self.app.user),
                                  "run refused", 10)
        if outcome is None:
            return
        result = str(outcome.get("outcome", "?"))
        self.notify(f"{name}: {result.upper()}" + (f" ({outcome['error']})"
                                                  if outcome.get("error") else ""),
                    title="remediation", severity="information" if result == "ok" else
                    "warning", timeout=10)

    @work(group="remediation", exit_on_error=False)
    async def resume_playbook(self, name: str) -> None:
        done = await self._ask(self.app.source.remediation_resume(name, self.app.user),
                               "resume refused", 8)
        if done is not None:
            self.notify(f"{name} resumed" + (" (it was suspended)" if done.get("was_suspended")
                                             else ""), title="remediation")
