"""alice-tui, the dashboard: shows the agent's immutable snapshots and sends it commands.

Entry point `tui.cli:main`; the app is `tui.app.DashboardApp(source=...)`; where the
snapshots come from is `tui.source` (in-process agent or an attached alice-agent).
"""
