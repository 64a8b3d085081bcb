"""Every command's --help reads as written: no doubled `%%` left in a description, each
option says what it does, and commands sharing a flag do not share a copied help text."""

from __future__ import annotations

import argparse

import pytest

from agent.cli.agent_main import build_parser as agent_parser
from agent.cli.main import build_parser
from tui.cli import build_parser as tui_parser


def commands() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        found.append((path, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))

    walk(build_parser(), ("alice-ops",))
    walk(agent_parser(), ("alice-agent",))
    walk(tui_parser(), ("alice-tui",))
    return found


COMMANDS = commands()


@pytest.mark.parametrize("path, parser", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_has_no_doubled_percent_and_every_option_is_explained(path, parser):
    text = parser.format_help()
    assert "%%" not in text
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        name = action.option_strings[0] if action.option_strings else action.dest
        assert action.help, f"{' '.join(path)} {name}: no help text"


def _help_of(path: tuple[str, ...], flag: str) -> str:
    parser = dict(COMMANDS)[path]
    return next(a.help for a in parser._actions if flag in a.option_strings)


def test_cost_and_capacity_explain_their_own_scenarios():
    cost = _help_of(("alice-ops", "cost"), "--scenario")
    capacity = _help_of(("alice-ops", "capacity"), "--scenario")
    assert cost != capacity
    assert "spend alerts" in cost and "sessions" in capacity


def test_alerts_ack_options_say_what_they_do():
    text = dict(COMMANDS)[("alice-ops", "alerts", "ack")].format_help()
    assert "default: 24h" in text and "$USER" in text and "required" in text
