"""geth's view of Sealward's failures, and its recovery (issue 10, scenario 6 and bad input).

One single-sealer clique chain (geth v1.13.15, period 1 s, transactions flowing so geth retries a
failed seal every recommit), taken through: no signer at geth's start, a locked vault, a denied
request, a guard refusal mended with ``guard reset``, a Sealward stopped and started again and one
killed with -9 while geth runs, a wrong PIN in the vault, geth killed with -9 mid-stream, and a
header for another chain. After each, the chain moves again, and the guard database is sound.
What geth printed is in docs/geth.md.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from signer.clique.sealing import make_header, request_payload
from signer.tools.gethnet import GethError, GethNode, RpcFailed, clique_genesis
from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.txflow import FUNDER, TxFlow
from tests.e2e.gethkit import CHAIN_ID, Sealer, make_sealer, wait_until
from tests.e2e.harness import run_cli
from tests.helpers.peers import GETH_SEALER, require_peer

pytestmark = pytest.mark.e2e
CLIQUE = "application/x-clique-header"
PERIOD = 1


def geth_says(node: GethNode, text: str, timeout: float = 15) -> str:
    """Wait for a line containing ``text`` in geth's log; return the first such line."""

    def found() -> list[str]:
        return [line for line in node.log_path.read_text(errors="replace").splitlines() if text in line]

    wait_until(found, timeout, f"geth to log {text!r}")
    line = found()[0]
    print(f"geth: {line}")
    return line


def moves(node: GethNode, blocks: int = 3, timeout: float = 30) -> None:
    node.wait_for_block(node.head() + blocks, timeout)


def seal_at(sealer: Sealer, height: int) -> str:
    """A seal request over the signer's socket, as a second client would send it."""
    header = make_header(height, b"\x42" * 32, london=True, timestamp=int(time.time()))
    with IpcClient(sealer.box.socket) as client:
        try:
            client.call("account_signData", CLIQUE, sealer.address, request_payload(header))
        except RpcError as exc:
            return exc.message
    return "sealed"


def guard_db_is_sound(sealer: Sealer) -> None:
    conn = sqlite3.connect(sealer.box.config / "sealguard.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def start_chain(tmp_path: Path, sealers: list[Sealer]) -> tuple[Sealer, GethNode]:
    """A sealer and its geth, initialised but not started."""
    geth = require_peer(GETH_SEALER)
    sealer = make_sealer(tmp_path, "hsm")
    sealers.append(sealer)
    node = GethNode(geth, tmp_path / "geth", CHAIN_ID, signer=sealer.box.socket, etherbase=sealer.address,
                    extra_flags=["--miner.recommit", "1s"])  # fmt: skip
    sealer.node = node
    node.init(clique_genesis(CHAIN_ID, PERIOD, [sealer.address], {FUNDER.address: 10**24}))
    return sealer, node


@pytest.mark.timeout(300)
def test_geth_reports_each_failure_and_recovers(tmp_path: Path, sealers: list[Sealer]) -> None:
    sealer, node = start_chain(tmp_path, sealers)
    box = sealer.box

    # 1. No signer at geth's start: geth stops at once.
    with pytest.raises(GethError, match="exited with status 1"):
        node.start(wait=20)
    geth_says(node, "error connecting to external signer")

    # 2. A locked vault: Sealward will not start unattended, so geth finds no signer either.
    locked = subprocess.run(
        [box.sealward, "--suppress-bootwarn", "--configdir", str(box.config), *box.backend_flags,
         "--chainid", str(CHAIN_ID), "--rules", str(sealer.rules)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=box.env, timeout=60,
    )  # fmt: skip
    assert locked.returncode != 0 and "refusing to start unattended" in locked.stderr + locked.stdout

    sealer.start_signer()
    node.start()
    moves(node)
    with TxFlow([node], CHAIN_ID, rate=3):
        # 3. A denied request: the clique rules approve seals only.
        with pytest.raises(RpcFailed, match="request denied"):
            node.rpc("eth_sign", sealer.address, "0x01")

        # 4. A guard refusal: another client seals five heights ahead; geth's next heights are
        # rollbacks now, until the operator resets them.
        top = node.head()
        assert seal_at(sealer, top + 5) == "sealed"
        geth_says(node, "never rolls back")
        reset = run_cli(["--configdir", str(box.config), "--suppress-bootwarn", "--auditlog",
                         str(sealer.audit_log), "guard", "reset", "--chainid", str(CHAIN_ID),
                         "--signer", sealer.address, "--height", str(top + 1)])  # fmt: skip
        assert reset.returncode == 0, reset.stderr
        moves(node)

        # 5. Sealward stopped and started while geth runs; then killed with -9.
        box.stop()
        geth_says(node, 'Block sealing failed                     err="dial unix')
        sealer.start_signer()
        moves(node)
        box.kill()  # the socket file stays behind: geth's dial is refused instead
        geth_says(node, "connect: connection refused")
        sealer.start_signer()
        moves(node)

        # 6. A wrong PIN in the vault: every seal fails until the right one is back.
        token = f"pkcs11:token=tok-{sealer.name}"
        box.stop()
        box.run("setpw (wrong PIN)", [*box.common, "setpw", token], "00000000\n00000000\n")
        sealer.start_signer()
        geth_says(node, "PIN", timeout=20)
        box.stop()
        right = box.pins[f"tok-{sealer.name}"]
        box.run("setpw (right PIN)", [*box.common, "setpw", token], f"{right}\n{right}\n")
        sealer.start_signer()
        moves(node)
    guard_db_is_sound(sealer)


@pytest.mark.timeout(300)
def test_faults_on_geths_side_lose_nothing(tmp_path: Path, sealers: list[Sealer]) -> None:
    sealer, node = start_chain(tmp_path, sealers)
    sealer.start_signer()
    node.start()
    moves(node)
    with TxFlow([node], CHAIN_ID, rate=3):
        # geth killed with -9 mid-stream: restarted, it asks again for the height it was sealing
        # (same parent, a new timestamp), and the chain goes on.
        node.kill()
        node.start()
        moves(node)

        # Two geth nodes on one signer and one key: they are one signer instance to the guard,
        # so their blocks at one height are re-seals; the chain goes on and the nodes agree.
        twin = GethNode(node.binary, tmp_path / "geth-twin", CHAIN_ID, signer=sealer.box.socket,
                        etherbase=sealer.address, extra_flags=["--miner.recommit", "1s"])  # fmt: skip
        twin.init(clique_genesis(CHAIN_ID, PERIOD, [sealer.address], {FUNDER.address: 10**24}))
        twin.start()
        try:
            twin.connect(node)
            moves(node, 5)
            wait_until(lambda: abs(twin.head() - node.head()) <= 1, 30, "the twin to follow")
        finally:
            twin.stop()

        # A geth on another chain (other genesis, chain id 5555) pointed at this signer: its
        # low heights are rollbacks for this key, refused with the reason; ours goes on.
        stranger = GethNode(node.binary, tmp_path / "geth-other", 5555, signer=sealer.box.socket,
                            etherbase=sealer.address)  # fmt: skip
        stranger.init(clique_genesis(5555, PERIOD, [sealer.address]))
        stranger.start()
        try:
            geth_says(stranger, "never rolls back")
            assert stranger.head() == 0
            moves(node)
        finally:
            stranger.stop()
    guard_db_is_sound(sealer)
    blocks = node.head()
    sealed = {e.height for e in sealer.seals() if e.seal is not None}
    assert set(range(1, blocks + 1)) <= sealed, "a block of the chain has no seal in the audit log"
