"""Remediation playbooks: the guide's runbooks as declarative data (the "plan" step's input).

A playbook names its trigger (alert names, state, severities), its steps, cooldown,
limit, and revert steps. The defaults ship in `rules/defaults/playbooks.yaml`
(grounded in the guide's Emergency Procedures, Troubleshooting Guide and
cost_controls.yml); a YAML file of the same shape (`remediation.playbooks_file`) adds
playbooks or replaces those with the same name.

Strings in steps may hold placeholders, expanded from the config only (never from
probe data) by `agent.remediation.render`: `{backend}` `{gateway}` `{ollama}` `{openai}`
`{prometheus}` (target URLs), `{model}` (the Ollama model), `{env_file}`,
`{compose.NAME}` (compose files), `{service.NAME}` (compose service names) and
`{secret.NAME}` (`remediation.secrets`; always shown as `<redacted>`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Seconds = Annotated[float, Field(gt=0, le=86400)]
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?:\.([A-Za-z0-9_-]+))?\}")
PLACEHOLDER_ROOTS = frozenset({"backend", "gateway", "ollama", "openai", "prometheus", "model",
                               "env_file", "compose", "service", "secret"})


class PlaybookError(ValueError):
    """A playbook file that cannot be used; one line per problem, naming file and key path."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Step(_Model):
    title: str = ""
    timeout_s: Seconds | None = None
    """Per-step timeout; default `remediation.step_timeout_s` (30 s)."""
    optional: bool = False
    """A failure is recorded and the playbook goes on (diagnostics)."""


class HttpStep(_Step):
    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = {}
    expect_status: tuple[int, ...] = (200,)

    @field_validator("expect_status", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, int) else v


class EnvStep(_Step):
    type: Literal["env"]
    file: str = "{env_file}"
    set: dict[str, str]

    @field_validator("set", mode="before")
    @classmethod
    def _strings(cls, v: Any) -> Any:
        if isinstance(v, dict):  # YAML reads 0.1 and false as numbers/bools; .env wants text
            return {k: (str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()}
        return v


class ComposeStep(_Step):
    type: Literal["compose"]
    action: Literal["restart", "up"]
    service: str
    file: str | None = None


class WaitHealthyStep(_Step):
    type: Literal["wait_healthy"]
    component: str
    """A configured component (openai, ollama, gateway, backend, prometheus) or `all`
    (every configured one: the full `check`)."""
    interval_s: Annotated[float, Field(gt=0, le=600)] = 2.0
    timeout_s: Seconds | None = 120.0


class NotifyStep(_Step):
    type: Literal["notify"]
    message: str
    severity: Literal["info", "warning", "critical"] = "warning"


class CommandStep(_Step):
    type: Literal["command"]
    command: str
    """Name of an argv in `remediation.commands` (the allow-list); nothing else runs."""


Step = Annotated[HttpStep | EnvStep | ComposeStep | WaitHealthyStep | NotifyStep | CommandStep,
                 Field(discriminator="type")]


class Trigger(_Model):
    alerts: tuple[str, ...] = ()
    """Alert names; empty means the playbook only runs by hand."""
    state: Literal["firing"] = "firing"
    severity: tuple[Literal["warning", "critical"], ...] = ("warning", "critical")


class Playbook(_Model):
    name: Name
    title: str
    guide: str = ""
    """The section of the operations guide it comes from."""
    target: str
    """What it acts on; the run limit counts runs of every playbook with this target."""
    trigger: Trigger = Trigger()
    steps: tuple[Step, ...]
    revert: tuple[Step, ...] = ()
    """Run when a step fails, and (with revert_on_resolve) when the trigger resolves."""
    revert_on_resolve: bool = False
    cooldown_s: Seconds | None = None
    """First backoff after a run (doubles per run while the trigger keeps firing)."""
    limit: Annotated[int, Field(ge=1, le=100)] | None = None
    conflicts_with: tuple[Name, ...] = ()
    """Playbooks that undo what this one does (route local vs route to the cloud): the
    two never both run; `precedence` says which one goes while both are triggered."""
    precedence: Annotated[int, Field(ge=0, le=1000)] = 0
    """Higher wins a conflict (a tie: the one listed first)."""


class PlaybookFile(_Model):
    playbooks: tuple[Playbook, ...]


def _placeholders(value: Any) -> list[str]:
    if isinstance(value, str):
        return [m.group(1) for m in PLACEHOLDER.finditer(value)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _placeholders(k) + _placeholders(v)]
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _placeholders(v)]
    return []


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_playbooks(text: str, source: str) -> tuple[Playbook, ...]:
    """Validate playbook YAML; PlaybookError lists every problem (file: key path: why)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise PlaybookError(f"{where}: YAML syntax error: "
                            f"{getattr(exc, 'problem', None) or exc}") from None
    try:
        parsed = PlaybookFile.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_key_path(tuple(e['loc']))}: "
                 f"{'unknown key' if e['type'] == 'extra_forbidden' else e['msg']}"
                 for e in exc.errors()]
        raise PlaybookError("\n".join(lines)) from None
    problems, seen = [], set()
    for i, pb in enumerate(parsed.playbooks):
        if pb.name in seen:
            problems.append(f"{source}: playbooks[{i}].name: {pb.name!r} is used twice")
        seen.add(pb.name)
        for root in _placeholders(pb.model_dump()):
            if root not in PLACEHOLDER_ROOTS:
                problems.append(f"{source}: playbooks[{i}] ({pb.name}): unknown placeholder "
                                f"{{{root}}}")
    if problems:
        raise PlaybookError("\n".join(problems))
    return parsed.playbooks


@lru_cache(maxsize=1)
def default_playbooks() -> tuple[Playbook, ...]:
    text = resources.files("rules").joinpath("defaults/playbooks.yaml").read_text("utf-8")
    return parse_playbooks(text, "rules/defaults/playbooks.yaml")


def merge_playbooks(base: tuple[Playbook, ...], extra: tuple[Playbook, ...]
                    ) -> tuple[Playbook, ...]:
    """`extra` replaces playbooks of the same name and adds the others, in order."""
    by_name = {p.name: p for p in extra}
    merged = tuple(by_name.pop(p.name, p) for p in base)
    return merged + tuple(by_name.values())
