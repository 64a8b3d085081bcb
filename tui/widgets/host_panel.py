"""Host resources (CPU, memory, disk, GPU) and the think path's capacity, as bars against
their target and alert thresholds; from the host and ollama components of a snapshot."""

from __future__ import annotations

from typing import Any, Mapping

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import format as fmt

LOCAL_AI = ("local_ai_queue_depth", "vram_share", "generate_tokens_per_s",
            "local_ai_processing_time_p95")


def _component(snapshot: Mapping[str, Any] | None, name: str) -> Mapping[str, Any] | None:
    return next((c for c in (snapshot or {}).get("components") or [] if c.get("name") == name),
                None)


def gpu_note(host: Mapping[str, Any]) -> str:
    """The GPU part of the host summary ('no GPU (no NVIDIA driver)', '1 GPU: ...')."""
    parts = [p.strip() for p in (host.get("summary") or "").split(";")]
    return next((p for p in parts if "GPU" in p), "not reported")


def host_table(snapshot: Mapping[str, Any] | None, width: int,
               ascii_only: bool = False) -> Table | Text:
    """Pure: one row per host / local-AI metric with a usage bar for percentages."""
    from rich import box

    host = _component(snapshot, "host")
    if host is None:
        return Text("no host data yet", style="dim")
    bar_w = min(30, width - 80)  # a usage bar only where it fits

    table = Table(box=box.ASCII if ascii_only else box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, expand=False)
    table.add_column("metric", no_wrap=True, overflow="ellipsis", max_width=30)
    if bar_w >= 8:
        table.add_column("use", no_wrap=True, width=bar_w)
    for col in ("value", "target", "alert"):
        table.add_column(col, no_wrap=True, min_width=9)
    table.add_column("status", no_wrap=True, min_width=8)

    def add(m: Mapping[str, Any]) -> None:
        status, value = m.get("status"), m.get("value")
        use = fmt.bar(value / 100, bar_w, ascii_only) \
            if m.get("unit") == "percent" and value is not None else ""
        bar_cell = [Text(use, style="cyan")] if bar_w >= 8 else []
        table.add_row(m.get("title") or m.get("name", ""), *bar_cell,
                      fmt.format_value(value, m.get("unit", "")), m.get("target") or "",
                      m.get("alert") or "",
                      Text(fmt.status_word(status), style=fmt.status_style(status)))

    for m in host.get("metrics") or []:
        add(m)
    ollama = _component(snapshot, "ollama")
    for m in (ollama or {}).get("metrics") or []:
        if m.get("name") in LOCAL_AI:
            add(m)
    return table


def host_heading(snapshot: Mapping[str, Any] | None, now: float) -> Text:
    host = _component(snapshot, "host")
    if host is None:
        return Text("")
    status = host.get("status")
    return Text.assemble(("host ", "bold"),
                         (f" {fmt.status_word(status)} ", fmt.status_style(status)),
                         f"  {host.get('summary', '')}\n",
                         f"GPU: {gpu_note(host)}   last probe "
                         f"{fmt.age(host.get('last_probe_at'), now)}")


class HostPanel(Widget):
    snapshot: reactive[dict | None] = reactive(None, always_update=True)

    def render(self):
        from rich.console import Group

        return Group(host_heading(self.snapshot, self.app.now), Text(""),
                     host_table(self.snapshot, self.content_size.width,
                                self.app.ascii_only))
