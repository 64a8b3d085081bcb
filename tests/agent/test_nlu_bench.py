"""`alice-ops nlu-bench` against the simulator's classifier: figures, status, exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from agent.cli.main import main
from agent.nlu_bench import load_gold_set
from simulator.nlu import classify
from simulator.server import run_in_thread


@pytest.fixture(scope="module")
def sim():
    with run_in_thread(seed=5) as threaded:
        yield threaded


def write_config(tmp_path, backend_url):
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f'targets:\n  backend: {{url: "{backend_url}", timeout_ms: 1000}}\n')
    return path


def bench(capsys, path, *extra):
    code = main(["nlu-bench", "--config", str(path), "--json", *extra])
    out = capsys.readouterr()
    return code, json.loads(out.out), out


def expected_correct(degraded: bool) -> tuple[int, int]:
    """What the simulator's classifier gets right on the shipped sample (the oracle)."""
    items = load_gold_set(None)
    right = sum(classify(i.text, degraded_accuracy=degraded).intent == i.intent for i in items)
    return right, len(items)


@pytest.mark.parametrize("scenario, status, code", [
    ("normal", "ok", 0),
    ("accuracy-drop", "critical", 2),
])
def test_sample_against_the_simulator(sim, tmp_path, capsys, scenario, status, code):
    sim.set_scenario(scenario)
    result_code, doc, _ = bench(capsys, write_config(tmp_path, sim.urls["backend"]))
    right, total = expected_correct(degraded=scenario != "normal")
    assert (result_code, doc["status"]) == (code, status)
    assert (doc["correct"], doc["total"], doc["failed"]) == (right, total, 0)
    assert doc["accuracy_percent"] == pytest.approx(100 * right / total, abs=0.01)
    if scenario == "normal":
        assert doc["accuracy_percent"] > 90
    else:
        assert doc["accuracy_percent"] < 85
    assert sum(c["count"] for c in doc["confusions"]) == total - right
    assert doc["latency_ms"]["p50"] > 0 and doc["latency_ms"]["p95"] >= doc["latency_ms"]["p50"]
    assert {i["intent"] for i in doc["intents"]} >= {"GREETING", "WEATHER", "EMAIL"}


def test_own_gold_set_and_concurrency_one(sim, tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "Hej Alice!", "intent": "GREETING"}\n\n'
                    '{"text": "Spela lite jazz", "intent": "music"}\n')
    code, doc, _ = bench(capsys, write_config(tmp_path, sim.urls["backend"]),
                         "--gold-set", str(gold), "--concurrency", "1")
    assert (code, doc["total"], doc["correct"], doc["accuracy_percent"]) == (0, 2, 2, 100.0)


def test_bad_gold_line_is_one_error_naming_file_and_line(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"text": "Hej", "intent": "GREETING"}\n{"text": "Hej"}\n')
    code = main(["nlu-bench", "--config", str(write_config(tmp_path, "http://127.0.0.1:9")),
                 "--gold-set", str(gold)])
    out = capsys.readouterr()
    assert code in (2, 3)  # main()'s failure code for a command that cannot run
    assert out.out == ""
    assert out.err.strip().splitlines() == [
        f"alice-ops: nlu-bench: {gold}:2: 'intent' is missing (or expect_any_of, or a kind "
        "for an item that expects no intent)"]


def test_missing_gold_set(tmp_path, capsys):
    code = main(["nlu-bench", "-c", str(write_config(tmp_path, "http://127.0.0.1:9")),
                 "--gold-set", str(tmp_path / "nope.jsonl")])
    assert code != 0 and "gold set not found" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_backend_is_unknown(tmp_path, capsys):
    path = write_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    code, doc, _ = bench(capsys, path)
    assert (code, doc["status"], doc["accuracy_percent"]) == (3, "unknown", None)
    assert doc["failed"] == doc["total"]
    assert doc["errors"] == [{"reason": "connection refused or host unreachable",
                              "count": doc["total"]}]


def test_human_output_fits_80_columns(sim, tmp_path):
    path = write_config(tmp_path, sim.urls["backend"])
    proc = subprocess.run([sys.executable, "-m", "agent.cli.main", "nlu-bench", "-c", str(path)],
                          capture_output=True, text=True, timeout=60,
                          env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("NLU accuracy ") and "OK" in lines[0]
    assert max(len(line) for line in lines) <= 80
    assert "top confusions" in proc.stdout


def test_demo_accuracy_drop_is_critical(capsys):
    code = main(["nlu-bench", "--demo", "--scenario", "accuracy-drop", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert (code, doc["status"]) == (2, "critical") and doc["accuracy_percent"] < 85
