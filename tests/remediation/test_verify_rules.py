"""rules.remediation, pure: a playbook found not applicable is never run or reverted
automatically, and `applicability` turns step checks into the verdict and its reason."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from rules.remediation import Kind, Ledger, Signal, Spec, StepCheck, applicability, plan

FIRING = [Signal("openai_health", "firing", "critical")]
SPEC = Spec(name="openai-outage", target="openai", alerts=("openai_health",), mode="execute",
            revert_on_resolve=True)
WHY = "not applicable: step 4 (HUD shows offline mode): POST /api/admin/set-mode is not served"


def test_an_applicable_playbook_runs():
    out = plan(FIRING, [SPEC], {}, now=100.0)
    assert [d.kind for d in out.decisions] == [Kind.RUN]


def test_a_not_applicable_playbook_is_held_with_the_reason_and_uses_no_run():
    held = replace(SPEC, not_applicable=WHY)
    out = plan(FIRING, [held], {}, now=100.0)
    assert [(d.kind, d.reason) for d in out.decisions] == [(Kind.HOLD, WHY)]
    led = out.ledgers["openai-outage"]
    assert led.runs == () and led.running is None and led.trigger_active
    again = plan(FIRING, [held], out.ledgers, now=500.0)  # however long it fires
    assert [d.kind for d in again.decisions] == [Kind.HOLD]
    assert not again.ledgers["openai-outage"].suspended


def test_it_is_not_reverted_either_and_runs_once_applicable_again():
    applied = {"openai-outage": Ledger(applied=True, trigger_active=True)}
    held = replace(SPEC, not_applicable=WHY)
    out = plan([], [held], applied, now=100.0)
    assert out.decisions == () and out.ledgers["openai-outage"].applied
    out = plan([], [SPEC], out.ledgers, now=101.0)
    assert [d.kind for d in out.decisions] == [Kind.REVERT]


def test_dry_run_still_records_the_plan_and_says_why():
    spec = replace(SPEC, mode="dry-run", not_applicable=WHY)
    out = plan(FIRING, [spec], {}, now=1.0)
    assert [(d.kind, d.reason) for d in out.decisions] == [(Kind.DRY_RUN,
                                                           f"trigger fired ({WHY})")]


def check(status, index=0, phase="steps", optional=False, detail="d"):
    return StepCheck(phase, index, f"t{index}", status, detail, optional)


def test_applicability_names_the_first_bad_step_and_counts_the_rest():
    checks = [check("ok"), check("unknown", 1), check("not_applicable", 2, detail="x 404"),
              check("not_applicable", 0, "revert")]
    assert applicability(checks) == ("not_applicable",
                                     "not applicable: step 3 (t2): x 404 (and 1 more)")
    assert applicability(checks[:2]) == ("unknown", "cannot verify now: step 2 (t1): d")
    assert applicability(checks[3:]) == ("not_applicable",
                                         "not applicable: revert step 1 (t0): d")
    assert applicability([check("not_applicable", optional=True), check("ok", 1)]) == \
        ("applicable", "")
    assert applicability([]) == ("applicable", "")


statuses = st.sampled_from(["ok", "not_applicable", "unknown"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(statuses, st.booleans()), max_size=12))
def test_only_required_steps_decide(steps):
    checks = [check(s, i, optional=o) for i, (s, o) in enumerate(steps)]
    verdict, reason = applicability(checks)
    required = {s for s, o in steps if not o}
    expected = ("not_applicable" if "not_applicable" in required else
                "unknown" if "unknown" in required else "applicable")
    assert verdict == expected
    assert (reason == "") == (verdict == "applicable")
