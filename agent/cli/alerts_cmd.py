"""`alice-ops alerts list|silence|ack|unsilence`: read and mute alerts in the agent's store.

Works on the SQLite state file directly (WAL lets the CLI and a running agent share
it); a running agent picks up new silences and acks within a second.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    match = DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (use e.g. 30m, 2h, 1d)")
    return float(match.group(1)) * UNIT_S[match.group(2)]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("alerts", help="list alerts; silence, acknowledge, unsilence")
    p.add_argument("--data", metavar="FILE", help="state file (default: agent.data_path, XDG)")
    asub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = asub.add_parser("list", help="alerts (pending, firing, recently resolved) and silences")
    ls.add_argument("--all", action="store_true", help="include inactive alerts")
    ls.set_defaults(func=list_alerts)
    si = asub.add_parser("silence", help="mute notifications for alerts matching label matchers")
    si.add_argument("matchers",
                    help='e.g. "component=openai" or "alertname=~openai_.*,severity=warning"')
    si.add_argument("--duration", "-d", type=parse_duration, required=True, help="e.g. 2h")
    si.add_argument("--comment", "-m", required=True, help="why (required)")
    si.add_argument("--by", default=None, help="who (default: $USER)")
    si.set_defaults(func=silence)
    un = asub.add_parser("unsilence", help="end a silence now")
    un.add_argument("id", help="silence id (alice-ops alerts list)")
    un.add_argument("--by", default=None, help="who (default: $USER)")
    un.set_defaults(func=unsilence)
    ack = asub.add_parser("ack", help="acknowledge a firing alert: no reminders until it expires")
    ack.add_argument("alert", help="alert name, e.g. openai_health")
    ack.add_argument("--comment", "-m", required=True,
                     help="what is being done about it (required; shown with the alert)")
    ack.add_argument("--duration", "-d", type=parse_duration, default=parse_duration("24h"),
                     help="how long the ack holds, e.g. 30m, 2h (default: 24h)")
    ack.add_argument("--by", default=None, help="who (default: $USER)")
    ack.set_defaults(func=acknowledge)


def _store(args: argparse.Namespace):
    from agent.cli.main import UsageError
    from agent.config import ConfigError, Config, find_config, load_config
    from agent.store import Store, StoreError, state_path

    if args.data:
        path = Path(args.data)
    else:
        try:
            config = load_config(find_config(args.config))
        except ConfigError:
            if args.config:
                raise
            config = Config()
        path = state_path(config)
    if not path.exists():
        raise UsageError(f"alerts: no agent state at {path} (has alice-agent run? pass --data)")
    try:
        return Store.open(path)
    except StoreError as exc:
        raise UsageError(f"alerts: {exc}") from None


def _who(args: argparse.Namespace) -> str:
    import getpass

    return args.by or getpass.getuser()


def list_alerts(args: argparse.Namespace) -> int:
    from agent.cli.output import console, print_json
    from agent.silences import silence_from_row, silence_json
    from agent.snapshot import iso
    from alerts.codec import state_from_dict
    from alerts.silence import is_acked, is_silenced
    from agent.silences import ack_from_row

    now = time.time()
    with _store(args) as store:
        rows = store.load_alert_states()
        silences = [silence_from_row(r) for r in store.silences(now)]
        acks = [ack_from_row(a) for a in store.acks(now)]
    alerts = []
    for fp, row in rows.items():
        state = state_from_dict(row.state["state"])
        if state.phase.value == "inactive" and not args.all:
            continue
        labels = {"alertname": row.rule, **row.labels, "severity": state.severity or "warning"}
        muted = is_silenced(labels, silences, now)
        acked = is_acked(fp, acks, now)
        alerts.append({"name": row.rule, "fingerprint": fp, "state": state.phase.value,
                       "severity": row.state.get("severity_now") or state.severity,
                       "since": iso(state.active_since or state.since),
                       "started_at": state.active_since or state.since,
                       "value": state.value, "labels": dict(row.labels),
                       "cause": row.state.get("cause") or "",
                       "inhibited_by": row.state.get("inhibited_by"),
                       "silenced_by": muted.id if muted else None,
                       "acked": acked.comment if acked else None})
    from alerts.inhibit import display_order

    # firing first, by severity then age; an inhibited alert right under its cause
    alerts = [alerts[i] for i in display_order(alerts)]
    for a in alerts:
        del a["started_at"]
    if args.json:
        print_json({"alerts": alerts, "silences": [silence_json(s) for s in silences]})
        return 0
    from rich.table import Table

    out = console()
    table = Table(title="Alerts", title_justify="left")
    for col in ("alert", "state", "severity", "cause", "since", "notes"):
        table.add_column(col, overflow="fold")
    for a in alerts:
        notes = ", ".join(x for x in (f"under {a['inhibited_by']}" if a["inhibited_by"] else "",
                                      f"silenced {a['silenced_by']}" if a["silenced_by"] else "",
                                      f"acked: {a['acked']}" if a["acked"] else "") if x)
        name = f"  {a['name']}" if a["inhibited_by"] else a["name"]
        table.add_row(name, a["state"], a["severity"] or "-", a["cause"] or "-",
                      a["since"] or "-", notes)
    out.print(table if alerts else "no alerts")
    for s in silences:
        out.print(f"silence {s.id}: {', '.join(map(str, s.matchers))} until "
                  f"{iso(s.ends_at)} by {s.created_by}: {s.comment}")
    return 0


def silence(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.cli.output import print_json
    from agent.silences import new_silence, silence_json
    from agent.store import AuditRecord

    now = time.time()
    try:
        made, row = new_silence(args.matchers, args.duration, args.comment, _who(args), now)
    except ValueError as exc:
        raise UsageError(f"alerts silence: {exc}") from None
    with _store(args) as store:
        store.add_silence(row, AuditRecord(now, row.created_by, "silence.add", row.id, "ok",
                                           {"matchers": row.matchers, "ends_at": row.ends_at,
                                            "comment": row.comment}))
    if args.json:
        print_json(silence_json(made))
    else:
        print(f"silence {made.id} until {silence_json(made)['ends_at']}")
    return 0


def unsilence(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.store import AuditRecord

    now = time.time()
    with _store(args) as store:
        done = store.expire_silence(args.id, now, AuditRecord(now, _who(args), "silence.expire",
                                                              args.id, "ok", {}))
    if not done:
        raise UsageError(f"alerts unsilence: no active silence {args.id}")
    print(f"silence {args.id} expired")
    return 0


def acknowledge(args: argparse.Namespace) -> int:
    from agent.cli.main import UsageError
    from agent.store import AuditRecord

    now = time.time()
    with _store(args) as store:
        match = [fp for fp, row in store.load_alert_states().items() if row.rule == args.alert]
        if not match:
            raise UsageError(f"alerts ack: no alert named {args.alert!r} in the agent's state")
        store.add_ack(match[0], args.comment, now + args.duration, _who(args), now,
                      AuditRecord(now, _who(args), "ack.add", args.alert, "ok",
                                  {"comment": args.comment}))
    print(f"acknowledged {args.alert}")
    return 0
