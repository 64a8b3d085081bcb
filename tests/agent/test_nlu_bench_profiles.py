"""nlu-bench against both simulator profiles with a gold set in each format (JSONL with
intent / expect_any_of / kind-only items, a JSON array, Alice's {"cases": [...]}), an alias
map, and null answers ("no intent" is an answer, never a failure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.cli.main import main
from simulator.nlu import classify
from simulator.server import run_in_thread

DATA = Path(__file__).resolve().parent.parent / "data" / "alice_main"
# Alice's own TOOL_MAP (alice-tools/src/router/router.ts): lexicon intent -> tool name
TOOL_MAP = {"VOL_UP": "SET_VOLUME", "VOL_DOWN": "SET_VOLUME", "SET_VOL": "SET_VOLUME",
            "SET_VOL_MAX": "SET_VOLUME", "SET_VOL_MIN": "SET_VOLUME",
            "VOL_UP_SHORT": "SET_VOLUME", "VOL_DOWN_SHORT": "SET_VOLUME",
            "SEEK_FWD": "SEEK", "SEEK_BACK": "SEEK", "SEEK_TO": "SEEK"}


def bench(capsys, config: Path, gold: Path):
    code = main(["nlu-bench", "-c", str(config), "--gold-set", str(gold), "--json"])
    return code, json.loads(capsys.readouterr().out)


# -- alice-main: Alice's NLU agent, replayed from its recorded answers -------------------

@pytest.fixture(scope="module")
def alice():
    with run_in_thread(profile="alice-main") as sim:
        yield sim


def alice_config(tmp_path, sim, aliases=TOOL_MAP) -> Path:
    path = tmp_path / "alice-ops.yaml"
    path.write_text(f"""
targets:
  backend: {{url: "{sim.urls['backend']}"}}
  nlu:
    url: "{sim.urls['nlu']}"
    path: /nlu/classify
    intent_path: intent
    confidence_path: score
    latency_path: null
    aliases: {json.dumps(aliases)}
""")
    return path


def recorded_answers() -> dict[str, str | None]:
    """What the real NLU agent answered per text (the oracle), straight from the recording."""
    doc = json.loads((DATA / "nlu_agent.json").read_text(encoding="utf-8"))
    return {e["request_body"]["text"]: e["body_json"]["intent"] for e in doc["exchanges"]
            if e["path"] == "/nlu/classify" and e["status"] == 200}


def expected(items: list[dict], aliases: dict) -> tuple[int, int]:
    """(right, answered "no intent") for Alice's synthetic items under `aliases`."""
    answers = recorded_answers()
    right = nulls = 0
    for item in items:
        raw = answers[item["text"]]
        nulls += raw is None
        got = None if raw is None else aliases.get(raw, raw)
        right += got in item.get("expect_any_of", [None])  # kind-only items: no intent
    return right, nulls


