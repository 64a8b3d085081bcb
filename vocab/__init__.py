"""The vocabulary every layer shares, at the floor: it imports nothing of the project.

`vocab.model` holds the data that flows through a cycle (`Status`, `Reading`,
`ProbeResult`); `vocab.redact` keeps secrets out of every string that leaves the process.
`rules/`, `alerts/`, `agent/` and `tui/` all build on it, and it on none of them.
"""
