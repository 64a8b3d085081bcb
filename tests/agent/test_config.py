"""Config loading: the contract's keys, interpolation, and one clear line per problem."""

from pathlib import Path

import pytest

from agent.cli.config_cmd import default_text
from agent.config import ConfigError, find_config, interpolate, load_config, parse_config

GOOD = """
targets:
  openai: {base_url: "http://127.0.0.1:9/v1", api_key: "${OPENAI_API_KEY}"}
  ollama: {url: "http://127.0.0.1:11434", model: "gpt-oss:20b"}
  endpoints:
    - {name: calendar, url: "https://cal.example/health", latency_target_ms: 200}
"""


def problems(text: str, env=None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "alice.yaml", env or {})
    return err.value.problems


def test_good_config_parses_and_keeps_the_key_secret():
    config = parse_config(GOOD, "alice.yaml", {"OPENAI_API_KEY": "sk-test-123456789"})
    assert config.targets.openai.api_key.get_secret_value() == "sk-test-123456789"
    assert "sk-test" not in repr(config) and "sk-test" not in str(config.model_dump())
    assert config.targets.gateway is None  # left out: not probed
    assert config.targets.endpoints[0].expect_status == 200


def test_shipped_default_is_valid():
    config = parse_config(default_text(), "default.yaml", {"OPENAI_API_KEY": "sk-x"})
    assert config.targets.ollama.model == "gpt-oss:20b"


@pytest.mark.parametrize("text, expected", [
    ("", "alice.yaml: the file is empty"),
    ("   \n# only a comment\n", "alice.yaml: the file is empty"),
    ("targets: [\n", "alice.yaml:2:1: YAML syntax error"),
    ("- a\n- b\n", "top level must be a mapping"),
    ("targets:\n  bogus: {}\n", "alice.yaml:2: targets.bogus: unknown key"),
    ("targets:\n  backend: {url: 'ftp://x'}\n",
     "alice.yaml:2: targets.backend.url: not an http(s) URL"),
    ("targets:\n  backend: {url: 'localhost:8000'}\n", "targets.backend.url: not an http(s) URL"),
    ("targets:\n  backend:\n    timeout_ms: soon\n", "alice.yaml:3: targets.backend.timeout_ms: "),
    ("targets:\n  backend:\n    timeout_ms: -5\n",
     "targets.backend.timeout_ms: Input should be greater than 0"),
    ("targets:\n  host: {gpu: maybe}\n",
     "targets.host.gpu: Input should be 'auto', 'required' or 'off'"),
    ("targets:\n  openai: {}\n", "alice.yaml:2: targets.openai.api_key: required key is missing"),
    ("targets:\n  openai: {api_key: '${MISSING_KEY}'}\n",
     "targets.openai.api_key: environment variable MISSING_KEY is not set"),
    ("targets:\n  endpoints:\n    - {name: a, url: 'http://x'}\n    - {name: a, url: 'http://y'}\n",
     "targets.endpoints: Value error, endpoint name 'a' is used twice"),
    ("targets:\n  endpoints:\n    - {name: openai, url: 'http://x'}\n", "built-in component name"),
])
def test_each_problem_is_one_line_naming_file_key_and_why(text, expected):
    found = problems(text)
    assert any(expected.replace("Value error, ", "") in p for p in found), found
    assert all("\n" not in p and "Traceback" not in p for p in found)


def test_every_problem_is_reported_together():
    found = problems("targets:\n  backend: {url: 'nope'}\n  gateway: {timeout_ms: x}\n  zzz: 1\n")
    assert len(found) == 3
    assert [p.split(":")[1] for p in found] == ["2", "3", "4"]


def test_interpolation_default_and_escape():
    env = {"A": "1"}
    assert interpolate({"x": "${A}-${B:-two}-$${A}"}, env) == {"x": "1-two-${A}"}


def test_missing_file_and_directory(tmp_path: Path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_discovery_order(tmp_path: Path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert find_config(None, env) == tmp_path / "alice-ops" / "alice-ops.yaml"
    env["ALICE_OPS_CONFIG"] = "/etc/alice.yaml"
    assert str(find_config(None, env)) == "/etc/alice.yaml"
    assert str(find_config("x.yaml", env)) == "x.yaml"


def test_a_bad_secret_value_is_never_echoed():
    found = problems("agent:\n  token: 12345678901234\n")
    assert found == ["alice.yaml:2: agent.token: Input should be a valid string"]
