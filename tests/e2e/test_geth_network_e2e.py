"""Clique networks of real geth v1.13.15 nodes, each sealing through its own real Sealward
(issue 10, scenarios 3 and 4).

3. Three sealers (two SoftHSM keys, one keystore key with its password in the vault), peered,
   period 1 s, transactions flowing, 150+ blocks; each node's miner is paused once so the other
   two fill its slots out of turn. All nodes agree on every block; in-turn and out-of-turn blocks
   of all three signers are on the chain; every seal in every audit log is checked: a signer
   sealed a height on a second parent only when geth switched between sibling blocks (at most
   two parents per height: the guard's fork-switch rule, without which such a network halted;
   spacing such heights 16 apart halted it too, under load), and every block's seal is one its
   signer's Sealward returned.
4. Active/standby: a third signer's key imported into two SoftHSM tokens, served by two geth
   nodes with two Sealwards sharing one PostgreSQL guard. The instances never both seal a height,
   the key's seals obey the same parent rules, and after kill -9 of the geth of the twin that
   sealed last, and later of the other one's Sealward, the key's first slot it can take is
   sealed by the survivor within the key's next turn (three periods, four if the recents rule
   skips a slot).
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from signer.clique.guard.policy import DEFAULT_FORK_SWITCH
from signer.tools.gethnet import GethError, GethNode, clique_genesis, connect_all
from signer.tools.txflow import FUNDER, TxFlow
from tests.e2e.gethkit import (
    CHAIN_ID,
    Block,
    Sealer,
    collect,
    longest_gap,
    make_sealer,
    wait_until,
)
from tests.helpers.peers import GETH_SEALER, require_peer

pytestmark = pytest.mark.e2e


def start_network(tmp_path: Path, sealers: list[Sealer], period: int) -> list[GethNode]:
    """One geth per sealer, same genesis, all peered, then all mining as their sealer's address.

    Mining starts only once every node is peered: nodes sealing alone first would each make their
    own block 1 and then reorganise onto one of them. Every sealer would then have sealed on a
    dropped fork, so the guard refuses them all at the heights of the winning fork (a rollback or
    another parent) and the chain never gets going; that deadlock is a start-up mistake, not
    something a running network does (docs/geth.md).
    """
    geth = require_peer(GETH_SEALER)
    genesis = clique_genesis(CHAIN_ID, period, sorted({s.address for s in sealers}), {FUNDER.address: 10**24})
    nodes = []
    for sealer in sealers:
        sealer.start_signer()
        node = GethNode(geth, tmp_path / f"geth-{sealer.name}", CHAIN_ID, signer=sealer.box.socket,
                        etherbase=sealer.address, mine=False, extra_flags=["--miner.recommit", "1s"])  # fmt: skip
        sealer.node = node
        node.init(genesis)
        node.start()
        nodes.append(node)
    connect_all(nodes)
    for node in nodes:
        node.rpc("miner_start")
    return nodes


def returned_seals(sealers: list[Sealer]) -> dict[str, dict[int, dict[bytes, set[bytes]]]]:
    """address -> height -> parent -> the seals returned, over every audit log of that address."""
    out: dict[str, dict[int, dict[bytes, set[bytes]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for sealer in sealers:
        for event in sealer.seals():
            if event.seal is not None:
                out[sealer.address.lower()][event.height][event.parent_hash].add(event.seal)
    return out


def check_seals_against_chain(sealers: list[Sealer], chain: list[Block]) -> int:
    """Every seal in every audit log: at most two parents per height, and such heights (geth
    switching between siblings after a reorg) at least DEFAULT_FORK_SWITCH apart per key; every
    block's seal was returned by its signer. Returns how many switches there were."""
    seals = returned_seals(sealers)
    switches = 0
    for address, heights in seals.items():
        forked = sorted(h for h, parents in heights.items() if len(parents) > 1)
        assert all(len(heights[h]) == 2 for h in forked), f"{address}: more than two parents at {forked}"
        gaps = [b - a for a, b in itertools.pairwise(forked)]
        assert all(gap >= DEFAULT_FORK_SWITCH for gap in gaps), f"{address} switched forks at {forked}"
        switches += len(forked)
    for block in chain:
        sealed_here = seals[block.signer][block.number].get(bytes.fromhex(block.parent[2:]), set())
        assert block.seal in sealed_here, (
            f"block {block.number}: its seal was never returned by {block.signer}"
        )
    return switches


