"""The configured receivers, built once at start: `notifiers:` of alice-ops.yaml as notifiers.

Every receiver gets the same `WireOptions`: `agent.external_labels`, the playbooks that
cover each alert (its `runbook`) and `alerts.runbook_base_url` (its `runbook_url`).
"""

from __future__ import annotations

from typing import Any

from agent.config import Config
from alerts.notifiers.wire import WireOptions


def runbooks_by_alert(playbooks: Any) -> dict[str, tuple[str, ...]]:
    """Alert name -> names of the playbooks whose trigger lists it (in playbook order)."""
    out: dict[str, list[str]] = {}
    for pb in playbooks:
        for alert in pb.trigger.alerts:
            out.setdefault(alert, []).append(pb.name)
    return {k: tuple(v) for k, v in out.items()}


def wire_options(config: Config) -> WireOptions:
    """External labels and runbook annotations for this config. A playbooks file that
    cannot be read leaves the defaults' runbooks (remediation reports the file itself)."""
    from agent.remediation.render import playbooks_for
    from rules.playbooks import PlaybookError, default_playbooks

    try:
        playbooks = playbooks_for(config)
    except PlaybookError:
        playbooks = default_playbooks()
    return WireOptions(external_labels=dict(config.agent.external_labels),
                       runbooks=runbooks_by_alert(playbooks),
                       runbook_base_url=config.alerts.runbook_base_url)


def make_notifiers(config: Config) -> list:
    """The log notifier plus every configured receiver, all with the same wire options."""
    from alerts.notifiers import AlertmanagerNotifier, LogNotifier, WebhookNotifier
    from alerts.notifiers.email import EmailNotifier
    from alerts.notifiers.ntfy import NtfyNotifier
    from alerts.notifiers.slack import SlackNotifier

    opts = wire_options(config)
    cfg = config.notifiers
    notifiers: list = [LogNotifier(opts=opts)]
    for hook in cfg.webhooks:
        notifiers.append(WebhookNotifier(hook.name, hook.url, token=hook.bearer_token,
                                         timeout_s=hook.timeout_ms / 1000, opts=opts))
    for am in cfg.alertmanagers:
        notifiers.append(AlertmanagerNotifier(am.name, am.url, timeout_s=am.timeout_ms / 1000,
                                              resend_interval_s=am.resend_interval_s,
                                              watchdog=am.watchdog,
                                              severity_label=am.severity_label, opts=opts))
    for mail in cfg.email:
        notifiers.append(EmailNotifier(mail.name, mail.host, mail.port, mail.sender, mail.to,
                                       security=mail.security, username=mail.username,
                                       password=mail.password, ca_file=mail.ca_file,
                                       verify=mail.verify,
                                       allow_plain_auth=mail.allow_plain_auth,
                                       timeout_s=mail.timeout_ms / 1000,
                                       subject_prefix=mail.subject_prefix, opts=opts))
    for push in cfg.ntfy:
        notifiers.append(NtfyNotifier(push.name, push.url, push.topic, token=push.token,
                                      timeout_s=push.timeout_ms / 1000, opts=opts))
    for chat in cfg.slack:
        notifiers.append(SlackNotifier(chat.name, chat.url, channel=chat.channel,
                                       username=chat.username, icon_emoji=chat.icon_emoji,
                                       timeout_s=chat.timeout_ms / 1000, opts=opts))
    return notifiers
