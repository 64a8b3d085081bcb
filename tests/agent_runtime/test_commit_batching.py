"""Commit batching (issue 15): jobs that finish while a commit is in flight share the
next one, so a slow disk costs one transaction per commit time, not one per job, and no
job's transitions are left behind."""

from __future__ import annotations

import time

from agent.service import AgentService
from remediation.remediation_helpers import endpoints_config
from waiting import until

COMMIT_S = 0.05  # a slow disk: every transaction takes this long


async def test_jobs_finishing_together_share_a_commit(tmp_path, sim):
    names = [f"tool-{i:02d}" for i in range(30)]  # as endpoints_config names them
    service = await AgentService.start(endpoints_config(sim, tmp_path, len(names)))
    try:
        store, commits = service.store, []
        real = store.commit_cycle

        def slow_commit(*args, **kwargs):
            time.sleep(COMMIT_S)
            commits.append(time.monotonic())
            return real(*args, **kwargs)

        store.commit_cycle = slow_commit
        runtime = service.runtime
        jobs_before = sum(runtime.cycles.values())
        await until(lambda: sum(runtime.cycles.values()) >= jobs_before + 300, "300 jobs", 60.0)
        jobs = sum(runtime.cycles.values()) - jobs_before
        assert runtime.commits_shared > 0
        # one transaction per COMMIT_S at most, far fewer than jobs
        assert len(commits) < jobs / 2, (len(commits), jobs)
        # nothing left behind: every endpoint's alert is committed as decided
        await until(lambda: not runtime.storage.problem and runtime.states
                    and set(runtime.states) == set(runtime.port.alert_states()),
                    "every decided state committed", 60.0)
        rows = await runtime.db(store.load_alert_states)
        saved = {row.rule for row in rows.values()}
        assert {f"{n}_health" for n in names} <= saved, sorted(saved)[:10]
    finally:
        await service.stop()
