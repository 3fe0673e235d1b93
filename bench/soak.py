"""A long unattended run: real geth v1.13.15 sealing a busy clique chain through the real sealward,
with the signer's resources sampled as it goes. What a leak, a growing table or a slowing seal
would show first.

    .venv/bin/python -m bench.soak --minutes 30            # needs bash scripts/peers.sh

One sealer as an operator would run it: a SoftHSM key, the vault unlocked by a password file, the
walkthrough's clique rules attested, the seal guard at its default (SQLite), the audit log and the
metrics endpoint on. geth mines with period ``--period`` and ``--miner.recommit 1s`` while
transactions flow (``--tx-rate`` a second), so every height is sealed several times. Every
``--every`` seconds one line: blocks, seal requests and guard answers, mean seal time, the
signer's and its rule workers' RSS, open descriptors, threads, and the size of the guard database
and audit log. At the end every block's signer is checked with geth's ``clique_getSigner`` and the
audit log's hash chain with ``sealward audit verify``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from signer.tools.gethnet import GethNode, clique_genesis
from signer.tools.peers import GETH_SEALER
from signer.tools.processes import LOOPBACK, free_port
from signer.tools.sandbox import Sandbox
from signer.tools.txflow import FUNDER, TxFlow

CHAIN_ID = 4243
SEAL = "account_signData"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class Sample:
    seconds: float
    head: int
    requests: float  # account_signData answered
    guard: dict[str, float]  # decision -> count
    duration_sum: float
    signer_rss_kib: int
    workers_rss_kib: int
    fds: int
    threads: int
    guard_bytes: int
    audit_bytes: int


def _metrics(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return samples


def _one(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def sample(started: float, pid: int, port: int, node: GethNode, box: Sandbox) -> Sample:
    metrics = _metrics(port)
    guard = {labels["decision"]: v for labels, v in metrics.get("sealward_seal_guard_decisions_total", [])}
    guard_files = [p for p in box.config.iterdir() if "guard" in p.name and p.is_file()]
    return Sample(
        seconds=time.monotonic() - started,
        head=node.head(),
        requests=_one(metrics, "sealward_requests_total", method=SEAL),
        guard=guard,
        duration_sum=_one(metrics, "sealward_request_duration_seconds_sum", method=SEAL),
        signer_rss_kib=_status(pid, "VmRSS"),
        workers_rss_kib=sum(_status(child, "VmRSS") for child in _children(pid)),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=_status(pid, "Threads"),
        guard_bytes=sum(p.stat().st_size for p in guard_files),
        audit_bytes=(box.work / "audit.log").stat().st_size,
    )


def row(previous: Sample | None, now: Sample) -> str:
    seals = now.requests - (previous.requests if previous else 0)
    spent = now.duration_sum - (previous.duration_sum if previous else 0)
    mean = f"{spent / seals * 1000:6.2f}" if seals else "     -"
    refused = int(now.guard.get("refused", 0))
    return (
        f"{now.seconds / 60:6.1f} {now.head:7d} {int(now.requests):8d} {int(now.guard.get('sealed', 0)):7d}"
        f" {int(now.guard.get('resubmit', 0)):8d} {refused:7d} {mean} {now.signer_rss_kib / 1024:8.1f}"
        f" {now.workers_rss_kib / 1024:8.1f} {now.fds:4d} {now.threads:4d}"
        f" {now.guard_bytes / 1024:8.0f} {now.audit_bytes / 1024:8.0f}"
    )


HEADER = (
    "   min   block requests  sealed resubmit refused  ms/seal  rss MiB wrk MiB  fds thr  guard KiB audit KiB"
)


def blocks_signed_by(node: GethNode, sealer: str) -> Iterator[tuple[int, bool]]:
    for number in range(1, node.head() + 1):
        yield number, node.clique_signer(number).lower() == sealer.lower()


def soak(minutes: float, period: int, tx_rate: float, every: float) -> int:
    with tempfile.TemporaryDirectory(prefix="sealward-soak-") as tmp:
        work = Path(tmp)
        box = Sandbox(work / "signer")
        box.work.mkdir()
        box.init_vault()
        sealer = box.softhsm_key()
        rules = box.attest()
        port = free_port()
        box.start("--chainid", str(CHAIN_ID), "--metrics", "--metrics.port", str(port), rules=rules,
                  log=box.work / "sealward.log")  # fmt: skip
        assert box.daemon is not None
        pid = box.daemon.pid
        node = GethNode(GETH_SEALER.path, work / "geth", CHAIN_ID, signer=box.socket, etherbase=sealer,
                        extra_flags=["--miner.recommit", "1s"])  # fmt: skip
        node.init(clique_genesis(CHAIN_ID, period, [sealer], {FUNDER.address: 10**24}))
        node.start()
        print(f"sealer {sealer}, geth {GETH_SEALER.version}, period {period} s, {tx_rate:g} tx/s,"
              f" {minutes:g} min; signer log {box.work / 'sealward.log'}")  # fmt: skip
        print(HEADER, flush=True)
        started = time.monotonic()
        samples: list[Sample] = []
        try:
            with TxFlow([node], CHAIN_ID, rate=tx_rate) as flow:
                while time.monotonic() - started < minutes * 60:
                    time.sleep(every)
                    samples.append(sample(started, pid, port, node, box))
                    print(row(samples[-2] if len(samples) > 1 else None, samples[-1]), flush=True)
            wrong = [n for n, ok in blocks_signed_by(node, sealer) if not ok]
        finally:
            node.stop()
            box.stop()
        verify = subprocess.run([box.sealward, "audit", "verify", str(box.work / "audit.log")],
                                capture_output=True, text=True)  # fmt: skip
        print(summary(samples, flow.sent, wrong, verify.stdout.strip() or verify.stderr.strip()))
        return 0 if not wrong and verify.returncode == 0 else 1


def summary(samples: list[Sample], sent: int, wrong: list[int], verified: str) -> str:
    first, last = samples[min(2, len(samples) - 1)], samples[-1]  # after warm-up
    gaps = [b.head - a.head for a, b in itertools.pairwise(samples)]
    return "\n".join([
        f"blocks: {last.head}, every one signed by the sealer per clique_getSigner: {not wrong}"
        + (f" (not: {wrong[:10]})" if wrong else ""),
        f"transactions sent: {sent}; seal requests: {int(last.requests)}; guard: "
        + ", ".join(f"{k} {int(v)}" for k, v in sorted(last.guard.items())),
        f"fewest blocks in one sample interval: {min(gaps, default=0)}",
        f"signer RSS {first.signer_rss_kib / 1024:.1f} -> {last.signer_rss_kib / 1024:.1f} MiB,"
        f" rule workers {first.workers_rss_kib / 1024:.1f} -> {last.workers_rss_kib / 1024:.1f} MiB"
        f" (from minute {first.seconds / 60:.0f} to {last.seconds / 60:.0f})",
        f"descriptors {min(s.fds for s in samples)}-{max(s.fds for s in samples)},"
        f" threads {min(s.threads for s in samples)}-{max(s.threads for s in samples)}",
        f"guard database {last.guard_bytes / 1024:.0f} KiB, audit log {last.audit_bytes / 1024:.0f} KiB"
        f" ({last.audit_bytes / max(1, last.requests):.0f} bytes a seal request)",
        f"audit verify: {verified}",
    ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--period", type=int, default=1)
    parser.add_argument("--tx-rate", type=float, default=3.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    args = parser.parse_args()
    missing = GETH_SEALER.missing()
    if missing:
        raise SystemExit(missing)
    raise SystemExit(soak(args.minutes, args.period, args.tx_rate, args.every))


if __name__ == "__main__":
    main()
