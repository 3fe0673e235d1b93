"""A geth-like clique sealing client: what geth (up to v1.14) did with an external signer.

geth prepared a header with 32 vanity bytes plus 65 reserved seal bytes in extraData, sent
``CliqueRLP(header)`` (the seal bytes left out) to ``account_signData`` as
``application/x-clique-header``, and copied the 65-byte R‖S‖V answer (V 0/1) into the reserved
bytes. The next block's parent hash is keccak256 of that sealed header.

The demo, the benchmark and the end-to-end tests use this module as that client, so it stays
small and fast: headers are synthetic but canonical, and recovery uses eth_keys (code we did not
write) rather than our own backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from eth_keys.datatypes import Signature as EthKeysSignature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

from signer.clique.header import (
    EMPTY_UNCLE_HASH,
    NONCE_DROP_VOTE,
    SEAL_LENGTH,
    VANITY_LENGTH,
    CliqueHeader,
    CliqueHeaderError,
    decode_header,
    encode_header,
    seal_hash,
    sig_rlp,
)
from signer.codecs.hexutil import keccak256

CLIQUE_CONTENT_TYPE = "application/x-clique-header"
ZERO_ADDRESS = bytes(20)
# keccak256(RLP("")): the root of an empty trie (no transactions, no receipts).
EMPTY_TRIE_ROOT = bytes.fromhex("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
DIFF_IN_TURN = 2
DIFF_NO_TURN = 1
# Fixed start and period, not the wall clock, so every run builds byte-identical chains.
GENESIS_TIME = 1_700_000_000
BLOCK_PERIOD = 15
DEFAULT_VANITY = b"sealward clique test chain"
DEFAULT_GAS_LIMIT = 30_000_000
DEFAULT_BASE_FEE = 7


def make_header(
    number: int,
    parent_hash: bytes,
    coinbase: bytes = ZERO_ADDRESS,
    *,
    london: bool = False,
    timestamp: int | None = None,
    difficulty: int = DIFF_IN_TURN,
    base_fee: int = DEFAULT_BASE_FEE,
    gas_limit: int = DEFAULT_GAS_LIMIT,
    gas_used: int = 0,
    vanity: bytes = DEFAULT_VANITY,
    nonce: bytes = NONCE_DROP_VOTE,
) -> CliqueHeader:
    """An unsealed clique header (15 fields, or 16 with ``london``) whose extraData is exactly the
    32-byte vanity: the form geth signs. ``coinbase`` is the vote target in clique, zero if none."""
    if len(vanity) > VANITY_LENGTH:
        raise ValueError(f"vanity is at most {VANITY_LENGTH} bytes")
    return CliqueHeader(
        parent_hash=parent_hash,
        uncle_hash=EMPTY_UNCLE_HASH,
        coinbase=coinbase,
        # A distinct, deterministic state root per block keeps synthetic headers unique.
        root=keccak256(b"sealward synthetic state" + number.to_bytes(8, "big")),
        tx_hash=EMPTY_TRIE_ROOT,
        receipt_hash=EMPTY_TRIE_ROOT,
        bloom=bytes(256),
        difficulty=difficulty,
        number=number,
        gas_limit=gas_limit,
        gas_used=gas_used,
        time=GENESIS_TIME + BLOCK_PERIOD * number if timestamp is None else timestamp,
        extra=vanity.ljust(VANITY_LENGTH, b"\x00"),
        mix_digest=bytes(32),
        nonce=nonce,
        base_fee=base_fee if london else None,
    )


def request_payload(header: CliqueHeader) -> str:
    """The ``data`` parameter geth sends: 0x-hex of CliqueRLP(header)."""
    return "0x" + sig_rlp(header).hex()


def apply_seal(header: CliqueHeader, signature65: bytes) -> bytes:
    """The full sealed header RLP: extraData = extra ‖ R‖S‖V. V must be 0 or 1, as clique needs."""
    if len(signature65) != SEAL_LENGTH:
        raise CliqueHeaderError(f"a clique seal is {SEAL_LENGTH} bytes, got {len(signature65)}")
    if signature65[64] not in (0, 1):
        raise CliqueHeaderError(f"clique seal V must be 0 or 1, got {signature65[64]}")
    return encode_header(header, seal=bytes(signature65))


def recover_sealer(full_header_rlp: bytes) -> str:
    """The EIP-55 address that sealed a full header, recovered with eth_keys."""
    header = decode_header(full_header_rlp)
    if len(header.extra) < SEAL_LENGTH:
        raise CliqueHeaderError(f"clique header extradata too short, {len(header.extra)} < {SEAL_LENGTH}")
    seal = header.extra[-SEAL_LENGTH:]
    digest = seal_hash(replace(header, extra=header.extra[:-SEAL_LENGTH]))
    try:
        public_key = EthKeysSignature(seal).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError) as exc:
        raise CliqueHeaderError(f"clique seal cannot be recovered: {exc}") from exc
    return str(public_key.to_checksum_address())


def block_hash(full_header_rlp: bytes) -> bytes:
    """The block hash: keccak256 of the full sealed header."""
    return keccak256(full_header_rlp)


class CliqueChain:
    """A sealer's chain tip: proposes the next header, takes the signature, links the next block.

    ``propose()`` returns the header to sign; ``seal(signature65)`` seals it and moves the tip.
    Only the tip is kept, so a benchmark can run it for as long as it likes.
    """

    def __init__(
        self,
        *,
        london: bool = False,
        first_number: int = 1,
        parent_hash: bytes = bytes(32),
        coinbase: bytes = ZERO_ADDRESS,
        vanity: bytes = DEFAULT_VANITY,
    ) -> None:
        self.london = london
        self.number = first_number
        self.parent_hash = parent_hash
        self.coinbase = coinbase
        self.vanity = vanity
        self._pending: CliqueHeader | None = None

    def propose(self) -> CliqueHeader:
        self._pending = make_header(
            self.number, self.parent_hash, self.coinbase, london=self.london, vanity=self.vanity
        )
        return self._pending

    def seal(self, signature65: bytes) -> bytes:
        if self._pending is None:
            raise RuntimeError("propose() a header before sealing it")
        sealed = apply_seal(self._pending, signature65)
        self.parent_hash = block_hash(sealed)
        self.number += 1
        self._pending = None
        return sealed


def build_chain(
    count: int,
    sign: Callable[[CliqueHeader], bytes],
    *,
    london: bool = False,
    first_number: int = 1,
    parent_hash: bytes = bytes(32),
) -> list[bytes]:
    """Seal ``count`` linked headers; ``sign(header)`` returns the 65-byte seal (V 0/1).

    ``sign`` receives the header so a caller can either sign ``seal_hash(header)`` directly or send
    ``request_payload(header)`` to a signer over JSON-RPC.
    """
    chain = CliqueChain(london=london, first_number=first_number, parent_hash=parent_hash)
    return [chain.seal(sign(chain.propose())) for _ in range(count)]
