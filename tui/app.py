"""The dashboard: `DashboardApp(source=...)` shows the snapshots a `Source` delivers.

A single worker reads snapshots and posts `SnapshotArrived` (a newer one replaces an
unhandled older one); the handler sets the `snapshot` reactive and screens redraw
from it. Commands (silence, ack, expire) go to the source in workers; the UI never
probes, queries or writes anything itself.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import importlib
import logging
import time
from typing import Any, Callable, Iterable, Mapping

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from tui import format as fmt
from tui import marks
from tui.keys import ACTIONS, SCREENS
from tui.messages import SnapshotArrived
from tui.source import CommandError, Source

log = logging.getLogger("alice_ops.tui")
REFRESH_MIN_S = 0.25  # at most ~4 redraws a second, whatever the agent publishes
FREEZE_AFTER_S = 2.0  # after the first snapshot: see DashboardApp.freeze_long_lived
GC_EVERY_S = 1.0
SETTLE_S = 1.0  # unthrottled this long after the list of components changed (see _feed)
SCREEN_NUMBERS = {name: i for i, (name, _) in enumerate(SCREENS, start=1)}
SCREEN_TITLES = dict(SCREENS)


SCREEN_CLASSES = {"overview": ("tui.screens.overview", "OverviewScreen"),
                  "alerts": ("tui.screens.alerts", "AlertsScreen"),
                  "remediation": ("tui.screens.remediation", "RemediationScreen"),
                  "costs": ("tui.screens.costs", "CostsScreen"),
                  "checklists": ("tui.screens.checklists", "ChecklistsScreen"),
                  "capacity": ("tui.screens.capacity", "CapacityScreen")}


def _screen_factories() -> dict[str, Callable[[], Screen]]:
    """A factory per mode that imports its screen's module when the screen is first shown
    (the Alerts screen's DataTable, the capacity table: not needed for the first paint)."""

    def factory(module: str, name: str) -> Callable[[], Screen]:
        def make() -> Screen:
            return getattr(importlib.import_module(module), name)()
        return make

    return {mode: factory(*where) for mode, where in SCREEN_CLASSES.items()}


def _global_bindings() -> list[Binding]:
    out = [Binding(a.key, "quit" if a.id == "quit" else a.id.replace(".", "_"),
                   a.description.split(":")[0], id=a.id, show=a.id in ("quit", "help", "filter"))
           for a in ACTIONS if a.where == "everywhere" and not a.id.startswith("screen.")
           and a.id != "back"]
    for i, (name, _title) in enumerate(SCREENS, start=1):
        out.append(Binding(str(i), f"show_screen('{name}')", "screens", id=f"screen.{name}",
                           show=i == 1, key_display="1-6"))
    out.append(Binding("escape", "back", "back", id="back", show=False))
    return out


class DashboardApp(App[int]):
    """alice-ops dashboard. `source` delivers snapshots and takes commands."""

    CSS_PATH = "styles.tcss"
    TITLE = "alice-ops"
    BINDINGS = _global_bindings()
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (40, "-tall")]

    # Data, not drawing: the widgets that show them watch them and refresh themselves.
    # (An App reactive repaints the whole screen by default: a full-screen redraw and
    # write to the terminal on every snapshot and every tick, for nothing.)
    snapshot: reactive[dict | None] = reactive(None, always_update=True, init=False,
                                               repaint=False)
    now: reactive[float] = reactive(0.0, init=False, repaint=False)
    stale: reactive[str | None] = reactive(None, init=False, repaint=False)

    def __init__(self, source: Source, *, read_only: bool = False, ascii_only: bool = False,
                 keys: Mapping[str, str] | None = None, clock: Callable[[], float] = time.time,
                 user: str | None = None, refresh_min_s: float = REFRESH_MIN_S,
                 tick_s: float = 1.0):
        super().__init__()
        self.source = source
        self.read_only = read_only or not getattr(source, "can_mutate", True)
        self.ascii_only = ascii_only
        self.keys = dict(keys or {})
        self.clock = clock
        self.user = user or _user()
        self.received_at: float | None = None
        self._refresh_min_s = refresh_min_s
        self._tick_s = tick_s
        self.snapshots_shown = 0
        self.set_reactive(DashboardApp.now, clock())
        self._gc_rounds = 0
        self._bench = marks.enabled()
        self._bench_pending = {"first_paint", "first_full_paint"} if self._bench else set()

    # -- life cycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        marks.mark("app_mount")
        if self.ascii_only:
            self.add_class("-ascii")
        if self.keys:
            self.set_keymap(self.keys)
        for name, factory in _screen_factories().items():
            self.add_mode(name, factory)
        self.switch_mode("overview")
        self.set_interval(self._tick_s, self._tick)
        self._feed()

    def on_unmount(self) -> None:
        # freeze_long_lived turned automatic collection off for this app's lifetime;
        # the process (a test run, the in-process agent's shutdown) gets it back
        gc.enable()

    def freeze_long_lived(self) -> None:
        """Move the objects alive now out of the garbage collector's reach: collect the
        garbage first (so none of it is kept forever), then `gc.freeze()` the rest.

        Called once the dashboard is up and after each screen's first draw: by then the
        imported modules' functions and classes, the app and its screens (and with --demo
        the agent and simulator) make up most of the objects, and they live as long as
        the process. Full collections then scan only what was created since. With 10,000
        alerts a full collection scanning everything took 60-110 ms every few seconds: a
        stutter in the middle of a key press. Frozen objects are still freed when their
        last reference goes (a snapshot, acyclic, is); only a frozen reference cycle
        would stay.
        """
        gc.collect()
        gc.freeze()
        if gc.isenabled():
            # From now on the collector runs between key presses, not inside them: the
            # automatic one is off and `_collect_between_keys` runs every second.
            gc.disable()
            self.set_interval(GC_EVERY_S, self._collect_between_keys)

    def _collect_between_keys(self) -> None:
        """The young generations every second, everything unfrozen every 30 s (a key
        pressed meanwhile waits at most that long; with automatic collection a gen-1/gen-2
        pass could land inside any key's frame: 10-20 ms of a 50 ms budget)."""
        self._gc_rounds += 1
        gc.collect(2 if self._gc_rounds % 30 == 0 else 1)

    def _tick(self) -> None:
        self.now = self.clock()
        self.stale = fmt.staleness(self.now, self.received_at, self.source.connected,
                                   self.source.problem, self.expected_interval_s())

    def expected_interval_s(self) -> float:
        """The agent's own word when its snapshot carries it, else the source's guess."""
        stated = ((self.snapshot or {}).get("agent") or {}).get("expected_interval_s")
        if isinstance(stated, (int, float)) and stated > 0:
            return float(stated)
        return self.source.expected_interval_s

    @work(exclusive=True, group="feed", exit_on_error=False)
    async def _feed(self) -> None:
        """Read snapshots forever; never more often than `refresh_min_s`, except while
        the list of components is changing: for SETTLE_S after a change every snapshot
        is shown as it comes (start-up: the agent lists each component once probed, a
        few at a time; the last one must not wait out a refresh interval).

        A failed read is not fatal: no snapshot arrives, so the header goes STALE, and
        the next read is tried a second later.
        """
        seq = -1
        names: list | None = None
        changed_at = float("-inf")
        while True:
            try:
                snap = await self.source.next_snapshot(seq, timeout=1.0)
            except Exception as exc:  # noqa: BLE001 - shown as STALE, logged
                log.warning("reading a snapshot failed: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if snap is None:
                continue
            seq = int(snap.get("seq", seq))
            self.post_message(SnapshotArrived(snap, self.clock()))
            shown = [c.get("name") for c in snap.get("components") or []]
            if shown != names:
                names, changed_at = shown, time.monotonic()
            if time.monotonic() - changed_at < SETTLE_S:
                # New components (start-up: the agent lists each once it is probed):
                # show them without waiting; only updates of known ones are throttled.
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(self._refresh_min_s)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(f"{event.worker.name}: {event.worker.error}", title="internal error",
                        severity="error", timeout=10)

    def on_snapshot_arrived(self, message: SnapshotArrived) -> None:
        self.received_at = message.received_at
        self.snapshots_shown += 1
        self.snapshot = message.snapshot
        self._tick()
        if self.snapshots_shown == 1:  # later, not to hold up the first full paint
            self.set_timer(FREEZE_AFTER_S, self.freeze_long_lived)
        if self._bench:
            marks.mark("first_snapshot" if self.snapshots_shown == 1 else "snapshot")
            if self._bench_pending:
                self.call_after_refresh(self._check_paint, message.snapshot, 0)

    def _check_paint(self, snapshot: dict, tries: int) -> None:
        """Benchmark hook (only with ALICE_TUI_BENCH_FILE): runs once the screen has been
        refreshed after `snapshot` was applied, and marks

        - `first_paint`: the first frame in which the overview shows a tile for every
          component of a snapshot (the tiles in view drawn from it);
        - `first_full_paint`: the first such frame for a snapshot with every component
          probed: ALICE_TUI_BENCH_COMPONENTS (the number configured) components or more,
          each with a probe result (`last_probe_at`), so every tile shows a status word
          from a real probe (the agent lists a component once it has been probed).

        Re-armed (bounded) when the frame is not there yet, e.g. tiles still mounting.
        """
        from tui.screens.overview import tile_components
        from tui.widgets.component_tile import ComponentTile

        if snapshot is not self.snapshot or self.current_mode != "overview":
            return  # a newer snapshot arrived (its own check runs), or another screen
        components = tile_components(snapshot)
        screen = self.screen
        tiles = {t.name_: t for t in screen.query(ComponentTile)}
        try:
            grid = screen.query_one("#tiles").region
        except Exception:  # noqa: BLE001 - not the overview after all
            return
        drawn = (components and len(tiles) == len(components)
                 and all(c["name"] in tiles for c in components)
                 and all(t.painted is t.component and t.component == c
                         for c in components
                         if (t := tiles[c["name"]]).region.overlaps(grid)))
        if not drawn:
            if tries < 50:
                self.call_after_refresh(self._check_paint, snapshot, tries + 1)
            return
        if "first_paint" in self._bench_pending:
            self._bench_pending.discard("first_paint")
            marks.mark("first_paint")
        expected = marks.expected_components()
        probed = snapshot.get("components") or []  # the cost component too (spend gauge)
        if len(probed) >= expected and all(c.get("last_probe_at") for c in probed):
            self._bench_pending.discard("first_full_paint")
            marks.mark("first_full_paint")

    # -- actions -------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("silence", "ack", "expire") and self.read_only:
            return False
        if action == "show_screen" and isinstance(self.screen, ModalScreen):
            return False
        return True

    def action_show_screen(self, name: str) -> None:
        if name in SCREEN_TITLES and self.current_mode != name:
            self.switch_mode(name)

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_back(self) -> None:
        if isinstance(self.screen, ModalScreen):
            self.screen.dismiss(None)
        elif self.current_mode != "overview":
            self.switch_mode("overview")

    def action_filter(self) -> None:
        if self.current_mode == "alerts" and hasattr(self.screen, "open_filter"):
            self.screen.open_filter()  # already there: no need to wait for a refresh
            return
        self.action_show_screen("alerts")
        self.call_after_refresh(lambda: self.screen.open_filter()
                                if hasattr(self.screen, "open_filter") else None)

    def action_alert_history(self) -> None:
        self.action_show_screen("alerts")
        self.call_after_refresh(lambda: self.screen.action_history()
                                if hasattr(self.screen, "action_history") else None)

    def selected_alert(self) -> dict | None:
        """The alert an action applies to: the Alerts screen's selected row, else the
        newest firing alert."""
        picker = getattr(self.screen, "selected_alert", None)
        if picker is not None:
            return picker()
        snap = self.snapshot or {}
        firing = [a for a in snap.get("alerts") or [] if a.get("state") == "firing"]
        ordered = fmt.newest_first(firing)
        return dict(ordered[0]) if ordered else None

    def action_silence(self) -> None:
        from tui.screens.silence_form import SilenceForm

        alert = self.selected_alert()
        self.push_screen(SilenceForm(fmt.default_matchers(alert), alert), self._silence)

    def action_ack(self) -> None:
        from tui.screens.ack_form import AckForm

        alert = self.selected_alert()
        if alert is None:
            self.notify("No alert selected to acknowledge.", severity="warning")
            return
        self.push_screen(AckForm(alert), self._ack)

    def action_expire(self) -> None:
        picker = getattr(self.screen, "selected_silence_id", None)
        silence_id = picker() if picker else (self.selected_alert() or {}).get("silenced_by")
        if not silence_id:
            self.notify("The selected alert is not silenced.", severity="warning")
            return
        self._run_command("expire", silence_id)

    def _silence(self, request: dict | None) -> None:
        if request:
            self._run_command("silence", request)

    def _ack(self, request: dict | None) -> None:
        if request:
            self._run_command("ack", request)

    @work(group="commands", exit_on_error=False)
    async def _run_command(self, kind: str, arg: Any) -> None:
        try:
            if kind == "silence":
                made = await self.source.add_silence(arg["matchers"], arg["duration_s"],
                                                     arg["comment"], self.user)
                text = (f"Silenced {', '.join(made.get('matchers') or [arg['matchers']])} for "
                        f"{fmt.format_duration(arg['duration_s'])} (id {made.get('id', '?')})")
            elif kind == "ack":
                made = await self.source.add_ack(arg["alert"], arg["comment"],
                                                 arg["duration_s"], self.user)
                text = f"Acknowledged {made.get('alert', arg['alert'])}"
            else:
                done = await self.source.expire_silence(arg)
                text = f"Silence {arg} expired" if done else f"No active silence {arg}"
        except CommandError as exc:
            self.notify(str(exc), title=f"{kind} failed", severity="error", timeout=8)
            return
        self.notify(text, title=kind)

    # -- command palette -----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for i, (name, title) in enumerate(SCREENS, start=1):
            yield SystemCommand(f"Screen: {title}", f"switch to the {title} screen (key {i})",
                                lambda n=name: self.action_show_screen(n))
        yield SystemCommand("Help: keys", "every key of the dashboard", self.action_help)
        yield SystemCommand("Filter alerts", "open the Alerts screen's filter",
                            self.action_filter)
        yield SystemCommand("Alert history", "every fired / resolved / flapping transition, "
                            "newest first, paged", self.action_alert_history)
        yield from self._capability_commands()
        if not self.read_only:
            yield SystemCommand("Silence alert", "silence the selected (or newest firing) "
                                "alert, with a reason and a duration", self.action_silence)
            yield SystemCommand("Acknowledge alert", "acknowledge the selected (or newest "
                                "firing) alert, with a reason", self.action_ack)
            yield SystemCommand("Expire silence", "end the silence on the selected alert",
                                self.action_expire)
        yield SystemCommand("Quit", "quit alice-tui", self.action_quit)
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def _capability_commands(self) -> Iterable[SystemCommand]:
        """A command per playbook (dry-run; run and resume unless read-only) and per open
        checklist item (tick, unless read-only), from the snapshot."""
        snap = self.snapshot or {}
        for p in (snap.get("remediation") or {}).get("playbooks") or []:
            name = p.get("name", "")
            yield SystemCommand(f"Dry-run playbook {name}", f"{p.get('title', '')}: every "
                                "step exactly as it would run, nothing done",
                                lambda n=name: self._on_screen(
                                    "remediation", lambda s: s.plan_playbook(n)))
            if not self.read_only:
                yield SystemCommand(f"Run playbook {name}", f"{p.get('title', '')} "
                                    "(type its name to confirm)",
                                    lambda n=name: self._on_screen(
                                        "remediation", lambda s: s.confirm_run(n)))
                if p.get("suspended"):
                    yield SystemCommand(f"Resume playbook {name}", "the agent gave up on it",
                                        lambda n=name: self._on_screen(
                                            "remediation", lambda s: s.resume_playbook(n)))
        if self.read_only:
            return
        lists = snap.get("checklists") or {}
        for kind in ("daily", "weekly"):
            for item in (lists.get(kind) or {}).get("items") or []:
                if item.get("result") is None:
                    yield SystemCommand(f"Tick {kind} item: {item.get('text', '')}",
                                        f"answer {item.get('id')} of the {kind} checklist",
                                        lambda k=kind, i=item.get("id"): self._on_screen(
                                            "checklists", lambda s: s.tick_item(k, i)))

    def _on_screen(self, mode: str, call: Callable[[Screen], Any]) -> None:
        """Show screen `mode`, then `call(screen)` once it is up."""
        self.action_show_screen(mode)
        self.call_after_refresh(lambda: call(self.screen) if self.current_mode == mode
                                and not isinstance(self.screen, ModalScreen) else None)


def _user() -> str:
    try:
        return f"{getpass.getuser()}@alice-tui"
    except (KeyError, OSError):
        return "alice-tui"
