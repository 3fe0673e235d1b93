"""Clique seal round trips through the real signer, against the in-process SoftHSM floor, in one run.

    .venv/bin/python -m bench.seal_bench [--seals 1000] [--keystore]

One installation made with the real CLI (vault, four keys on one SoftHSM token, the walkthrough's
clique rules attested) is served by the real ``sealward`` over IPC. Clients are separate processes
(``bench.seal_client``), each a geth-like sealer of its own chain with its own key, and every seal
is recovered with eth-keys. Rows, all from this one run:

* floor: in-process SoftHSM signing (C_Sign, low-s, recovery id), 1 process and 4 processes
* rules: the rule engine alone, in process, deciding the same clique request
* sealward, rules on, guard on (SQLite) and guard off, 1 client and 4 client processes
* start-up to a served socket, and the signer's RSS (with its rule workers) at rest and under load
* with --keystore: a light-KDF keystore key, guard off, 1 client (decrypt per signature)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from signer.clique.sealing import CliqueChain, request_payload
from signer.tools.sandbox import SOFTHSM_MODULE, Sandbox

KEYS = 4


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)
    client_cpu: float = 0.0  # seconds, all client processes together

    def row(self, name: str) -> str:
        ordered = sorted(self.latencies)
        if not ordered:
            return f"{name:<58} no data  ERRORS: {self.errors[:1]}"
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        rate = len(ordered) / self.wall if self.wall > 0 else 0.0
        note = f"  ERRORS: {len(self.errors)} ({self.errors[0]})" if self.errors else ""
        return f"{name:<58} {statistics.median(ordered) * 1000:8.3f} {p99 * 1000:8.3f} {rate:10.0f}{note}"


def _gang(commands: list[tuple[list[str], str]], env: dict[str, str]) -> Run:
    """Start every process, wait for all to say ready, start them at once, merge their reports."""
    procs = [
        subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for cmd, _ in commands
    ]
    run = Run()
    try:
        for proc, (_, first_line) in zip(procs, commands, strict=True):
            assert proc.stdin is not None and proc.stdout is not None
            if first_line:
                proc.stdin.write(first_line + "\n")
                proc.stdin.flush()
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError(f"{proc.args} did not start")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        reports = []
        for proc in procs:
            out, _ = proc.communicate(timeout=600)
            reports.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for report in reports:
        run.latencies.extend(report["latencies"])
        run.errors.extend(report["errors"])
        run.client_cpu += float(report.get("cpu", 0.0))
    run.wall = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    return run


def floor(box: Sandbox, processes: int, signatures: int) -> Run:
    assert box.hsm_token is not None and box.hsm_pin is not None
    cmd = [sys.executable, "-m", "bench.hsm_floor", SOFTHSM_MODULE, box.hsm_token]
    return _gang([([*cmd, str(i), str(signatures)], box.hsm_pin) for i in range(processes)], box.env)


def clients(box: Sandbox, addresses: list[str], seals: int, offset: int) -> Run:
    cmd = [sys.executable, "-m", "bench.seal_client", str(box.socket)]
    # Each client seals its own chain with its own key, from a height the guard has not seen.
    return _gang([([*cmd, a, str(seals), str(offset + 1)], "") for a in addresses], box.env)


def rules_alone(rules_source: str, address: str, calls: int) -> Run:
    """The rule engine deciding the signer's own clique request, in this process."""
    from signer.approval.rules import MemoryStorage, RuleEngine
    from signer.codecs.hexutil import MixedcaseAddress
    from signer.codecs.signdata import plan_sign_data
    from signer.types import Metadata

    header = CliqueChain().propose()
    meta = Metadata(remote="NA", local="NA", scheme="ipc")
    plan = plan_sign_data(
        "application/x-clique-header", MixedcaseAddress.parse(address), request_payload(header), meta
    )
    request = plan.request.to_json()
    run = Run()
    with RuleEngine(rules_source, MemoryStorage()) as engine:
        engine.call("ApproveSignData", request)  # warm
        start = time.perf_counter()
        for _ in range(calls):
            begin = time.perf_counter()
            if engine.call("ApproveSignData", request) != "Approve":
                run.errors.append("the rules did not approve")
            run.latencies.append(time.perf_counter() - begin)
        run.wall = time.perf_counter() - start
    return run


