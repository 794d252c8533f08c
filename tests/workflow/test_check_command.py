"""`cwsync check` tells the operator what the check found in the check's own sentence, the one
the dashboard shows for the same run (and `--json` carries it too)."""
from __future__ import annotations

import io
import json
import re
from argparse import Namespace
from contextlib import redirect_stdout
from html import unescape
from urllib.request import urlopen

from cwsync_local.runtime import cli_check

SENTENCE = re.compile(r"Checked \d+ orders? created since \d{4}-\d\d-\d\d \d\d:\d\d UTC: \d+ new tasks?[^\n]*\.")


def cwsync_check(rt, *, as_json: bool = False) -> str:
    """What `cwsync check` prints (the runtime writes the functions' own log lines to a file, as `cwsync run` does)."""
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert cli_check.run(Namespace(data_dir=rt.data_dir, json=as_json)) == 0
    return printed.getvalue()


def dashboard_text(rt) -> str:
    with urlopen(rt.url + "/", timeout=60) as response:
        return unescape(response.read().decode("utf-8"))


def test_cwsync_check_prints_the_checks_sentence_that_the_dashboard_shows_not_count_keys(make_runtime, tmp_path):
    rt = make_runtime(parameters={"ApprovalPolicy": "never"}, auto_approve=True, function_log=tmp_path / "functions.log")
    told = cwsync_check(rt).splitlines()[0]
    assert SENTENCE.fullmatch(told), told
    assert re.search(r": [1-9]\d* new tasks?", told), "the demo data has new orders to sync"
    assert not re.search(r"detailsFetched|alreadyKnown|notStarted|resumedAt|listed", told)
    assert told in dashboard_text(rt)


def test_cwsync_check_json_carries_the_same_sentence_as_the_dashboard(make_runtime, tmp_path):
    rt = make_runtime(parameters={"ApprovalPolicy": "never"}, auto_approve=True, function_log=tmp_path / "functions.log")
    rt.check()
    result = json.loads(cwsync_check(rt, as_json=True))
    assert SENTENCE.fullmatch(result["summary"]), result["summary"]
    assert f"{len(result['newTasks'])} new task" in result["summary"]
    assert f"{len(result['alreadyKnown'])} already known" in result["summary"]
    assert result["summary"] in dashboard_text(rt)
