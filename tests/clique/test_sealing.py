"""The geth-like sealing client: synthetic headers signed with eth_keys and checked with rlp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rlp
from eth_keys import keys
from eth_utils import keccak

from signer.clique import (
    CliqueHeader,
    CliqueHeaderError,
    clique_signing_material,
    decode_header,
    encode_header,
    seal_hash,
    sig_rlp,
)
from signer.clique.sealing import (
    CLIQUE_CONTENT_TYPE,
    EMPTY_TRIE_ROOT,
    CliqueChain,
    apply_seal,
    block_hash,
    build_chain,
    make_header,
    recover_sealer,
    request_payload,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "clique" / "real_headers.json"
KEY = keys.PrivateKey(keccak(b"sealward clique test key"))
OTHER_KEY = keys.PrivateKey(keccak(b"another sealer"))


def _sign(header: CliqueHeader) -> bytes:
    """What a signer answers for a clique header: R‖S‖V over the seal hash, V in {0, 1}."""
    return bytes(KEY.sign_msg_hash(keccak(sig_rlp(header))).to_bytes())


def test_empty_trie_root_constant() -> None:
    assert keccak(rlp.encode(b"")) == EMPTY_TRIE_ROOT
    assert CLIQUE_CONTENT_TYPE == "application/x-clique-header"


@pytest.mark.parametrize(("london", "fields"), [(False, 15), (True, 16)])
def test_request_payload_is_what_the_signer_decodes(london: bool, fields: int) -> None:
    header = make_header(42, b"\x01" * 32, london=london, timestamp=1_234_567)
    payload = request_payload(header)
    assert payload.startswith("0x")
    raw = bytes.fromhex(payload[2:])
    items = rlp.decode(raw)
    assert len(items) == fields
    assert items[12] == header.extra and len(header.extra) == 32
    assert int.from_bytes(items[8], "big") == 42
    assert int.from_bytes(items[11], "big") == 1_234_567
    assert decode_header(raw) == header
    material = clique_signing_material(raw)
    assert material.seal_hash == keccak(raw)
    assert material.findings == ()


@pytest.mark.parametrize("london", [False, True])
def test_sealed_header_recovers_with_eth_keys(london: bool) -> None:
    header = make_header(7, b"\x02" * 32, london=london)
    signature = KEY.sign_msg_hash(keccak(bytes.fromhex(request_payload(header)[2:])))
    assert signature.v in (0, 1)
    sealed = apply_seal(header, bytes(signature.to_bytes()))

    items = rlp.decode(sealed)
    assert len(items) == (16 if london else 15)
    assert items[12] == header.extra + bytes(signature.to_bytes())
    # Recompute the seal hash from the sealed header with the rlp library alone.
    unsealed = list(items)
    unsealed[12] = items[12][:-65]
    recovered = keys.Signature(items[12][-65:]).recover_public_key_from_msg_hash(keccak(rlp.encode(unsealed)))
    assert recovered == KEY.public_key
    assert recover_sealer(sealed) == KEY.public_key.to_checksum_address()
    assert block_hash(sealed) == keccak(sealed)


def test_tampered_header_recovers_to_someone_else() -> None:
    header = make_header(9, b"\x03" * 32)
    signature = _sign(header)
    tampered = apply_seal(make_header(9, b"\x03" * 32, gas_used=1), signature)
    assert recover_sealer(apply_seal(header, signature)) == KEY.public_key.to_checksum_address()
    assert recover_sealer(tampered) != KEY.public_key.to_checksum_address()


@pytest.mark.parametrize("london", [False, True])
def test_build_chain_links_parents_and_recovers_every_block(london: bool) -> None:
    blocks = build_chain(5, _sign, london=london, first_number=100, parent_hash=b"\x09" * 32)
    assert len(blocks) == 5
    parent = b"\x09" * 32
    for offset, sealed in enumerate(blocks):
        items = rlp.decode(sealed)
        assert items[0] == parent
        assert int.from_bytes(items[8], "big") == 100 + offset
        assert len(items) == (16 if london else 15)
        assert recover_sealer(sealed) == KEY.public_key.to_checksum_address()
        parent = keccak(sealed)
    # Synthetic chains are deterministic: the benchmark and e2e tests can compare runs.
    assert build_chain(5, _sign, london=london, first_number=100, parent_hash=b"\x09" * 32) == blocks


def test_chain_with_two_sealers() -> None:
    chain = CliqueChain()
    first = chain.seal(_sign(chain.propose()))
    header = chain.propose()
    second = chain.seal(bytes(OTHER_KEY.sign_msg_hash(seal_hash(header)).to_bytes()))
    assert recover_sealer(first) == KEY.public_key.to_checksum_address()
    assert recover_sealer(second) == OTHER_KEY.public_key.to_checksum_address()
    assert rlp.decode(second)[0] == keccak(first)
    with pytest.raises(RuntimeError, match="propose"):
        chain.seal(_sign(header))


def test_apply_seal_rejects_ethereum_v_and_wrong_length() -> None:
    header = make_header(1, bytes(32))
    signature = bytearray(_sign(header))
    signature[64] += 27
    with pytest.raises(CliqueHeaderError, match=r"V must be 0 or 1, got 2[78]"):
        apply_seal(header, bytes(signature))
    with pytest.raises(CliqueHeaderError, match="65 bytes, got 64"):
        apply_seal(header, bytes(signature[:64]))


def test_recover_sealer_rejects_bad_seals() -> None:
    header = make_header(1, bytes(32))
    with pytest.raises(CliqueHeaderError, match="extradata too short, 32 < 65"):
        recover_sealer(bytes.fromhex(request_payload(header)[2:]))
    # encode_header does not judge the seal, so it can write ones apply_seal refuses.
    for bad_seal in (_sign(header)[:64] + b"\x02", _sign(header)[:64] + b"\x1b", bytes(65)):
        with pytest.raises(CliqueHeaderError, match="cannot be recovered"):
            recover_sealer(encode_header(header, seal=bad_seal))


def test_make_header_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="vanity"):
        make_header(1, bytes(32), vanity=b"x" * 33)
    with pytest.raises(CliqueHeaderError, match="ParentHash"):
        make_header(1, bytes(31))
    assert make_header(1, bytes(32)).difficulty == 2
    assert make_header(1, bytes(32), london=True).base_fee == 7


@pytest.mark.skipif(not VECTORS.is_file(), reason=f"clique vectors not found at {VECTORS}")
def test_recover_sealer_on_real_headers() -> None:
    for record in json.loads(VECTORS.read_text())["headers"]:
        full = bytes.fromhex(record["header_rlp"][2:])
        assert recover_sealer(full) == record["recovered_signer"], record["name"]
        if record["expected_signer"]:
            assert recover_sealer(full).lower() == record["expected_signer"].lower()