def _tree(pid: int) -> list[int]:
    """A process and its children (the signer and its rule workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *map(int, children.read_text().split())] if children.exists() else [pid]


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the signer and its live rule workers: a figure that, unlike
    wall time, other load on the machine hardly changes."""
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def _tree_rss_kib(pid: int) -> int:
    """RSS of a process and its children (the rule workers), in KiB."""
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _tree_rss_kib(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def bench(seals: int, keystore: bool) -> list[str]:
    rows: list[str] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sealward-bench-") as tmp:
        box = Sandbox(Path(tmp))
        box.init_vault()
        addresses = [box.softhsm_key()] + [box.add_softhsm_key(f"sealer-{i}") for i in range(1, KEYS)]
        rules = box.attest()
        rows.append(floor(box, 1, seals).row("floor: SoftHSM in process, 1 process"))
        rows.append(floor(box, KEYS, seals).row(f"floor: SoftHSM in process, {KEYS} processes, {KEYS} keys"))
        rows.append(
            rules_alone(rules.read_text(), addresses[0], seals).row(
                "rules alone: engine in process, 1 caller"
            )
        )
        offset = 0
        for guard in ("resubmit", "off"):
            begin = time.perf_counter()
            box.start(
                "--seal-guard", guard, "--guard-db", str(Path(tmp) / "guard.db"), rules=rules, poll=0.005
            )
            started = time.perf_counter() - begin
            try:
                assert box.daemon is not None
                pid = box.daemon.pid
                if guard == "resubmit":
                    notes.append(f"start-up to a served socket: {started * 1000:.0f} ms")
                    time.sleep(1.0)
                    notes.append(f"RSS at rest (signer + rule workers): {_tree_rss_kib(pid) / 1024:.1f} MiB")
                label = "guard on (SQLite)" if guard == "resubmit" else "guard off"
                cpu = tree_cpu_seconds(pid)
                run = clients(box, addresses[:1], seals, offset)
                cpu_per_seal = (tree_cpu_seconds(pid) - cpu) / max(1, len(run.latencies))
                rows.append(run.row(f"sealward, rules, {label}, 1 client"))
                notes.append(
                    f"CPU per seal, {label}, 1 client: signer and rule workers {cpu_per_seal * 1000:.2f} ms"
                )
                offset += 10 * seals
                cpu = tree_cpu_seconds(pid)
                with RssSampler(pid) as sampler:
                    run = clients(box, addresses, seals, offset)
                cpu_per_seal = (tree_cpu_seconds(pid) - cpu) / max(1, len(run.latencies))
                offset += 10 * seals
                rows.append(run.row(f"sealward, rules, {label}, {KEYS} client processes"))
                client_cpu = run.client_cpu / max(1, len(run.latencies))
                notes.append(
                    f"CPU per seal, {label}, {KEYS} clients: signer and rule workers"
                    f" {cpu_per_seal * 1000:.2f} ms,"
                    f" clients {client_cpu * 1000:.2f} ms; {os.cpu_count()} cores allow at most"
                    f" {(os.cpu_count() or 1) / (cpu_per_seal + client_cpu):.0f} seals/s"
                )
                if guard == "resubmit":
                    notes.append(f"RSS under {KEYS}-client load (peak): {sampler.peak / 1024:.1f} MiB")
            finally:
                box.stop()
    if keystore:
        with tempfile.TemporaryDirectory(prefix="sealward-bench-") as tmp:
            box = Sandbox(Path(tmp))
            box.init_vault()
            address = box.keystore_key()
            rules = box.attest()
            box.start("--seal-guard", "off", rules=rules)
            try:
                rows.append(
                    clients(box, [address], max(20, seals // 20), 0).row(
                        "keystore (light KDF), rules, 1 client"
                    )
                )
            finally:
                box.stop()
    return [*rows, "", *notes]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seals", type=int, default=1000, help="seals per client and floor process")
    parser.add_argument(
        "--keystore", action="store_true", help="add the keystore row (decrypt per signature)"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cores: {os.cpu_count()}")
    print(f"{'configuration':<58} {'median':>8} {'p99':>8} {'per s':>10}   (ms)")
    for row in bench(args.seals, args.keystore):
        print(row, flush=True)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
