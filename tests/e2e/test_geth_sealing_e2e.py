"""Real geth v1.13.15 seals a clique chain through the real Sealward (issue 10, scenarios 1 and 2).

1. The seed walkthrough: a SoftHSM key whose PIN is in the vault, the walkthrough's clique rules
   attested, the guard at its default, `geth --signer clef.ipc --mine`: 20+ blocks, each sealed by
   the HSM key as geth reports it and as pyrlp + eth-keys recover it.
2. A busy chain never halts: transactions keep arriving, so geth re-seals each height every
   recommit (1 s). At period 2 s and at period 20 s (about 19 requests per height, where the first
   guard refused the 10th and halted the chain) blocks keep coming with no gap above 3 periods,
   and the guard still refuses a fork and a rollback sent over the same socket.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from pathlib import Path

import pytest

from signer.clique.sealing import make_header, request_payload
from signer.tools.gethnet import GethNode, clique_genesis
from signer.tools.ipcclient import IpcClient, RpcError
from signer.tools.txflow import FUNDER, TxFlow
from tests.e2e.gethkit import CHAIN_ID, Sealer, collect, longest_gap, make_sealer
from tests.helpers.peers import GETH_SEALER, require_peer

pytestmark = pytest.mark.e2e
CLIQUE = "application/x-clique-header"


def start_single_sealer(
    tmp_path: Path, sealers: list[Sealer], period: int, *signer_flags: str
) -> tuple[Sealer, GethNode]:
    geth = require_peer(GETH_SEALER)
    sealer = make_sealer(tmp_path, "hsm")
    sealers.append(sealer)
    sealer.start_signer(*signer_flags)
    node = GethNode(geth, tmp_path / "geth", CHAIN_ID, signer=sealer.box.socket, etherbase=sealer.address,
                    extra_flags=["--miner.recommit", "1s"])  # fmt: skip
    sealer.node = node
    node.init(clique_genesis(CHAIN_ID, period, [sealer.address], {FUNDER.address: 10**24}))
    node.start()
    return sealer, node


def check_every_block_is_ours(sealer: Sealer, node: GethNode, first: int = 1) -> None:
    """geth's clique_getSigner and an independent recovery name our key for every block, and each
    block's seal is one Sealward returned for that height (its audit log)."""
    blocks = collect(node, first)
    assert {b.signer for b in blocks} == {sealer.address.lower()}
    returned = {(e.height, e.seal) for e in sealer.seals() if e.seal is not None}
    missing = [b.number for b in blocks if (b.number, b.seal) not in returned]
    assert not missing, f"blocks whose seal Sealward never returned: {missing}"


@pytest.mark.timeout(180)
def test_walkthrough_with_real_geth_seals_20_blocks_on_the_hsm_key(
    tmp_path: Path, sealers: list[Sealer]
) -> None:
    sealer, node = start_single_sealer(tmp_path, sealers, period=1)
    node.wait_for_block(20, timeout=90)
    check_every_block_is_ours(sealer, node)
    assert all(e.error is None for e in sealer.seals()), "an honest geth was refused"


def assert_guard_still_refuses_forks_and_rollbacks(sealer: Sealer, switch_allowed: bool) -> None:
    """Over the socket geth uses, while geth runs: a lower height, a fork at the top height with
    an old timestamp, and a second fresh fork are refused; a first fresh fork is a fork switch,
    allowed (once per height, or once in N heights with --seal-guard-fork-switch N) unless
    --seal-guard-fork-switch 0."""
    top = max(e.height for e in sealer.seals() if e.seal is not None)
    now = int(time.time())
    with IpcClient(sealer.box.socket) as client:

        def seal(height: int, timestamp: int) -> str | None:
            header = make_header(height, secrets.token_bytes(32), london=True, timestamp=timestamp)
            try:
                client.call("account_signData", CLIQUE, sealer.address, request_payload(header))
            except RpcError as exc:
                return exc.message
            return None

        assert "never rolls back" in str(seal(top - 3, now))
        assert re.search(r"another parent .* behind|never rolls back", str(seal(top, now - 120)))
        forks = [seal(top, now), seal(top, now)]  # geth may seal top + 1 meanwhile: then rollbacks
        refused = [f for f in forks if f is not None]
        assert all(re.search("equivocation|never rolls back", f) for f in refused), refused
        assert len(refused) >= (1 if switch_allowed else 2), forks


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("period", "blocks", "min_reseals", "fork_switch"),
    [
        (2, 12, 1, "0"),  # about one re-seal per height; a single sealer needs no fork switch
        (20, 3, 10, "16"),  # about 19 per height: the first guard refused the 10th
    ],
)
def test_a_busy_chain_never_halts(
    tmp_path: Path, sealers: list[Sealer], period: int, blocks: int, min_reseals: int, fork_switch: str
) -> None:
    sealer, node = start_single_sealer(tmp_path, sealers, period, "--seal-guard-fork-switch", fork_switch)
    node.wait_for_block(1, timeout=30)
    with TxFlow([node], CHAIN_ID, rate=3):
        start = node.head()
        node.wait_for_block(start + blocks, timeout=blocks * period * 3 + 30)
        assert_guard_still_refuses_forks_and_rollbacks(sealer, fork_switch != "0")
    chain = collect(node, start)
    assert sum(b.txs for b in chain) > 0
    assert longest_gap(chain) <= 3 * period, f"a gap of {longest_gap(chain)} s at period {period} s"
    check_every_block_is_ours(sealer, node)
    # geth's own requests are those on the chain's blocks (the test's forks have random parents).
    parent_of = {b.number: bytes.fromhex(b.parent[2:]) for b in chain}
    honest = [e for e in sealer.seals() if parent_of.get(e.height) == e.parent_hash]
    refused = [e.error for e in honest if e.error is not None]
    assert not refused, f"geth's own requests were refused: {refused[:3]}"
    per_height = Counter(e.height for e in honest if e.seal is not None)
    print(f"period {period} s: {len(chain)} blocks, {sum(b.txs for b in chain)} txs, longest gap "
          f"{longest_gap(chain)} s, seals per height {sorted(per_height.values())}")  # fmt: skip
    assert max(per_height.values()) >= 1 + min_reseals, f"re-seals per height: {per_height}"
