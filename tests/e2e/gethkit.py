"""Test-only parts of the real-geth scenarios: a sealing node (Sealward + geth), a flow of
transactions, chain collection and independent seal checks, and logs printed on failure.

The reusable geth parts (genesis, process, RPC, peering) are in ``signer.tools.gethnet``.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth_keys.datatypes import Signature as EthSignature
from eth_utils.crypto import keccak

from signer.tools.gethnet import GethNode
from signer.tools.sandbox import Sandbox
from signer.tools.sealaudit import SealEvent, read_seals

CHAIN_ID = 4242


@dataclass
class Sealer:
    """One clique sealer: a Sealward (its own configdir and key) serving one geth over IPC."""

    name: str
    box: Sandbox
    address: str
    rules: Path
    signer_flags: list[str] = field(default_factory=list)
    node: GethNode | None = None

    @property
    def signer_log(self) -> Path:
        return self.box.work / "sealward.log"

    @property
    def audit_log(self) -> Path:
        return self.box.work / "audit.log"

    def start_signer(self, *extra: str) -> None:
        self.box.start("--chainid", str(CHAIN_ID), "--loglevel", "3", *self.signer_flags, *extra,
                       rules=self.rules, log=self.signer_log)  # fmt: skip

    def seals(self) -> list[SealEvent]:
        return read_seals(self.audit_log)

    def stop(self) -> None:
        if self.node is not None:
            self.node.stop()
        self.box.stop()

    def logs(self, lines: int = 40) -> str:
        signer = "\n".join(self.signer_log.read_text(errors="replace").splitlines()[-lines:]) \
            if self.signer_log.exists() else "(no signer log)"  # fmt: skip
        geth = self.node.log_tail(lines) if self.node is not None else "(no geth)"
        return f"----- {self.name}: sealward log tail -----\n{signer}\n----- {self.name}: geth log tail -----\n{geth}"


def make_sealer(work: Path, name: str, key: str = "softhsm", private_key: str | None = None) -> Sealer:
    """A vault, a key (SoftHSM, generated or imported; or a keystore file with its password in
    the vault) and the walkthrough's clique rules attested."""
    box = Sandbox(work / name)
    box.work.mkdir(parents=True, exist_ok=True)
    box.init_vault()
    address = box.keystore_key() if key == "keystore" else box.softhsm_key(f"tok-{name}", private_key)
    return Sealer(name, box, address, box.attest())


@dataclass(frozen=True)
class Block:
    number: int
    hash: str
    parent: str
    timestamp: int
    difficulty: int
    signer: str  # lowercase, as geth's clique_getSigner reports it
    seal: bytes  # the 65 bytes at the end of extraData
    txs: int


def recover_sealer(raw_header: bytes) -> tuple[str, bytes]:
    """(sealer, seal) of a full header RLP, with pyrlp and eth-keys only (none of our code)."""
    fields = rlp.decode(raw_header)
    seal = bytes(fields[12][-65:])
    unsealed = list(fields)
    unsealed[12] = fields[12][:-65]
    digest = keccak(rlp.encode(unsealed))
    return EthSignature(seal).recover_public_key_from_msg_hash(digest).to_checksum_address().lower(), seal


def collect(node: GethNode, first: int = 1, last: int | None = None) -> list[Block]:
    """The canonical blocks first..last (head by default) as this node sees them; the sealer is
    what geth reports, checked against an independent recovery from the raw header."""
    last = node.head() if last is None else last
    blocks = []
    for number in range(first, last + 1):
        found: dict[str, Any] = node.block(number)
        signer = node.clique_signer(number).lower()
        recovered, seal = recover_sealer(node.raw_header(number))
        assert recovered == signer, f"block {number}: geth says {signer}, the header recovers to {recovered}"
        blocks.append(Block(number, found["hash"], found["parentHash"], int(found["timestamp"], 16),
                            int(found["difficulty"], 16), signer, seal, len(found["transactions"])))  # fmt: skip
    return blocks


def longest_gap(blocks: list[Block]) -> int:
    """The longest time between consecutive blocks, in seconds of header time."""
    return max((b.timestamp - a.timestamp for a, b in itertools.pairwise(blocks)), default=0)


def wait_until(predicate: Any, timeout: float, what: str, step: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
