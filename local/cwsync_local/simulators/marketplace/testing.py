"""Helpers for tests that talk to a running marketplace simulator over real HTTP."""
from __future__ import annotations

import requests

from cwsync_local.simulators.common import RunningSimulator
from cwsync_local.simulators.marketplace.contract import response_hook


def token(sim: RunningSimulator, session: requests.Session | None = None, **overrides) -> requests.Response:
    """`POST /token` with the simulator's credentials; `overrides` replace any of them."""
    creds = {**sim.credentials, **overrides}
    return (session or requests).post(f"{sim.url}/token", auth=(creds["username"], creds["password"]),
                                      headers={"X-Subscription-Key": creds["subscriptionKey"]},
                                      json={"marketplace": creds["marketplace"]}, timeout=10)


def session(sim: RunningSimulator, *, check_contract: bool = True, seen: list | None = None) -> requests.Session:
    """A signed-in session; with `check_contract` every answer is checked against the contract."""
    http = requests.Session()
    if check_contract:
        http.hooks["response"].append(response_hook(seen=seen))
    answer = token(sim, http)
    answer.raise_for_status()
    http.headers.update({"Authorization": f"Bearer {answer.json()['token']}",
                         "X-Subscription-Key": sim.credentials["subscriptionKey"]})
    return http