def synthetic() -> list[dict]:
    lines = (DATA / "gold" / "synthetic.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_alices_synthetic_jsonl_with_her_alias_map(alice, tmp_path, capsys):
    items = synthetic()
    code, doc = bench(capsys, alice_config(tmp_path, alice), DATA / "gold" / "synthetic.jsonl")
    right, nulls = expected(items, TOOL_MAP)
    assert nulls > 0 and doc["failed"] == 0  # null answers are answers
    assert (doc["correct"], doc["total"]) == (right, len(items))
    assert doc["accuracy_percent"] == pytest.approx(100 * right / len(items), abs=0.01)
    no_intent = next(s for s in doc["intents"] if s["intent"] == "(none)")
    assert no_intent["predicted"] == nulls
    kinds = {k["kind"]: k for k in doc["kinds"]}
    assert set(kinds) == {"tool_required", "chat_only", "missing_params"}
    assert sum(k["total"] for k in kinds.values()) == len(items)
    assert sum(k["correct"] for k in kinds.values()) == right
    assert code == {"ok": 0, "warning": 1, "critical": 2}[doc["status"]]
    mapped = {lab["label"] for lab in doc["unmatched_labels"]}
    assert not mapped & set(TOOL_MAP)  # every lexicon name was mapped to a tool


def test_without_the_alias_map_the_lexicon_names_are_listed(alice, tmp_path, capsys):
    items = synthetic()
    _, with_map = bench(capsys, alice_config(tmp_path, alice), DATA / "gold" / "synthetic.jsonl")
    _, bare = bench(capsys, alice_config(tmp_path, alice, aliases={}),
                    DATA / "gold" / "synthetic.jsonl")
    assert bare["correct"] == expected(items, {})[0] < with_map["correct"]
    assert {"SET_VOL", "VOL_UP"} <= {lab["label"] for lab in bare["unmatched_labels"]}


def test_the_same_gold_set_as_a_json_array(alice, tmp_path, capsys):
    items = synthetic()
    array = tmp_path / "synthetic.json"
    array.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    _, jsonl = bench(capsys, alice_config(tmp_path, alice), DATA / "gold" / "synthetic.jsonl")
    _, doc = bench(capsys, alice_config(tmp_path, alice), array)
    assert (doc["correct"], doc["total"], doc["kinds"]) == (jsonl["correct"], jsonl["total"],
                                                            jsonl["kinds"])


def test_alices_intent_cases_object(alice, tmp_path, capsys):
    cases = json.loads((DATA / "gold" / "intent_cases.json").read_text("utf-8"))["cases"]
    answers = recorded_answers()
    right = sum(TOOL_MAP.get(answers[c["text"]], answers[c["text"]]) == c["expect"]["tool"]
                for c in cases)
    code, doc = bench(capsys, alice_config(tmp_path, alice), DATA / "gold" / "intent_cases.json")
    assert (doc["correct"], doc["total"], doc["failed"]) == (right, len(cases), 0)
    assert {s["intent"] for s in doc["intents"]} >= {c["expect"]["tool"] for c in cases}


def test_a_bad_item_in_an_array_names_its_line(tmp_path, capsys, alice):
    gold = tmp_path / "g.json"
    gold.write_text('[\n  {"text": "spela upp", "intent": "PLAY"},\n'
                    '  {"text": "pausa", "expect_any_of": []}\n]\n')
    code = main(["nlu-bench", "-c", str(alice_config(tmp_path, alice)), "--gold-set",
                 str(gold)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and err == [f"alice-ops: nlu-bench: {gold}:3: 'expect_any_of' must be a "
                                 "non-empty list of labels (null: no intent)"]


# -- guide: the idealised backend's /api/nlu/classify --------------------------------------

@pytest.fixture(scope="module")
def guide():
    with run_in_thread(seed=7) as sim:
        yield sim


GUIDE_GOLD = [  # texts the guide's classifier knows, and ones it has no keyword for
    {"text": "Spela lite jazz", "intent": "PLAY", "kind": "media"},
    {"text": "Pausa musiken", "expect_any_of": ["PAUSE", "PLAY"], "kind": "media"},
    {"text": "Hur blir vädret i Göteborg imorgon?", "intent": "WEATHER", "kind": "fast"},
    {"text": "Hej Alice!", "expect_any_of": ["GREETING", None], "kind": "fast"},
    {"text": "qwzx plorf", "intent": None, "kind": "nonsense"},
    {"text": "blipp blopp", "expect_any_of": [None], "kind": "nonsense"},
    {"text": "Vad är 12 plus 7?", "intent": "SIMPLE_MATH"},
]
GUIDE_ALIASES = {"MUSIC": "PLAY", "COMPLEX_REASONING": None}  # its fallback means "no intent"


def guide_config(tmp_path, sim) -> Path:
    path = tmp_path / "guide.yaml"
    path.write_text(f"""
targets:
  backend: {{url: "{sim.urls['backend']}", timeout_ms: 2000}}
  nlu: {{aliases: {json.dumps(GUIDE_ALIASES)}}}
""")
    return path


def guide_expected() -> int:
    right = 0
    for item in GUIDE_GOLD:
        got = classify(item["text"]).intent
        got = GUIDE_ALIASES.get(got, got)
        right += got in item.get("expect_any_of", [item.get("intent")])
    return right


@pytest.mark.parametrize("shape", ["jsonl", "array", "cases"])
def test_guide_gold_in_each_format_with_aliases_and_nulls(guide, tmp_path, capsys, shape):
    gold = tmp_path / f"gold.{shape}"
    if shape == "jsonl":
        gold.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in GUIDE_GOLD))
    elif shape == "array":
        gold.write_text(json.dumps(GUIDE_GOLD, ensure_ascii=False, indent=2))
    else:
        gold.write_text(json.dumps({"cases": GUIDE_GOLD}, ensure_ascii=False))
    code, doc = bench(capsys, guide_config(tmp_path, guide), gold)
    right = guide_expected()
    assert right >= 5  # the oracle itself: the aliases and nulls are what makes these right
    assert (doc["correct"], doc["total"], doc["failed"]) == (right, len(GUIDE_GOLD), 0)
    kinds = {k["kind"]: k for k in doc["kinds"]}
    assert set(kinds) == {"media", "fast", "nonsense", "-"}
    assert kinds["nonsense"]["correct"] == 2  # both answered COMPLEX_REASONING -> no intent
    assert {s["intent"] for s in doc["intents"]} >= {"PLAY", "(none)"}
    assert "MUSIC" not in {lab["label"] for lab in doc["unmatched_labels"]}


def test_demo_on_the_alice_main_profile(capsys):
    """`--demo --profile alice-main`: Alice's own gold set against her replayed NLU agent,
    judged with whatever aliases the demo's fitted config carries."""
    from agent.demo import demo_config

    urls = {k: "http://127.0.0.1:9" for k in ("backend", "nlu", "ollama", "openai",
                                                "prometheus")}
    aliases = dict(demo_config(urls, profile="alice-main").targets.nlu.aliases)
    assert aliases["VOL_UP"] == "SET_VOLUME"  # Alice's TOOL_MAP, as docs/nlu-bench.md has it
    code = main(["nlu-bench", "--demo", "--profile", "alice-main", "--json"])
    doc = json.loads(capsys.readouterr().out)
    items = synthetic()
    assert (doc["total"], doc["failed"]) == (len(items), 0)
    assert doc["correct"] == expected(items, {k.upper(): v for k, v in aliases.items()})[0]
    assert {k["kind"] for k in doc["kinds"]} == {"tool_required", "chat_only", "missing_params"}
    assert doc["correct"] == 42  # as the real NLU agent scored (docs/nlu-bench.md)
    assert code == {"ok": 0, "warning": 1, "critical": 2}[doc["status"]]
