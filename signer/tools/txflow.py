"""A steady flow of value transfers into geth, so its miner keeps finding new work and re-seals
every recommit (what a busy chain asks of its signer). Used by the real-geth tests and the soak run.
"""

from __future__ import annotations

import secrets
import threading

from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from signer.tools.gethnet import GethError, GethNode, RpcFailed

# A funded account whose key the caller holds (never a sealer): it pays for the transaction flow.
# Fund it in the genesis (``clique_genesis(..., alloc={FUNDER.address: ...})``).
FUNDER = Account.from_key(keccak(b"sealward geth e2e funder"))


class TxFlow:
    """Value transfers from FUNDER, signed here and sent raw, ``rate`` per second, so geth keeps
    finding new transactions and re-seals every recommit. Survives a node going away."""

    def __init__(self, nodes: list[GethNode], chain_id: int, rate: float = 3.0) -> None:
        self.nodes = nodes
        self.chain_id = chain_id
        self.interval = 1.0 / rate
        self.sent = 0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TxFlow:
        self._thread.start()
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
        if error is None and self.sent == 0:
            raise GethError(f"no transaction was sent ({self.failures} failures)")

    def _run(self) -> None:
        nonce: int | None = None
        turn = 0
        while not self._stop.wait(self.interval):
            node = self.nodes[turn % len(self.nodes)]
            turn += 1
            try:
                if nonce is None:
                    nonce = int(node.rpc("eth_getTransactionCount", FUNDER.address, "pending"), 16)
                recipient = to_checksum_address(secrets.token_bytes(20))
                tx = {"to": recipient, "value": 1, "gas": 21_000, "gasPrice": 3 * 10**9,
                      "nonce": nonce, "chainId": self.chain_id}  # fmt: skip
                raw = Account.sign_transaction(tx, FUNDER.key).raw_transaction
                node.rpc("eth_sendRawTransaction", "0x" + raw.hex(), timeout=5)
                nonce += 1
                self.sent += 1
            except (OSError, RpcFailed, GethError):
                self.failures += 1
                nonce = None  # ask again: the node may have restarted or the pool dropped one
