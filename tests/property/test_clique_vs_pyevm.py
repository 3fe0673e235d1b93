"""Clique headers, differential against py-evm (code we did not write): for any header of the two
shapes clique can seal (15 fields, or 16 with the London base fee), our decoder reads py-evm's
RLP field for field, our encoder writes the same bytes, and our seal hash is py-evm's header hash
of the header whose extraData lacks the seal, which is what clique signs."""

from __future__ import annotations

import sys
from typing import Any

import rlp
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from signer.clique.header import (
    CliqueHeader,
    clique_signing_material,
    decode_header,
    encode_header,
    seal_hash,
)


def _import_py_evm() -> tuple[Any, Any]:
    # py-evm raises the interpreter's recursion limit to 100,000 for the whole process when
    # imported; the rest of the suite (deep-nesting tests) must keep the default.
    limit = sys.getrecursionlimit()
    try:
        from eth.rlp.headers import BlockHeader
        from eth.vm.forks.london.blocks import LondonBlockHeader
    finally:
        sys.setrecursionlimit(limit)
    return BlockHeader, LondonBlockHeader


BlockHeader, LondonBlockHeader = _import_py_evm()
U64 = 2**64 - 1
U256 = 2**256 - 1


def fixed(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


headers = st.fixed_dictionaries(
    {
        "parent_hash": fixed(32),
        "uncles_hash": fixed(32),
        "coinbase": fixed(20),
        "state_root": fixed(32),
        "transaction_root": fixed(32),
        "receipt_root": fixed(32),
        "bloom": st.integers(0, 2**2048 - 1),
        "difficulty": st.integers(0, U256),
        "block_number": st.integers(0, U64),
        "gas_limit": st.integers(0, U64),
        "gas_used": st.integers(0, U64),
        "timestamp": st.integers(0, U64),
        "extra_data": st.binary(max_size=140),
        "mix_hash": fixed(32),
        "nonce": fixed(8),
        "base_fee_per_gas": st.none() | st.integers(0, U256),
    }
)


def _pyevm(fields: dict[str, object]) -> Any:
    fee = fields["base_fee_per_gas"]
    common = {k: v for k, v in fields.items() if k != "base_fee_per_gas"}
    if fee is None:
        return BlockHeader(**common)
    return LondonBlockHeader(**common, base_fee_per_gas=fee)


def _ours(fields: dict[str, object]) -> CliqueHeader:
    return CliqueHeader(
        fields["parent_hash"], fields["uncles_hash"], fields["coinbase"], fields["state_root"],
        fields["transaction_root"], fields["receipt_root"], int(fields["bloom"]).to_bytes(256, "big"),  # type: ignore[call-overload]
        fields["difficulty"], fields["block_number"], fields["gas_limit"], fields["gas_used"],
        fields["timestamp"], fields["extra_data"], fields["mix_hash"], fields["nonce"],
        fields["base_fee_per_gas"],
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(headers)
def test_seal_hash_and_encoding_match_py_evm(fields: dict[str, object]) -> None:
    theirs = _pyevm(fields)
    encoded = rlp.encode(theirs)
    header = decode_header(encoded)
    assert header == _ours(fields)
    assert encode_header(header) == encoded
    assert seal_hash(header) == theirs.hash == keccak(encoded)
    # What clef shows: the hash of the header with 65 zero bytes of seal appended to extraData.
    zero_sealed = _pyevm({**fields, "extra_data": fields["extra_data"] + bytes(65)})  # type: ignore[operator]
    material = clique_signing_material(encoded)
    assert material.seal_hash == theirs.hash
    assert material.display == f"clique header {fields['block_number']} [0x{zero_sealed.hash.hex()}]"