def refusal_kind(error: str) -> str:
    for kind in ("equivocation", "never rolls back", "signer instance", "behind", "ahead", "cannot reach"):
        if kind in error:
            return kind
    return error[:60]


def agree(nodes: list[GethNode], period: int) -> list[Block]:
    """Stop mining and return the one chain every node holds.

    When the miners stop, the last height may hold two siblings of equal difficulty, which
    clique leaves to a coin flip until a block is built on one of them; so one node at a time
    mines one more block, and every node follows it.
    """
    for node in nodes:
        node.rpc("miner_stop")
    for node in [*nodes, *nodes, *nodes]:  # bounded: the comparison below says if it never settled
        head = max(n.head() for n in nodes)
        if len({n.block(head)["hash"] if n.head() == head else None for n in nodes}) == 1:
            break
        node.rpc("miner_start")
        with contextlib.suppress(AssertionError):  # this node's signer may not be allowed now
            wait_until(lambda h=head: min(n.head() for n in nodes) > h, 3 * period, "one more block")
        node.rpc("miner_stop")
    head = nodes[0].head()
    chains = [collect(node, 1, head) for node in nodes]
    for other in chains[1:]:
        assert [b.hash for b in other] == [b.hash for b in chains[0]], "nodes disagree on the chain"
    return chains[0]


@pytest.mark.timeout(420)
def test_three_sealers_agree_and_never_fork(tmp_path: Path, sealers: list[Sealer]) -> None:
    period, target = 1, 150
    sealers += [make_sealer(tmp_path, "hsm-a"), make_sealer(tmp_path, "hsm-b"),
                make_sealer(tmp_path, "keystore", key="keystore")]  # fmt: skip
    nodes = start_network(tmp_path, sealers, period)
    with TxFlow(nodes, CHAIN_ID, rate=4) as flow:
        nodes[0].wait_for_block(20, timeout=60)
        for node in nodes:  # each pauses once: the other two seal its slots out of turn
            node.rpc("miner_stop")
            paused_at = node.head()
            # Not always 8 blocks: when the two left both seal the paused one's slot out of turn
            # at once, each node keeps its own equally heavy sibling (geth prefers local blocks)
            # and neither may seal the next height (clique's recents rule). That is clique's own
            # deadlock, whatever the signer; the paused miner's return ends it.
            with contextlib.suppress(GethError):
                nodes[0].wait_for_block(paused_at + 8, timeout=30)
            node.rpc("miner_start")
        nodes[0].wait_for_block(target, timeout=target * period * 3)
    chain = agree(nodes, period)
    assert len(chain) >= target and flow.sent > 0 and sum(b.txs for b in chain) > 0
    kinds = {(b.signer, b.difficulty) for b in chain}
    everyone = {s.address.lower() for s in sealers}
    assert kinds == {(a, d) for a in everyone for d in (1, 2)}, f"in-turn/out-of-turn blocks seen: {kinds}"
    switches = check_seals_against_chain(sealers, chain)
    gap = longest_gap(chain)
    reorgs = sum(n.log_path.read_text().count("Chain reorg detected") for n in nodes)
    refusals = Counter(refusal_kind(e.error) for s in sealers for e in s.seals() if e.error is not None)
    print(f"{len(chain)} blocks, {sum(b.txs for b in chain)} txs, longest gap {gap} s, {reorgs} reorgs, "
          f"out of turn: {sum(b.difficulty == 1 for b in chain)}, guard refusals: {dict(refusals)}, "
          f"fork switches: {switches}")  # fmt: skip
    assert gap <= 4 * period, f"the chain stalled for {gap} s"


def key_blocks_after(node: GethNode, address: str, since: float) -> list[Block]:
    """Canonical blocks sealed by ``address`` with a header time at or after ``since``."""
    head = node.head()
    recent = collect(node, max(1, head - 30), head)
    return [b for b in recent if b.signer == address.lower() and b.timestamp >= int(since)]


def sealed_last(twins: list[Sealer], node: GethNode, address: str) -> Sealer:
    """The twin whose Sealward returned the seal of the key's latest block."""
    latest = key_blocks_after(node, address, 0)[-1]
    for twin in twins:
        if any(e.seal == latest.seal for e in twin.seals()):
            return twin
    raise AssertionError(f"no twin returned the seal of block {latest.number}")


