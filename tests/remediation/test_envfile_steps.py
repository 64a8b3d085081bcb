"""The .env writer and the argv runner shared by remediation and rotate-key."""

from __future__ import annotations

import os
import stat
import sys
import time

import pytest

from agent.remediation.envfile import (
    REDACTED,
    EnvFileError,
    apply_env,
    parse_env,
    plan_env,
    read_env,
)
from agent.remediation.steps import StepError, compose_argv, run_argv

KEY = "sk-proj-abcdefghijklmnop1234567890"


def test_apply_keeps_comments_order_and_backup(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# Alice\nFAST_PATH_ENABLED=true\nexport OPENAI_API_KEY=old\n\nX='a b'\n")
    env.chmod(0o644)
    result = apply_env(env, {"FAST_PATH_ENABLED": "false", "NEW": "two words"}, now=1000.0)
    text = env.read_text()
    assert text == ('# Alice\nFAST_PATH_ENABLED=false\nexport OPENAI_API_KEY=old\n\n'
                    "X='a b'\nNEW=\"two words\"\n")
    assert read_env(env) == {"FAST_PATH_ENABLED": "false", "OPENAI_API_KEY": "old",
                             "X": "a b", "NEW": "two words"}
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert result.backup and os.path.basename(result.backup).startswith(".env.bak-")
    backup = tmp_path / os.path.basename(result.backup)
    assert "FAST_PATH_ENABLED=true" in backup.read_text()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert [c.to_json() for c in result.diff] == [
        {"key": "FAST_PATH_ENABLED", "before": "true", "after": "false"},
        {"key": "NEW", "before": None, "after": "two words"}]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_secrets_are_redacted_in_the_diff(tmp_path):
    env = tmp_path / ".env"
    env.write_text(f"OPENAI_API_KEY={KEY}\nDB_PASSWORD=hunter22\n")
    plan = plan_env(env, {"OPENAI_API_KEY": "sk-new-0123456789abcdef", "DB_PASSWORD": "x2",
                          "NOTE": KEY, "MODE": "local_only"})
    shown = str(plan.to_json())
    assert KEY not in shown and "hunter22" not in shown and "sk-new" not in shown
    assert {c.key: (c.before, c.after) for c in plan.diff} == {
        "OPENAI_API_KEY": (REDACTED, REDACTED), "DB_PASSWORD": (REDACTED, REDACTED),
        "NOTE": (None, REDACTED), "MODE": (None, "local_only")}
    assert env.read_text() == f"OPENAI_API_KEY={KEY}\nDB_PASSWORD=hunter22\n"  # plan wrote nothing


def test_no_change_writes_nothing_and_missing_file_is_created(tmp_path):
    env = tmp_path / ".env"
    first = apply_env(env, {"A": "1"}, now=1.0)
    assert first.backup is None and env.read_text() == "A=1\n"
    again = apply_env(env, {"A": "1"}, now=2.0)
    assert again.diff == () and again.backup is None
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("changes", [{"BAD KEY": "1"}, {"A": "two\nlines"}, {"1A": "x"}])
def test_bad_changes_are_refused_naming_the_file(tmp_path, changes):
    with pytest.raises(EnvFileError, match=str(tmp_path)):
        apply_env(tmp_path / ".env", changes, now=1.0)


def test_parse_quotes_and_comments():
    assert parse_env('A="x \\"y\\""\nB=plain # note\n#C=1\nD=\'q\'\n') == {
        "A": 'x "y"', "B": "plain", "D": "q"}


def test_compose_argv_is_exact():
    assert compose_argv("restart", "alice-voice-gateway") == [
        "docker", "compose", "restart", "alice-voice-gateway"]
    assert compose_argv("up", "local-ai", file="docker-compose.local-only.yml") == [
        "docker", "compose", "-f", "docker-compose.local-only.yml", "up", "-d", "--no-deps",
        "local-ai"]
    for bad in ("", "-f", "a b", "x;rm"):
        with pytest.raises(StepError):
            compose_argv("restart", bad)
    with pytest.raises(StepError):
        compose_argv("down", "x")  # type: ignore[arg-type]


def test_run_argv_ok_failure_missing_and_timeout(tmp_path):
    ok = run_argv([sys.executable, "-c", "print('hi')"], timeout_s=10)
    assert ok.ok and ok.stdout == "hi\n"
    bad = run_argv([sys.executable, "-c", "import sys; sys.exit(3)"], timeout_s=10)
    assert not bad.ok and bad.returncode == 3
    missing = run_argv([str(tmp_path / "nope")], timeout_s=10)
    assert not missing.ok and "cannot run" in missing.error
    started = time.monotonic()
    hung = run_argv([sys.executable, "-c", "import time; time.sleep(60)"], timeout_s=0.5)
    assert hung.timed_out and not hung.ok and time.monotonic() - started < 5
    with pytest.raises(StepError):
        run_argv([], timeout_s=1)
