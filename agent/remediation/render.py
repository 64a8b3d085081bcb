"""Playbooks in force for a config, and their steps rendered exactly as they would run.

`playbooks_for(config)` merges the shipped defaults with `remediation.playbooks_file`.
`render(playbook, config, reveal)` fills every placeholder from the config only and
returns JSON-ready steps: with `reveal=False` (plans, audit, API) every
`{secret.NAME}` shows as `<redacted>`, and so do secret-looking header values and
`.env` values (see `agent.remediation.envfile.redact_env_value`); the runner alone
renders with `reveal=True`.

A rendered step is a dict: `type`, `title`, `timeout_s`, `optional`, and by type
- http: `method`, `url`, `headers`, `body`, `expect_status`
- env: `file`, `set` (the values to write) -- the plan adds `diff` (before/after)
- compose / command: `argv`
- wait_healthy: `component`, `interval_s`
- notify: `message`, `severity`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.config import Config, RemediationSettings
from vocab.redact import redact
from agent.remediation.envfile import REDACTED, redact_env_value
from agent.remediation.steps import StepError, compose_argv
from rules.playbooks import (
    PLACEHOLDER,
    Playbook,
    PlaybookError,
    default_playbooks,
    merge_playbooks,
    parse_playbooks,
)
from rules.remediation import Policy, Spec

SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "cookie")
_DEFAULTS = RemediationSettings.model_fields  # a partial services/compose_files map adds


class RenderError(ValueError):
    """A step that cannot be rendered (unknown placeholder, command not allowed...)."""


def playbooks_for(config: Config) -> tuple[Playbook, ...]:
    """Defaults plus `remediation.playbooks_file` (PlaybookError names file and key)."""
    path = config.remediation.playbooks_file
    if not path:
        return default_playbooks()
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read playbooks file: "
                            f"{exc.strerror or exc.__class__.__name__}") from None
    return merge_playbooks(default_playbooks(), parse_playbooks(text, path))


def unknown_settings(config: Config, playbooks: tuple[Playbook, ...]) -> list[str]:
    known = {p.name for p in playbooks}
    return [f"remediation.playbooks.{name}: no playbook with this name"
            for name in config.remediation.playbooks if name not in known]


def spec_of(playbook: Playbook, config: Config) -> Spec:
    r = config.remediation
    over = r.playbooks.get(playbook.name)
    policy = Policy(cooldown_s=(over and over.cooldown_s) or playbook.cooldown_s or r.cooldown_s,
                    cooldown_max_s=r.cooldown_max_s, healthy_reset_s=r.healthy_reset_s,
                    limit=(over and over.limit) or playbook.limit or r.limit,
                    window_s=r.window_s)
    return Spec(name=playbook.name, target=playbook.target, alerts=playbook.trigger.alerts,
                severities=playbook.trigger.severity,
                revert_on_resolve=playbook.revert_on_resolve,
                mode=over.mode if over else "off", policy=policy,
                conflicts_with=playbook.conflicts_with, precedence=playbook.precedence)


def secrets_of(config: Config) -> list[str]:
    """Every secret the remediation side knows (to scrub outputs of them)."""
    from agent.check import secrets_of as target_secrets

    return target_secrets(config) + [s.get_secret_value()
                                     for s in config.remediation.secrets.values()]


def _values(config: Config, reveal: bool) -> dict[str, Any]:
    t, r = config.targets, config.remediation
    urls = {name: getattr(t, name).url for name in ("backend", "gateway", "ollama",
                                                   "prometheus") if getattr(t, name)}
    if t.openai:
        urls["openai"] = t.openai.base_url
    env_file = Path(r.compose_dir).expanduser() / Path(r.env_file).expanduser()
    return {**urls, "model": t.ollama.model if t.ollama else None, "env_file": str(env_file),
            "compose": {**_DEFAULTS["compose_files"].default, **r.compose_files},
            "service": {**_DEFAULTS["services"].default, **r.services},
            "secret": {k: (v.get_secret_value() if reveal else REDACTED)
                       for k, v in r.secrets.items()}}


def _expand(value: Any, values: dict[str, Any], where: str) -> Any:
    if isinstance(value, dict):
        return {_expand(k, values, where): _expand(v, values, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_expand(v, values, where) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m) -> str:
        root, key = m.group(1), m.group(2)
        got = values.get(root)
        if isinstance(got, dict):
            got = got.get(key) if key else None
        elif key:
            got = None
        if got is None:
            what = f"{root}.{key}" if key else root
            hint = "targets" if root in ("backend", "gateway", "ollama", "openai", "prometheus",
                                         "model") else "remediation"
            raise RenderError(f"{where}: {{{what}}} is not configured ({hint} in the config)")
        return str(got)

    return PLACEHOLDER.sub(sub, value)


def render(playbook: Playbook, config: Config, *, reveal: bool = False,
           revert: bool = False) -> list[dict[str, Any]]:
    """The steps (or revert steps) of `playbook`, filled from `config`."""
    values = _values(config, reveal)
    r = config.remediation
    out = []
    steps = playbook.revert if revert else playbook.steps
    for i, step in enumerate(steps):
        where = f"playbook {playbook.name}: {'revert' if revert else 'steps'}[{i}]"
        raw = step.model_dump()
        d: dict[str, Any] = {"type": step.type, "title": step.title or _default_title(step),
                             "timeout_s": step.timeout_s or r.step_timeout_s,
                             "optional": step.optional}
        if step.type == "http":
            headers = _expand(raw["headers"], values, where)
            if not reveal:
                headers = {k: (REDACTED if k.lower() in SECRET_HEADERS else redact(v))
                           for k, v in headers.items()}
            d.update(method=step.method, url=_expand(step.url, values, where),
                     headers=headers, body=_expand(raw["body"], values, where),
                     expect_status=list(step.expect_status))
            if not reveal:
                d["url"] = redact(d["url"])
        elif step.type == "env":
            changes = _expand(raw["set"], values, where)
            file = _expand(step.file, values, where)
            d.update(file=file, set=changes if reveal else
                     {k: redact_env_value(k, v) for k, v in changes.items()})
        elif step.type == "compose":
            file = _expand(step.file, values, where) if step.file else None
            try:
                d["argv"] = compose_argv(step.action, _expand(step.service, values, where),
                                         file, docker=r.docker)
            except StepError as exc:
                raise RenderError(f"{where}: {exc}") from None
        elif step.type == "command":
            argv = r.commands.get(step.command)
            if argv is None:
                raise RenderError(f"{where}: command {step.command!r} is not in "
                                  "remediation.commands (the allow-list)")
            d["argv"] = list(argv)
        elif step.type == "wait_healthy":
            d.update(component=step.component, interval_s=step.interval_s)
        elif step.type == "notify":
            d.update(message=_expand(step.message, values, where), severity=step.severity)
        out.append(d)
    return out


def _default_title(step) -> str:
    if step.type == "http":
        return f"{step.method} {step.url}"
    if step.type == "env":
        return f"set {', '.join(step.set)} in {step.file}"
    if step.type == "compose":
        return f"compose {step.action} {step.service}"
    if step.type == "command":
        return f"run {step.command}"
    if step.type == "wait_healthy":
        return f"wait until {step.component} is healthy"
    return f"notify: {step.message}"
