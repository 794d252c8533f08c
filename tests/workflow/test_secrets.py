"""A full sync with distinctive secret values: none of them appears in the logs, the
notifications, the pages, the task and approval records, the data folder or the console.

The ConnectWise and marketplace simulators run as "real" endpoints configured in
`config.json` (as a user configures real ones), with credentials nobody would write by
chance. The only places the secrets may be are where they are kept on purpose: the
user's `config.json` and the link signing key's own file.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

from acceptance import demo_seed, http
from cwsync_local.runtime.embedded import EmbeddedRuntime
from cwsync_local.simulators import connectwise, marketplace

CONNECTWISE = {"companyId": "demo", "publicKey": "pubkey-VIOLET-HARBOR-7Q2Z",
               "privateKey": "privkey-AMBER-COMET-9X4M", "clientId": "8f4c5a2e-1b7d-4e0a-9c3f-6d2b1a0e5f47"}
MARKETPLACE = {"username": "api-user@reseller.example", "password": "password-SILENT-ORCHID-3R8T",
               "subscriptionKey": "subkey-COPPER-LANTERN-5N1W", "marketplace": "us"}
KEPT_ON_PURPOSE = {"config.json", "signing-key.json"}


def secret_values(signing_key: str) -> dict[str, str]:
    basic = base64.b64encode(f"{CONNECTWISE['companyId']}+{CONNECTWISE['publicKey']}:"
                             f"{CONNECTWISE['privateKey']}".encode()).decode()
    return {"ConnectWise public key": CONNECTWISE["publicKey"], "ConnectWise private key": CONNECTWISE["privateKey"],
            "ConnectWise basic auth": basic, "marketplace password": MARKETPLACE["password"],
            "marketplace subscription key": MARKETPLACE["subscriptionKey"], "link signing key": signing_key}


def test_a_full_sync_shows_no_secret_anywhere(tmp_path, capfd):
    seed = demo_seed()
    cw = connectwise.start(seed, credentials=CONNECTWISE)
    mp = marketplace.start(seed, credentials=MARKETPLACE)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "config.json").write_text(json.dumps({
        "connectwise": {"siteUrl": cw.url, **CONNECTWISE}, "marketplace": {"baseUrl": mp.url, **MARKETPLACE},
        "parameters": {"ApprovalPolicy": "always", "CatalogSubcategoryId": "11", "CatalogTypeId": "3"}}),
        encoding="utf-8")
    console: list[str] = []
    seen: list[str] = []  # every page, answer and record looked at
    runtime = EmbeddedRuntime(data_dir, echo=console.append, function_log=data_dir / "functions.log", auto_approve=True)
    try:
        runtime.start()
        runtime.check()
        for _ in range(6):  # each round: look at every open approval as a person would, then answer it
            for approval in runtime.approvals("pending"):
                link = runtime.approval_link(approval["approvalId"])
                seen += [http("GET", link)[1], http("GET", f"{link}&format=json")[1]]
                seen.append(http("GET", link.replace("sig=", "sig=x"))[1])  # an error page too
            runtime.approve_pending()
            runtime.wait_until_settled(timeout=240)
        runtime.report_progress()
        tasks = runtime.tasks()
        seen += [json.dumps(tasks, default=str), json.dumps(runtime.approvals(None), default=str),
                 json.dumps(runtime.outbox(), default=str)]
        signing_key = runtime._signing_key.decode("utf-8")
    finally:
        runtime.stop()
        cw.stop()
        mp.stop()
    assert sum(1 for task in tasks if task["status"] == "synced") >= 5, [t["status"] for t in tasks]

    captured = capfd.readouterr()
    places = {"console": "\n".join(console), "stdout/stderr": captured.out + captured.err,
              "pages, answers and records": "\n".join(seen)}
    for file in sorted(Path(data_dir).rglob("*")):
        if file.is_file() and file.name not in KEPT_ON_PURPOSE:
            places[f"data folder: {file.name}"] = file.read_text(encoding="utf-8", errors="replace")
    assert "data folder: functions.log" in places and "data folder: dynamodb.json" in places
    leaks = [f"{what} in {place}" for what, value in secret_values(signing_key).items()
             for place, text in places.items() if value in text]
    assert not leaks, leaks
