"""A small billing-safety fault campaign in every test run (the full one: `python -m benchmarks billing_safety`).

Tasks of every type (sales, change, cancellation, renewal, billing; over additions tagged by
cwsync and typed by hand) go through the embedded runtime while ConnectWise answers with
5xx, 429, latency and commit-then-fail; an approver confirms each plan, editing prices and
charge descriptions on some. Each agreement must end exactly as computed from its scenario.
"""
from cwsync.vocabulary import TaskStatus
from cwsync_local.campaign import KINDS, run_campaign


def test_every_task_type_under_faults_ends_with_each_agreement_exactly_as_expected():
    result = run_campaign(2 * len(KINDS), timeout=900)
    assert result.partial == []
    assert result.state_matches == result.tasks == 2 * len(KINDS)
    assert (result.duplicate_writes, result.missing_writes, result.extra_live) == (0, 0, 0)
    assert sum(result.outcomes.values()) == result.tasks
    assert result.outcomes[TaskStatus.SYNCED] + sum(result.failed_reasons.values()) == result.tasks
    assert result.edits_made > 0
