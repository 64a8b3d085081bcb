"""Child process for the store's crash test: commit cycles until killed.

Usage: python store_crash_child.py STATE_DB
Prints each cycle number on its own line only after `commit_cycle` returned.
"""

import sys

from agent.store import AuditRecord, OutboxItem, Store


def main(path: str) -> None:
    with Store.open(path) as store:
        saved = store.load_alert_states().get("fp-crash")
        cycle = saved.state["cycle"] if saved else 0  # carry on after the last kill
        while True:
            cycle += 1
            now = 1_000_000.0 + cycle
            store.commit_cycle(
                now,
                samples=[(now, "ollama", "latency_ms", float(cycle), 0)],
                states=[("fp-crash", "ollama_latency", {"component": "ollama"},
                         {"phase": "firing", "cycle": cycle})],
                outbox=[OutboxItem(f"fp-crash:{cycle}", "log", "fp-crash", "firing",
                                   {"cycle": cycle})],
                audit=[AuditRecord(now, "agent", "cycle", "fp-crash", "ok", {"cycle": cycle})],
            )
            sys.stdout.write(f"{cycle}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
