"""What the agent's controllers (checklists, remediation) may use of the runtime.

`agent.runtime.Runtime` owns the cycle: the one transition step, the alert states, the
notification ledger and the one commit per cycle. A controller gets a `CyclePort`
(never the runtime itself) and through it:

- reads the clock, the store (on the store's own thread) and the latest probe results;
- submits `Finding`s for the alerts it raises (`checklist_overdue`,
  `remediation_gave_up`): the runtime's step transitions them with the metric and cost
  alerts, plans their notices and commits them with the cycle, so a controller never
  calls `alerts.lifecycle.transition` itself;
- reads the committed state of its alerts (`alert_state`) for its views;
- defers writes of its own (keyed, the latest wins) with a `then` that makes them
  visible in memory only once they are committed (copy-on-write, see agent.runtime).

tests/agent_runtime/test_runtime_port.py fails when any module but agent/runtime.py
reaches into the runtime's underscore attributes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from alerts.lifecycle import AlertState
from alerts.rule import AlertRule
from vocab.model import ProbeResult, Status


@dataclass(frozen=True)
class Finding:
    """One evaluation of an alert a controller raises, for the runtime's step.

    `what` is the summary line (the event kind is appended, as for every alert);
    `at` is when it was seen. An OK finding for an alert that has no state yet
    creates none: such alerts exist once they breached (as before the port).
    """

    rule: AlertRule
    status: Status
    value: float | None
    what: str
    at: float
    cause: str = ""


class CyclePort(Protocol):
    """The runtime as a controller sees it (implemented in agent/runtime.py)."""

    @property
    def store(self) -> Any: ...

    @property
    def transport(self) -> Any: ...

    @property
    def results(self) -> Mapping[str, ProbeResult]: ...

    @property
    def rows(self) -> list: ...

    @property
    def jobs(self) -> Mapping[str, Any]: ...

    def now(self) -> float: ...

    def io(self, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        """`fn(*args)` on the store's thread."""
        ...

    def db(self, fn: Callable[..., Any], *args: Any) -> Awaitable[Any]:
        """`fn(store, *args)` on the store's thread."""
        ...

    def publish(self, now: float | None = None) -> None: ...

    def receivers(self) -> list[str]:
        """Names of the notifiers that get the outbox's notices."""
        ...

    def submit(self, finding: Finding) -> None:
        """Hand an evaluation to the next job's transition step."""
        ...

    def alert_state(self, rule: AlertRule) -> AlertState | None:
        """The committed state of a submitted alert (what the snapshot shows)."""
        ...

    def alert_states(self) -> Mapping[str, AlertState]:
        """The metric and cost alerts as decided (committed or pending): planning input."""
        ...

    def inhibitions(self) -> Mapping[str, str]:
        """Alerts held by a breaching dependency, as decided: they trigger nothing."""
        ...

    @property
    def dependency_graph(self) -> Any: ...

    @property
    def dependency_labels(self) -> Mapping[str, Any]: ...

    def defer(self, key: str, write: Callable[[Any], None],
              then: Callable[[], None] | None = None) -> None:
        """`write(conn)` inside the next commit; `then()` once it committed."""
        ...

    def defer_outbox(self, items: list, audit: list = ...) -> None: ...

    def commit(self, now: float) -> Awaitable[bool]: ...


__all__ = ["CyclePort", "Finding"]
