"""Remediation: the guide's runbooks as playbooks, executed at the "act" step of a cycle."""
