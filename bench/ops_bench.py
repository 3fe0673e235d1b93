"""What monitoring costs the signer: seals with and without ``--metrics``, and what a scrape costs.

    nice -n 19 .venv/bin/python -m bench.ops_bench [--seals 300] [--scrapes 200] [--rounds 2]

One real ``sealward`` (SoftHSM key, attested clique rules, seal guard on SQLite, IPC), restarted
between rows so that rows alternate (off, on, off, on, ...) and share the machine's noise:

* seal round trip, one client, ``--metrics`` off vs on (median and p99 of each row);
* seal round trip while a scraper reads /metrics ten times a second;
* one /metrics scrape and one /readyz answer, as the client sees them, and the signer's own CPU
  time per scrape (utime+stime from /proc, less the same idle interval measured without scrapes).
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from signer.clique.sealing import CliqueChain, request_payload
from signer.tools.ipcclient import IpcClient
from signer.tools.sandbox import Sandbox

CLIQUE = "application/x-clique-header"
PORT = 16061


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


def _seal(box: Sandbox, address: str, chain: CliqueChain, count: int) -> list[float]:
    times = []
    with IpcClient(box.socket) as client:
        for _ in range(count):
            payload = request_payload(chain.propose())
            start = time.perf_counter()
            signature = client.call("account_signData", CLIQUE, address, payload)
            times.append(time.perf_counter() - start)
            chain.seal(bytes.fromhex(signature[2:]))
    return times


def _row(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(times) * 1000
    print(f"{name:<44} median {median:7.3f} ms   p99 {p99 * 1000:7.3f} ms   n={len(times)}")


def metric_updates_per_seal(rounds: int = 20000) -> float:
    """Seconds spent in the metric updates one seal makes (what --metrics adds to the hot path),
    measured in this process: request, rule, approval, signature, guard and two audit entries."""
    from signer.ops.metrics import Metrics

    m = Metrics()
    method, rules_ok = m.request_duration.labels("account_signData"), m.approvals.labels("rules", "approved")
    start = time.perf_counter()
    for _ in range(rounds):
        gauge = m.inflight.labels("ipc")
        gauge.inc()
        m.rule_duration.observe(0.001)
        rules_ok.inc()
        m.sign_duration.labels("pkcs11").observe(0.0006)
        m.guard_duration.observe(0.002)
        m.guard_decisions.labels("sealed").inc()
        m.last_sealed_height.labels("1", "0xabc").set(1)
        m.last_seal_time.labels("1", "0xabc").set(time.time())
        m.audit_entries.inc()
        m.audit_entries.inc()
        method.observe(0.005)
        m.requests.labels("account_signData", "ok").inc()
        gauge.dec()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seals", type=int, default=300)
    parser.add_argument("--scrapes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        box = Sandbox(Path(work))
        box.init_vault()
        address = box.softhsm_key()
        rules = box.attest()
        chain = CliqueChain(first_number=1)
        results: dict[str, list[float]] = {"off": [], "on": [], "on, scraped 10/s": []}
        for _ in range(args.rounds):
            for mode in ("off", "on"):
                box.start(*(["--metrics", "--metrics.port", str(PORT)] if mode == "on" else []), rules=rules)
                _seal(box, address, chain, 20)  # warm-up: rule contexts, HSM session
                results[mode] += _seal(box, address, chain, args.seals)
                if mode == "on":
                    stop = threading.Event()

                    def scraper(stop: threading.Event = stop) -> None:
                        while not stop.wait(0.1):
                            _get("/metrics")

                    thread = threading.Thread(target=scraper, daemon=True)
                    thread.start()
                    results["on, scraped 10/s"] += _seal(box, address, chain, args.seals)
                    stop.set()
                    thread.join()
                box.stop()

        print(f"seal round trip (SoftHSM, rules, guard), {args.rounds} rounds interleaved")
        for name, times in results.items():
            _row(f"--metrics {name}", times)

        box.start("--metrics", "--metrics.port", str(PORT), rules=rules)
        assert box.daemon is not None
        _seal(box, address, chain, 20)  # every metric family has samples
        pid = box.daemon.pid
        body = _get("/metrics")
        scrape_times, ready_times = [], []
        idle_start = _cpu_seconds(pid)
        time.sleep(2.0)
        idle = (_cpu_seconds(pid) - idle_start) / 2.0  # CPU seconds per second, doing nothing
        busy_start, wall_start = _cpu_seconds(pid), time.perf_counter()
        for _ in range(args.scrapes):
            start = time.perf_counter()
            _get("/metrics")
            scrape_times.append(time.perf_counter() - start)
        wall = time.perf_counter() - wall_start
        cpu_per_scrape = (_cpu_seconds(pid) - busy_start - idle * wall) / args.scrapes
        for _ in range(args.scrapes):
            start = time.perf_counter()
            _get("/readyz")
            ready_times.append(time.perf_counter() - start)
        box.stop()
        print(f"metric updates one seal makes, in-process: {metric_updates_per_seal() * 1e6:.1f} us")
        print(f"/metrics body: {len(body)} bytes")
        _row("one /metrics scrape (client's view)", scrape_times)
        _row("one /readyz (cached 1.5 s; checks included)", ready_times)
        print(f"signer CPU per /metrics scrape: {cpu_per_scrape * 1000:.2f} ms "
              f"(idle {idle * 1000:.1f} ms/s subtracted)")  # fmt: skip


if __name__ == "__main__":
    main()
