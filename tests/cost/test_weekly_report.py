"""The weekly report from a simulated week in a real state.db: figures, Markdown, the CLI, and
the HTML opened in headless Debian chromium to check the charts are really drawn."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from agent.cli.main import main
from agent.config import parse_config
from agent.report import weekly_report
from agent.report.render import to_html, to_markdown
from agent.store import Store
from simulator.week import BURN_DAY, SLOW_DAY, fill_week

CHROMIUM = "/usr/bin/chromium"
CONFIG = "cost: {timezone: Europe/Stockholm}\n"


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    path = tmp_path_factory.mktemp("week") / "state.db"
    now = time.time()
    with Store.open(path) as store:
        planted = fill_week(store, now)
        report = weekly_report(parse_config(CONFIG, "<t>", {}), store, now)
    return path, now, planted, report


def test_figures_come_from_the_stored_history(week):
    _path, _now, planted, report = week
    assert report.timezone == "Europe/Stockholm" and len(report.days) == 7
    burn = report.days[BURN_DAY]
    assert burn.spend_usd == pytest.approx(planted["day_spend"][BURN_DAY], rel=1e-6)
    assert burn.spend_usd > 10 and burn.percent > 100  # over the 10 USD daily budget
    assert report.days[0].spend_usd == pytest.approx(planted["day_spend"][0], rel=1e-6)
    assert report.days[0].percent < 80
    assert report.week_spend == pytest.approx(sum(planted["day_spend"].values()), rel=1e-6)
    assert 64 <= report.fast_share <= 68
    openai = next(r for r in report.latency if r.title.startswith("Fast path"))
    assert openai.worst > 600 and openai.p50 < 300  # the slow afternoon, a normal week
    assert openai.samples > 1500  # downsampled minutes and the last hour's raw samples
    assert report.days[SLOW_DAY].warnings == 1
    assert report.days[BURN_DAY].warnings == 1 and report.days[BURN_DAY].criticals == 1
    assert {n: (w, c) for n, w, c in report.alert_counts} == {
        "openai_response_latency_p95": (1, 0), "cost_daily_budget": (1, 0),
        "cost_hourly_budget": (0, 1)}


def test_markdown_has_every_section(week):
    text = to_markdown(week[3])
    for heading in ("## Latency percentiles", "## Routing split", "## Spend vs budget",
                    "## Alerts"):
        assert heading in text
    assert "| cost_hourly_budget | 0 | 1 |" in text
    assert re.search(r"\| Fast path response latency p95 \| \d+ \| \d+ \|", text)


def test_html_is_self_contained(week):
    html = to_html(week[3])
    assert html.count("<svg") == 4
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert "<script" not in html


def test_cli_writes_html_and_markdown(week, tmp_path, capsys):
    path = week[0]
    cfg = tmp_path / "alice-ops.yaml"
    cfg.write_text(CONFIG)
    out = tmp_path / "report.html"
    assert main(["report", "weekly", "--out", str(out), "--data", str(path), "--config",
                 str(cfg), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "html" and summary["alerts_fired"] == 3
    assert summary["week_spend_usd"] > 10
    assert out.read_text().startswith("<!DOCTYPE html>")
    md = tmp_path / "report.md"
    assert main(["report", "weekly", "-o", str(md), "--data", str(path), "-c", str(cfg)]) == 0
    assert md.read_text().startswith("# Alice weekly performance report")


def test_cli_without_history_is_one_line(tmp_path, capsys):
    code = main(["report", "weekly", "--out", str(tmp_path / "r.html"), "--data",
                 str(tmp_path / "none.db")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0
    assert err.startswith("alice-ops: report: no agent state at")


MEASURE = """<script>
const out = [];
for (const svg of document.querySelectorAll("svg.chart")) {
  const paths = [...svg.querySelectorAll("path.series")].map(p => {
    const box = p.getBBox();
    return {name: p.dataset.name, length: p.getTotalLength(), width: box.width,
            height: box.height, segments: p.getAttribute("d").split("L").length};
  });
  const bars = [...svg.querySelectorAll("rect.bar")].map(r => r.getBBox().height);
  const rect = svg.getBoundingClientRect();
  out.push({title: svg.querySelector("title").textContent, shown_width: rect.width,
            shown_height: rect.height, paths, bars});
}
const pre = document.createElement("pre");
pre.id = "geometry";
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"""


def test_chromium_draws_the_charts(week, tmp_path):
    """Headless chromium lays the page out; a measuring script (added to a copy, the report
    has none) reads each chart's geometry back from the live SVG DOM."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./scripts/test installs Debian's chromium")
    page = tmp_path / "measured.html"
    page.write_text(to_html(week[3]).replace("</body>", MEASURE + "</body>"))
    profile = tmp_path / "profile"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=2000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90)
    match = re.search(r'<pre id="geometry">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert match, f"no geometry in chromium's DOM (exit {proc.returncode}): {proc.stderr[-800:]}"
    charts = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    titles = [c["title"] for c in charts]
    assert titles == ["Latency p95 (hourly mean)", "Fast-path share (target 60-70 %)",
                      "OpenAI spend per day (USD)", "Alerts fired per day"]
    for chart in charts:
        assert chart["shown_width"] >= 700 and chart["shown_height"] >= 250
    latency, share, spend, alerts = charts
    assert len(latency["paths"]) == 4
    for path in latency["paths"] + share["paths"]:
        # a week of hourly points spans most of the plot and has real length
        assert path["width"] > 500 and path["length"] > 600, path
    assert share["paths"][0]["height"] > 1
    assert len(spend["bars"]) == 7 and max(spend["bars"]) > 100
    # every past day has a bar; today's may be 0 tall just after local midnight
    assert min(spend["bars"][:-1]) > 0 and spend["bars"][-1] >= 0
    assert len(alerts["bars"]) == 3 and all(h > 10 for h in alerts["bars"])


def test_demo_report_needs_no_agent(tmp_path, capsys):
    out = tmp_path / "demo.md"
    assert main(["report", "weekly", "--demo", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "md" and summary["alerts_fired"] == 3
    assert "| cost_daily_budget | 1 | 0 |" in out.read_text()


def test_an_empty_history_still_renders(tmp_path):
    with Store.open(tmp_path / "state.db") as store:
        report = weekly_report(parse_config(CONFIG, "<t>", {}), store, time.time())
    assert report.week_spend is None and report.fast_share is None
    assert all(r.verdict == "no data" for r in report.latency)
    html, md = to_html(report), to_markdown(report)
    assert html.count("<svg") == 4 and "No alerts fired this week." in md


def test_spend_is_coloured_by_the_configured_levels(week):
    from dataclasses import replace

    from agent.report.render import _num
    from rules.budget import Levels

    report = week[3]
    day0 = report.days[0]  # under 80 % of the daily budget: "ok" at the default levels
    cell = re.compile(rf'<td class="(\w*)">{re.escape(_num(day0.percent))} %</td>')
    assert cell.search(to_html(report)).group(1) == "ok"
    lowered = replace(report, levels=Levels(warning=day0.percent / 200, critical=0.99))
    assert cell.search(to_html(lowered)).group(1) == "warning"
