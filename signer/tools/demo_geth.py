"""The demo's real chain: geth v1.13.15 mining a private clique chain, every block sealed through
the running Sealward, printed as it arrives with the latency Sealward's audit log shows."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import click

from signer.clique.header import SEAL_LENGTH, decode_header
from signer.clique.sealing import recover_sealer
from signer.tools.gethnet import GethNode, clique_genesis
from signer.tools.peers import GETH_SEALER
from signer.tools.sealaudit import SealEvent, SealReader

PERIOD = 2  # seconds between blocks


class AuditFollower:
    """Seals from the audit log as it grows, by (height, seal bytes)."""

    def __init__(self, path: Path) -> None:
        self.reader = SealReader(path)
        self.seals: dict[tuple[int, bytes], SealEvent] = {}
        self.requests = 0
        self.refused = 0

    def poll(self) -> None:
        for event in self.reader.read():
            self.requests += 1
            if event.seal is None:
                self.refused += 1
            else:
                self.seals[(event.height, event.seal)] = event


def run_geth_chain(
    work: Path, socket: Path, audit_log: Path, sealer: str, chain_id: int, seconds: int
) -> bool:
    """Mine for ``seconds``; print each block; True when every block verifies as ``sealer``'s."""
    node = GethNode(GETH_SEALER.path, work / "geth", chain_id, signer=socket, etherbase=sealer,
                    extra_flags=["--miner.recommit", "1s"])  # fmt: skip
    node.init(clique_genesis(chain_id, PERIOD, [sealer]))
    click.echo(f"==> geth {GETH_SEALER.version} --signer {socket} --mine (clique period {PERIOD} s)")
    click.echo(f"    geth's log: {node.log_path}")
    node.start()
    follower = AuditFollower(audit_log)
    latencies: list[float] = []
    ok = True
    shown = 0
    click.echo(f"\n{'block':>5}  {'hash':<66}  {'signer (geth: clique_getSigner)':<42}  seal latency  ok")
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            head = node.head()
            while shown < head:
                shown += 1
                good, latency = _show_block(node, follower, shown, sealer)
                ok &= good
                if latency is not None:
                    latencies.append(latency)
    finally:
        node.stop()
    follower.poll()
    if not shown:
        click.echo(f"no block was sealed; geth's log:\n{node.log_tail(30)}")
        return False
    verdict = "every block sealed by the HSM key" if ok else "SOME BLOCKS DID NOT VERIFY"
    timing = f"seal latency median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms" \
        if latencies else "no latency measured"  # fmt: skip
    click.echo(f"\n{shown} blocks in {seconds} s, {follower.requests} seal requests "
               f"({follower.refused} refused by the guard); {timing}: {verdict}")  # fmt: skip
    return ok


def _show_block(
    node: GethNode, follower: AuditFollower, number: int, sealer: str
) -> tuple[bool, float | None]:
    block = node.block(number)
    geth_says = node.clique_signer(number)
    raw = node.raw_header(number)
    recovered = recover_sealer(raw)  # our own check, next to geth's
    seal = decode_header(raw).extra[-SEAL_LENGTH:]
    event = None
    for _ in range(10):  # the audit line may land a moment after geth imported the block
        follower.poll()
        event = follower.seals.get((number, seal))
        if event is not None:
            break
        time.sleep(0.05)
    good = geth_says.lower() == sealer.lower() == recovered.lower() and event is not None
    latency = event.latency_ms if event is not None else None
    shown = f"{latency:8.0f} ms" if latency is not None else "       n/a"
    click.echo(f"{number:>5}  {block['hash']}  {geth_says:<42}  {shown}  {'yes' if good else 'NO'}")
    return good, latency
