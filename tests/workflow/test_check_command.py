"""`cwsync check` tells the operator what the check found in the check's own sentence, the one
the dashboard shows for the same run (and `--json` carries it too)."""
from __future__ import annotations

import json
import re
from argparse import Namespace
from html import unescape
from urllib.request import urlopen

from cwsync_local.runtime import cli_check

SENTENCE = re.compile(r"Checked \d+ orders? created since \d{4}-\d\d-\d\d \d\d:\d\d UTC: \d+ new tasks?[^\n]*\.")


def dashboard_text(rt) -> str:
    with urlopen(rt.url + "/", timeout=60) as response:
        return unescape(response.read().decode("utf-8"))


def test_cwsync_check_prints_the_checks_sentence_that_the_dashboard_shows_not_count_keys(make_runtime, capsys):
    rt = make_runtime(parameters={"ApprovalPolicy": "never"}, auto_approve=True)
    assert cli_check.run(Namespace(data_dir=rt.data_dir, json=False)) == 0
    told = capsys.readouterr().out.splitlines()[0]
    assert SENTENCE.fullmatch(told), told
    assert re.search(r": [1-9]\d* new tasks?", told), "the demo data has new orders to sync"
    assert not re.search(r"detailsFetched|alreadyKnown|notStarted|resumedAt|listed", told)
    assert told in dashboard_text(rt)


def test_cwsync_check_json_carries_the_same_sentence_as_the_dashboard(make_runtime, capsys):
    rt = make_runtime(parameters={"ApprovalPolicy": "never"}, auto_approve=True)
    rt.check()
    capsys.readouterr()
    assert cli_check.run(Namespace(data_dir=rt.data_dir, json=True)) == 0
    result = json.loads(capsys.readouterr().out)
    assert SENTENCE.fullmatch(result["summary"]), result["summary"]
    assert f"{len(result['newTasks'])} new task" in result["summary"]
    assert f"{len(result['alreadyKnown'])} already known" in result["summary"]
    assert result["summary"] in dashboard_text(rt)
