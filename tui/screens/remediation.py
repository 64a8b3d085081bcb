"""Screen 3, Remediation: the guide's runbooks as plans and their audit trail (not built)."""

from tui.screens.not_built import NotBuiltScreen


class RemediationScreen(NotBuiltScreen):
    NAME, TITLE, NUMBER = "remediation", "Remediation", 3
    ISSUE = "remediation"
    WILL_SHOW = ("remediation plans proposed for firing alerts (guide: Troubleshooting, "
                 "Emergency Procedures)",
                 "dry-run / approve / run, with cooldowns",
                 "the audit trail of every action taken")
