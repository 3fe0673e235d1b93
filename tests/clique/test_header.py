"""The clique header codec against real Goerli/Rinkeby headers and hostile RLP.

Expected values come from code we did not write: the ``rlp`` library builds and splits the RLP,
eth_utils hashes, eth_keys recovers the sealer from the seal that is really on chain.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_keys.datatypes import Signature
from eth_utils import keccak

from signer.clique import (
    CliqueHeaderError,
    clique_signing_material,
    decode_header,
    encode_header,
    seal_hash,
    sig_rlp,
)
from signer.clique.header import CliqueHeader, clique_findings
from signer.errors import InvalidRequestData, error_code

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "clique" / "real_headers.json"
EMPTY_UNCLES = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")


def _records() -> list[Any]:
    if not VECTORS.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"clique vectors not found at {VECTORS}"))]
    headers = json.loads(VECTORS.read_text())["headers"]
    return [pytest.param(record, id=record["name"]) for record in headers]


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


# --- real headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("record", _records())
def test_real_header_seal_hash_recovers_the_real_sealer(record: dict[str, Any]) -> None:
    clique_rlp = _hex(record["clique_rlp"])
    full = _hex(record["header_rlp"])
    material = clique_signing_material(clique_rlp)

    assert material.header.number == record["number"]
    assert material.header.field_count == record["field_count"] == len(rlp.decode(clique_rlp))
    assert material.sig_rlp == clique_rlp
    assert material.seal_hash == keccak(clique_rlp) == seal_hash(material.header)
    if record["expected_seal_hash"] is not None:  # published by another client's test suite
        assert material.seal_hash == _hex(record["expected_seal_hash"])
    assert material.seal_hash == _hex(record["computed_seal_hash"])

    # The seal that is on chain, recovered by eth_keys over our seal hash, names the real sealer.
    on_chain_extra = rlp.decode(full)[12]
    seal = Signature(on_chain_extra[-65:])
    assert seal.v in (0, 1)
    sealer = seal.recover_public_key_from_msg_hash(material.seal_hash).to_checksum_address()
    if record["expected_signer"] is not None:
        assert sealer.lower() == record["expected_signer"].lower()
    else:
        assert sealer.lower() in {a.lower() for a in record["allowed_signers"]}
    if record["expected_block_hash"] is not None:
        assert keccak(full) == _hex(record["expected_block_hash"])


def _as_int(item: bytes) -> int:
    return int.from_bytes(item, "big")


@pytest.mark.parametrize("record", _records())
def test_real_header_fields_round_trip(record: dict[str, Any]) -> None:
    clique_rlp = _hex(record["clique_rlp"])
    full = _hex(record["header_rlp"])
    header = decode_header(clique_rlp)

    # Field by field against the rlp library's split of the sealed header.
    items = rlp.decode(full)
    seal = items[12][-65:]
    assert (header.parent_hash, header.uncle_hash, header.coinbase) == tuple(items[0:3])
    assert (header.root, header.tx_hash, header.receipt_hash, header.bloom) == tuple(items[3:7])
    assert [header.difficulty, header.number] == [_as_int(i) for i in items[7:9]]
    assert [header.gas_limit, header.gas_used, header.time] == [_as_int(i) for i in items[9:12]]
    assert (header.extra + seal, header.mix_digest, header.nonce) == tuple(items[12:15])
    assert header.base_fee == (_as_int(items[15]) if len(items) == 16 else None)

    # And against the JSON transcription where the record has one.
    fields = record.get("fields")
    if fields is not None:
        assert header.parent_hash == _hex(fields["parentHash"])
        assert header.coinbase == _hex(fields["miner"])
        assert header.root == _hex(fields["stateRoot"])
        assert header.bloom == _hex(fields["logsBloom"])
        assert header.difficulty == fields["difficulty"]
        assert header.number == fields["number"]
        assert header.gas_limit == fields["gasLimit"]
        assert header.gas_used == fields["gasUsed"]
        assert header.time == fields["timestamp"]
        assert header.extra + seal == _hex(fields["extraData"])
        assert header.base_fee == fields.get("baseFeePerGas")

    assert encode_header(header) == clique_rlp
    assert encode_header(header, seal=seal) == full
    assert encode_header(decode_header(full)) == full
    assert clique_findings(header) == ()


@pytest.mark.parametrize("record", _records())
def test_real_header_display_hashes_the_zero_sealed_header(record: dict[str, Any]) -> None:
    clique_rlp = _hex(record["clique_rlp"])
    items = rlp.decode(clique_rlp)
    items[12] = items[12] + bytes(65)
    expected = keccak(rlp.encode(items))
    material = clique_signing_material(clique_rlp)
    assert material.display == f"clique header {record['number']} [0x{expected.hex()}]"
    assert [m.to_json() for m in material.messages()] == [
        {"name": "Clique header", "value": material.display, "type": "clique"}
    ]


# --- a canonical header built with the rlp library ------------------------------------------------


def _items(fields: int = 15) -> list[Any]:
    """A canonical header as a list of RLP items; ``fields`` 15..23."""
    items: list[Any] = [
        b"\x11" * 32,  # parent hash
        EMPTY_UNCLES,
        bytes(20),
        b"\x22" * 32,
        b"\x33" * 32,
        b"\x44" * 32,
        bytes(256),
        b"\x02",  # difficulty
        (1234).to_bytes(2, "big"),  # number
        (30_000_000).to_bytes(4, "big"),
        b"\x52\x08",
        (1_700_000_000).to_bytes(4, "big"),
        b"vanity".ljust(32, b"\x00"),
        bytes(32),
        bytes(8),
    ]
    optional: list[Any] = [
        b"\x07",  # base fee
        b"\x55" * 32,  # withdrawals hash
        b"\x01\x00",  # blob gas used
        b"",  # excess blob gas
        b"\x66" * 32,  # parent beacon root
        b"\x77" * 32,  # requests hash
        b"\x88" * 32,  # block access list hash
        b"\x09",  # slot number
    ]
    return items + optional[: fields - 15]


def _replace(index: int, value: Any, fields: int = 15) -> bytes:
    items = _items(fields)
    items[index] = value
    return bytes(rlp.encode(items))


def _error(raw: bytes) -> str:
    with pytest.raises(CliqueHeaderError) as info:
        clique_signing_material(raw)
    assert isinstance(info.value, InvalidRequestData)
    assert error_code(info.value) == -32000
    return str(info.value)


@pytest.mark.parametrize("fields", [15, 16])
def test_synthetic_header_matches_the_rlp_library(fields: int) -> None:
    raw = bytes(rlp.encode(_items(fields)))
    header = decode_header(raw)
    assert header.number == 1234 and header.gas_used == 0x5208
    assert header.base_fee == (7 if fields == 16 else None)
    assert sig_rlp(header) == encode_header(header) == raw
    assert clique_signing_material(raw).seal_hash == keccak(raw)


@pytest.mark.parametrize("fields", [17, 20, 21, 23])
def test_more_than_16_fields_are_refused_clearly(fields: int) -> None:
    raw = bytes(rlp.encode(_items(fields)))
    header = decode_header(raw)  # geth decodes these; only clique refuses them
    assert header.field_count == fields
    assert encode_header(header) == raw
    message = _error(raw)
    assert f"{fields} RLP fields" in message
    assert "only pre-Shanghai clique headers" in message
    with pytest.raises(CliqueHeaderError, match=f"{fields} RLP fields"):
        seal_hash(header)


def test_more_than_23_fields_is_an_rlp_error() -> None:
    raw = bytes(rlp.encode([*_items(23), b"\x01"]))
    assert _error(raw) == "rlp: input list has too many elements for types.Header"


# --- hostile input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "EOF"),
        (b"\x00", "rlp: expected input list for types.Header"),
        (b"\x7f", "rlp: expected input list for types.Header"),
        (b"\x80", "rlp: expected input list for types.Header"),
        (b"\x83abc", "rlp: expected input list for types.Header"),
        (b"\xc0", "rlp: too few elements for types.Header"),
        (b"\xc1\x80", "rlp: input string too short for common.Hash, decoding into (types.Header).ParentHash"),
        (b"\xff", "rlp: value size exceeds available input length"),
        (b"\xc5\x80", "rlp: value size exceeds available input length"),
        (b"\xf8\x05\x80\x80\x80\x80\x80", "rlp: non-canonical size information"),
        (b"\xf9\x00\x38" + b"\x80" * 0x38, "rlp: non-canonical size information"),
    ],
)
def test_tiny_and_malformed_inputs(raw: bytes, message: str) -> None:
    assert _error(raw) == message


def test_not_bytes() -> None:
    with pytest.raises(CliqueHeaderError, match="must be bytes"):
        decode_header("0xc0")  # type: ignore[arg-type]


def test_fourteen_fields_are_too_few() -> None:
    assert _error(bytes(rlp.encode(_items()[:14]))) == "rlp: too few elements for types.Header"


@pytest.mark.parametrize("cut", [1, 2, 3, 100, 300, -1])
def test_truncated_input(cut: int) -> None:
    raw = bytes(rlp.encode(_items(16)))
    assert _error(raw[:cut]) == "rlp: value size exceeds available input length"


@pytest.mark.parametrize(
    "prefix",
    [
        b"\xfc" + (5 << 30).to_bytes(5, "big"),  # a list claiming 5 GiB
        b"\xff" + b"\xff" * 8,  # a list claiming 2^64-1 bytes
        b"\xbf" + b"\xff" * 8,  # a string claiming 2^64-1 bytes
    ],
)
def test_length_prefix_claiming_gigabytes_fails_fast(prefix: bytes) -> None:
    start = time.perf_counter()
    # Sizes are checked against the input before the kind, as in Go, and before any allocation.
    assert _error(prefix + b"\x80" * 10) == "rlp: value size exceeds available input length"
    assert time.perf_counter() - start < 0.1


def test_element_claiming_gigabytes_inside_the_list() -> None:
    inner = b"\xbc" + (3 << 30).to_bytes(4, "big")
    raw = b"\xc5" + inner
    assert _error(raw) == "rlp: element is larger than containing list"
    raw = b"\xf8\x40" + b"\xa0" + b"\x11" * 32 + b"\xb9\xff\xff" + b"\x00" * 28
    assert _error(raw) == "rlp: element is larger than containing list"


def test_oversized_input_is_refused_before_parsing() -> None:
    raw = b"\xc0" * ((1 << 20) + 1)
    assert "the limit is 1048576" in _error(raw)


def test_trailing_bytes() -> None:
    raw = bytes(rlp.encode(_items()))
    assert _error(raw + b"\x00") == "rlp: input contains more than one value"
    assert _error(raw + raw) == "rlp: input contains more than one value"


@pytest.mark.parametrize(
    ("index", "go_type", "name"),
    [
        (0, "common.Hash", "ParentHash"),
        (2, "common.Address", "Coinbase"),
        (6, "types.Bloom", "Bloom"),
        (8, "*big.Int", "Number"),
        (10, "uint64", "GasUsed"),
        (12, "[]uint8", "Extra"),
        (14, "types.BlockNonce", "Nonce"),
    ],
)
def test_nested_list_in_a_field(index: int, go_type: str, name: str) -> None:
    raw = _replace(index, [b"\x01", b"\x02"])
    expected = f"rlp: expected input string or byte for {go_type}, decoding into (types.Header).{name}"
    assert _error(raw) == expected


@pytest.mark.parametrize(
    ("index", "value", "problem", "go_type", "name"),
    [
        (0, b"\x11" * 31, "too short", "common.Hash", "ParentHash"),
        (0, b"\x11" * 33, "too long", "common.Hash", "ParentHash"),
        (1, b"", "too short", "common.Hash", "UncleHash"),
        (2, b"\x01", "too short", "common.Address", "Coinbase"),
        (2, bytes(21), "too long", "common.Address", "Coinbase"),
        (6, bytes(255), "too short", "types.Bloom", "Bloom"),
        (13, bytes(31), "too short", "common.Hash", "MixDigest"),
        (14, bytes(9), "too long", "types.BlockNonce", "Nonce"),
        (9, bytes([1]) * 9, "too long", "uint64", "GasLimit"),
    ],
)
def test_wrong_fixed_field_sizes(index: int, value: bytes, problem: str, go_type: str, name: str) -> None:
    expected = f"rlp: input string {problem} for {go_type}, decoding into (types.Header).{name}"
    assert _error(_replace(index, value)) == expected


@pytest.mark.parametrize(
    ("index", "value", "go_type", "name"),
    [
        (8, b"\x00\x01", "*big.Int", "Number"),
        (8, b"\x00", "*big.Int", "Number"),
        (7, b"\x00\x02", "*big.Int", "Difficulty"),
        (9, b"\x00\x10\x00", "uint64", "GasLimit"),
        (10, b"\x00", "uint64", "GasUsed"),
        (11, b"\x00" * 8, "uint64", "Time"),
        (15, b"\x00\x07", "*big.Int", "BaseFee"),
    ],
)
def test_non_canonical_integers(index: int, value: bytes, go_type: str, name: str) -> None:
    expected = (
        f"rlp: non-canonical integer (leading zero bytes) for {go_type}, decoding into (types.Header).{name}"
    )
    assert _error(_replace(index, value, fields=16)) == expected


def test_the_spec_example_message_exactly() -> None:
    assert _error(_replace(8, b"\x00\x01")) == (
        "rlp: non-canonical integer (leading zero bytes) for *big.Int, decoding into (types.Header).Number"
    )


def _with_raw_item(index: int, encoded: bytes) -> bytes:
    """The canonical header with item ``index`` replaced by hand-written (non-canonical) RLP."""
    body = b"".join(encoded if i == index else bytes(rlp.encode(v)) for i, v in enumerate(_items()))
    return bytes([0xF9]) + len(body).to_bytes(2, "big") + body


@pytest.mark.parametrize(("index", "go_type", "name"), [(8, "*big.Int", "Number"), (12, "[]uint8", "Extra")])
def test_single_byte_written_as_a_string_is_non_canonical(index: int, go_type: str, name: str) -> None:
    # 0x81 0x05 is a one-byte string for a value the single byte 0x05 must encode.
    expected = f"rlp: non-canonical size information for {go_type}, decoding into (types.Header).{name}"
    assert _error(_with_raw_item(index, b"\x81\x05")) == expected


def test_long_form_length_for_a_short_string_is_non_canonical() -> None:
    assert _error(_with_raw_item(12, b"\xb8\x05hello")) == "rlp: non-canonical size information"


def test_integers_wider_than_256_bits_are_refused() -> None:
    message = _error(_replace(7, b"\x01" * 33))
    assert message.startswith("rlp: integer wider than 256 bits") and "(types.Header).Difficulty" in message
    header = decode_header(_replace(7, b"\xff" * 32))
    assert header.difficulty == (1 << 256) - 1


def test_optional_fields_are_checked_too() -> None:
    raw = _replace(16, b"\x55" * 31, fields=17)
    assert _error(raw) == (
        "rlp: input string too short for common.Hash, decoding into (types.Header).WithdrawalsHash"
    )
    raw = _replace(17, b"\x00\x01", fields=18)
    assert "(types.Header).BlobGasUsed" in _error(raw)


def test_many_elements_do_not_cost_much() -> None:
    # A list of a million single bytes: decoding stops at the first field that cannot be a hash.
    raw = b"\xfa" + (900_000).to_bytes(3, "big") + b"\x01" * 900_000
    start = time.perf_counter()
    assert _error(raw).startswith("rlp: input string too short for common.Hash")
    assert time.perf_counter() - start < 0.1


def test_random_corruption_never_escapes_as_another_exception() -> None:
    base = bytes(rlp.encode(_items(16)))
    rng = random.Random(20260521)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        data = bytearray(base)
        for _ in range(rng.randint(1, 4)):
            action = rng.random()
            position = rng.randrange(len(data))
            if action < 0.6:
                data[position] = rng.randrange(256)
            elif action < 0.8:
                del data[position : position + rng.randint(1, 40)]
            else:
                data[position:position] = rng.randbytes(rng.randint(1, 40))
        try:
            material = clique_signing_material(bytes(data))
        except CliqueHeaderError:
            outcomes["error"] += 1
        else:
            # Whatever we accept is canonical: it is exactly what we would encode.
            assert material.sig_rlp == bytes(data)
            outcomes["ok"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0
    for cut in range(len(base)):
        with pytest.raises(CliqueHeaderError):
            decode_header(base[:cut])


# --- header construction and soft checks ------------------------------------------------------------


def _header(**changes: Any) -> CliqueHeader:
    return replace(decode_header(bytes(rlp.encode(_items(16)))), **changes)


def test_header_construction_is_validated() -> None:
    with pytest.raises(CliqueHeaderError, match="ParentHash must be 32 bytes"):
        _header(parent_hash=b"\x01" * 31)
    with pytest.raises(CliqueHeaderError, match="GasLimit must be an integer"):
        _header(gas_limit=1 << 64)
    with pytest.raises(CliqueHeaderError, match="Number must be an integer"):
        _header(number=-1)
    with pytest.raises(CliqueHeaderError, match="need a BaseFee"):
        _header(base_fee=None, extra_fields=(b"\x01" * 32,))
    with pytest.raises(CliqueHeaderError, match="65 bytes"):
        encode_header(_header(), seal=bytes(64))


def test_soft_findings_flag_what_clique_verification_rejects() -> None:
    assert clique_findings(_header()) == ()
    findings = clique_findings(
        _header(
            extra=b"short",
            nonce=b"\x01" * 8,
            mix_digest=b"\x01" * 32,
            uncle_hash=b"\x02" * 32,
            difficulty=3,
        )
    )
    texts = [f.message for f in findings]
    assert all(f.typ == "WARNING" for f in findings)
    assert len(texts) == 5
    assert any("vanity" in t for t in texts) and any("nonce" in t for t in texts)
    assert any("mixDigest" in t for t in texts) and any("uncle" in t for t in texts)
    assert any("difficulty is 3" in t for t in texts)
    signers_extra = b"v" * 32 + b"\x01" * 21
    assert [f.message for f in clique_findings(_header(extra=signers_extra))] == [
        "clique header: extraData after the vanity is not a list of 20-byte signer addresses"
    ]
    # Findings never refuse the request: the material is still produced.
    raw = encode_header(_header(difficulty=3))
    assert len(clique_signing_material(raw).findings) == 1