def takeover(node: GethNode, victim: Sealer, survivor: Sealer, killed_at: float) -> int:
    """Seconds (header time) from a kill to the key's first block sealed by the survivor.

    Counted from the kill, or from the last height the dead instance had already sealed when that
    came later: the guard never hands such a height over (its block may be out), so other signers
    fill it. In a three-signer network the key's in-turn slot comes every three blocks, so a
    healthy standby seals within three periods of the key's last block; one more period when
    that block was out of turn right before the key's slot (clique's recents rule skips the
    slot). Measured: 2 to 6 s at period 2 s.
    """

    def taken_over() -> list[Block]:
        mine = {e.seal for e in survivor.seals()}
        return [b for b in key_blocks_after(node, survivor.address, killed_at) if b.seal in mine]

    wait_until(taken_over, 60, f"a block sealed by {survivor.name} after killing {victim.name}")
    first = taken_over()[0]
    owned = max((e.height for e in victim.seals() if e.seal is not None), default=0)
    start = int(killed_at)
    if 0 < owned < first.number:
        start = max(start, int(node.block(owned)["timestamp"], 16))
    return first.timestamp - start


@pytest.mark.postgres
@pytest.mark.timeout(420)
def test_active_standby_on_one_key_never_share_a_height(
    tmp_path: Path, sealers: list[Sealer], pg_url: str
) -> None:
    period = 2
    key = secrets.token_hex(32)  # the third signer's key, imported into two tokens
    twins = [make_sealer(tmp_path, name, private_key=key) for name in ("x-one", "x-two")]
    for twin in twins:
        twin.signer_flags = ["--guard-db", pg_url]
    sealers += [make_sealer(tmp_path, "hsm-a"), make_sealer(tmp_path, "hsm-b"), *twins]
    shared = twins[0].address
    assert twins[1].address == shared
    nodes = start_network(tmp_path, sealers, period)
    watcher = nodes[0]
    with TxFlow(nodes[:2], CHAIN_ID, rate=3):
        wait_until(
            lambda: len(key_blocks_after(watcher, shared, 0)) >= 3, 30 * period, "the shared key sealing"
        )
        # 1. kill -9 the geth of the twin that sealed last: the other one takes the key's slots.
        victim = sealed_last(twins, watcher, shared)
        assert victim.node is not None
        killed_at = time.time()
        victim.node.kill()
        survivor = twins[1] if victim is twins[0] else twins[0]
        after_node_kill = takeover(watcher, victim, survivor, killed_at)
        # It comes back, catches up and competes again.
        victim.node.start()
        for node in nodes:
            if node is not victim.node:
                victim.node.connect(node)
        victim.node.rpc("miner_start")
        wait_until(lambda: victim.node is not None and victim.node.head() >= watcher.head() - 1, 60, "resync")
        watcher.wait_for_block(watcher.head() + 6, timeout=30 * period)
        # 2. kill -9 the Sealward of the twin that sealed last now.
        victim = sealed_last(twins, watcher, shared)
        killed_at = time.time()
        victim.box.kill()
        survivor = twins[1] if victim is twins[0] else twins[0]
        after_signer_kill = takeover(watcher, victim, survivor, killed_at)
        watcher.wait_for_block(watcher.head() + 6, timeout=30 * period)
    chain = agree(nodes, period)
    switches = check_seals_against_chain(sealers, chain)
    heights = [{e.height for e in twin.seals() if e.seal is not None} for twin in twins]
    assert not heights[0] & heights[1], f"both instances sealed heights {sorted(heights[0] & heights[1])}"
    owned = Counter(refusal_kind(e.error) for twin in twins for e in twin.seals() if e.error is not None)
    print(f"{len(chain)} blocks; the key's next block came {after_node_kill} s after kill -9 of a geth and "
          f"{after_signer_kill} s after kill -9 of a Sealward (period {period} s); twins sealed "
          f"{len(heights[0])} + {len(heights[1])} heights; refusals {dict(owned)}; fork switches {switches}")  # fmt: skip
    assert owned["signer instance"] > 0, "the twins never competed for a height"
    assert after_node_kill <= 4 * period and after_signer_kill <= 4 * period
