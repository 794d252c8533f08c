"""A small billing-safety fault campaign in every test run (the full one: `python -m benchmarks billing_safety`).

One task of every kind (sales, change, cancellation, renewal over additions tagged by cwsync
and typed by hand, usage billing) goes through `cwsync run`, run as its own process, while
ConnectWise answers with 5xx, 429, latency and commit-then-fail; an approver confirms each
plan through its notification link, editing prices and charge descriptions on some; and
`cwsync run` is stopped three times at seeded moments (counted in ConnectWise writes and
decisions, never in seconds) and started again. Each agreement must end exactly as computed
from its scenario, with nothing written twice, nothing missing and no decision asked again.
"""
from cwsync.vocabulary import TaskStatus
from cwsync_local.campaign import KINDS
from cwsync_local.campaign_run import run_campaign

STOPS = 3
SEED = 4  # with this seed: a SIGKILL, a Ctrl-C, and a SIGKILL while the restarted runtime resumes (campaign_run.stop_plan)


def test_every_task_type_under_faults_and_kills_ends_with_each_agreement_exactly_as_expected(tmp_path):
    result = run_campaign(len(KINDS), kills=STOPS, seed=SEED, timeout=1500, folder=tmp_path)
    assert result.open_tasks == [] and result.partial == []
    assert result.kills + result.interrupts == result.restarts == STOPS
    assert result.state_matches == result.tasks == len(KINDS)
    assert (result.duplicate_writes, result.missing_writes, result.extra_live) == (0, 0, 0)
    assert result.asked_again == 0
    assert sum(result.outcomes.values()) == result.tasks
    assert result.outcomes[TaskStatus.SYNCED] + sum(result.failed_reasons.values()) == result.tasks
    assert result.edits_made > 0
