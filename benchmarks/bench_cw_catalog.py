"""ConnectWise simulator: pages of 1,000 catalog items out of 2,500.

    python -m benchmarks.bench_cw_catalog [--seconds 3] [--requests 60]

Runs the simulator in a child process (so the clients do not share its interpreter),
on loopback only, and reports:
- latency of `GET /procurement/catalog?pageSize=1000&page=N` (median, p95) from one client;
- throughput (requests/s) with 1 client and with 8 concurrent clients, each for a bounded time.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import multiprocessing
import statistics
import threading
import time

import requests

PAGE_SIZE = 1000
CATALOG_ITEMS = 2500


def _serve(ready, stop, address, latency_ms) -> None:
    from cwsync_local.simulators.common import Faults
    from cwsync_local.simulators.connectwise import start
    from cwsync_local.simulators.connectwise.sample import sample_seed

    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines in the numbers
    with start(sample_seed(catalog_items=CATALOG_ITEMS), faults=Faults(latency_ms=latency_ms)) as sim:
        address.value = sim.url.encode()
        ready.set()
        stop.wait()


def _session() -> requests.Session:
    from cwsync_local.simulators.connectwise import DEFAULT_CREDENTIALS as c
    session = requests.Session()  # plain: no contract checking cost in the numbers
    token = base64.b64encode(f"{c['companyId']}+{c['publicKey']}:{c['privateKey']}".encode()).decode()
    session.headers.update({"Authorization": f"Basic {token}", "clientId": c["clientId"]})
    return session


def _fetch(session, url: str, page: int) -> None:
    response = session.get(url, params={"pageSize": PAGE_SIZE, "page": page}, timeout=30)
    response.raise_for_status()
    assert response.content.startswith(b"[")


def latency(url: str, count: int) -> list[float]:
    session, timings = _session(), []
    for number in range(count):
        started = time.perf_counter()
        _fetch(session, url, number % 3 + 1)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def throughput(url: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        session = _session()
        while time.perf_counter() < deadline:
            _fetch(session, url, done[index] % 3 + 1)
            done[index] += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


@contextlib.contextmanager
def simulator(*, latency_ms: int):
    """The simulator in a child process; yields the catalog URL."""
    context = multiprocessing.get_context("spawn")
    ready, stop, address = context.Event(), context.Event(), context.Array("c", 200)
    server = context.Process(target=_serve, args=(ready, stop, address, latency_ms), daemon=True)
    server.start()
    try:
        if not ready.wait(60):
            raise SystemExit("the simulator did not start")
        from cwsync_local.simulators.connectwise import CODEBASE
        yield f"{address.value.decode()}/{CODEBASE}apis/3.0/procurement/catalog"
    finally:
        stop.set()
        server.join(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    parser.add_argument("--requests", type=int, default=60, help="requests for the latency run")
    args = parser.parse_args(argv)

    with simulator(latency_ms=0) as url:
        latency(url, 5)  # warm up
        timings = latency(url, args.requests)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(f"latency pageSize={PAGE_SIZE} of {CATALOG_ITEMS} items, {args.requests} requests: "
              f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms")
        single = throughput(url, 1, args.seconds)
        eight = throughput(url, 8, args.seconds)
        print(f"throughput (CPU-bound): 1 client {single:.1f} req/s, 8 clients {eight:.1f} req/s "
              f"({eight / single:.2f}x), {args.seconds:.0f} s each")
    # With 50 ms of injected latency per request (a slow network), the threaded server overlaps
    # the waits: this shows that 8 clients are served in parallel rather than one after another.
    with simulator(latency_ms=50) as url:
        single = throughput(url, 1, args.seconds)
        eight = throughput(url, 8, args.seconds)
        print(f"throughput with 50 ms latency: 1 client {single:.1f} req/s, 8 clients {eight:.1f} req/s "
              f"({eight / single:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
