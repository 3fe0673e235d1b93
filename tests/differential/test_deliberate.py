"""Each deliberate difference from clef (docs/clef-differences.md), pinned: the same request to
the real clef and the real sealward, what each answers, and sealward's answer checked with code
we did not write (eth-keys, eth-account) where it signs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_keys import keys

from tests.differential.corpus import EMPTY_UNCLES, OTHER, VECTORS, _header_fields
from tests.differential.deliberate import CRASH, DELIBERATE, explain, ui_requests
from tests.differential.harness import ADDRESS, Exchange, Pair, ScriptedUI

pytestmark = pytest.mark.e2e
CLIQUE = "application/x-clique-header"


def both(pair: Pair, ui: ScriptedUI, method: str, *params: Any) -> tuple[Exchange, Exchange]:
    ui.approve, ui.password = True, "differential-pw"
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
    raw = json.dumps(body, separators=(",", ":")).encode() + b"\n"
    clef, sealward = pair.exchange(raw)
    assert sealward.fate == "served"
    reason = explain(raw, clef, sealward)
    assert reason is not None, (clef.reply, sealward.reply)
    return clef, sealward


def result(ex: Exchange) -> Any:
    return json.loads(ex.reply or b"{}")["result"]


def recovers_to_us(digest: bytes, signature: str) -> bool:
    sig = bytes.fromhex(signature[2:])
    v = sig[64] - 27 if sig[64] >= 27 else sig[64]
    public = keys.Signature(sig[:64] + bytes([v])).recover_public_key_from_msg_hash(digest)
    return public.to_checksum_address() == ADDRESS


def published(name: str) -> dict[str, Any]:
    path = VECTORS / "eip712" / "published.json"
    if not path.is_file():
        pytest.skip(f"vectors not present at {path}")
    return next(v for v in json.loads(path.read_text())["vectors"] if v["name"] == name)


def test_every_deliberate_difference_is_documented() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "clef-differences.md").read_text()
    for entry in DELIBERATE:
        assert f'<a id="{entry.anchor}"></a>' in text, entry.anchor


def test_clique_header_with_17_fields_is_an_error_where_clef_crashes(pair: Pair, ui: ScriptedUI) -> None:
    clef, sealward = both(
        pair, ui, "account_signData", CLIQUE, ADDRESS, "0x" + rlp.encode(_header_fields(17)).hex()
    )
    assert clef.error() == CRASH
    assert sealward.error() == (
        -32000,
        "clique header has 17 RLP fields; only pre-Shanghai clique headers (15 fields, or 16 with the London "
        "base fee) can be sealed",
    )
    assert sealward.ui == [] and pair.clef.serving() and pair.sealward.serving()


def test_clique_integer_wider_than_256_bits_is_refused(pair: Pair, ui: ScriptedUI) -> None:
    header = "0x" + rlp.encode(_header_fields(15, number=2**300)).hex()
    clef, sealward = both(pair, ui, "account_signData", CLIQUE, ADDRESS, header)
    assert clef.error() is None  # clef signs a header no chain can have
    assert sealward.error() == (
        -32000,
        "rlp: integer wider than 256 bits (Sealward's limit) for *big.Int, decoding into (types.Header).Number",
    )


def test_clique_header_breaking_cliques_rules_is_signed_with_a_warning(pair: Pair, ui: ScriptedUI) -> None:
    fields = _header_fields(15)
    fields[1] = b"\x1d" * 32  # an uncle hash other than the empty list's
    assert fields[1] != EMPTY_UNCLES
    clef, sealward = both(pair, ui, "account_signData", CLIQUE, ADDRESS, "0x" + rlp.encode(fields).hex())
    assert result(clef) == result(sealward)  # the same seal: RFC 6979 on the same key and hash
    assert ui_requests(clef, "ui_approveSignData")[0]["call_info"] is None
    assert ui_requests(sealward, "ui_approveSignData")[0]["call_info"] == [
        {
            "type": "WARNING",
            "message": "clique header: uncle hash is not the empty-list hash; clique blocks have no uncles",
        }
    ]


def test_eip712_arrays_are_shown_in_full_and_signed(pair: Pair, ui: ScriptedUI) -> None:
    vector = published("arrays-person-wallets")
    clef, sealward = both(pair, ui, "account_signTypedData", ADDRESS, vector["typed_data"])
    assert clef.error() == (-32000, "unhandled type address[]")
    assert recovers_to_us(bytes.fromhex(vector["expected_digest"][2:]), result(sealward))
    shown = json.dumps(ui_requests(sealward, "ui_approveSignData")[0]["messages"])
    assert '"name": "wallets[2]"' in shown and '"name": "to[0]"' in shown


def test_eip712_recursive_types_are_signed(pair: Pair, ui: ScriptedUI) -> None:
    vector = published("recursive-family-tree")
    clef, sealward = both(pair, ui, "account_signTypedData", ADDRESS, vector["typed_data"])
    assert clef.error() == (-32000, 'type "Person" cannot reference itself')
    assert recovers_to_us(bytes.fromhex(vector["expected_digest"][2:]), result(sealward))


def test_eip712_null_array_element_is_an_error_where_clef_crashes(pair: Pair, ui: ScriptedUI) -> None:
    document = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}],
            "T": [{"name": "a", "type": "bytes[]"}],
        },
        "primaryType": "T",
        "domain": {"name": "x"},
        "message": {"a": ["0x01", None]},
    }
    clef, sealward = both(pair, ui, "account_signTypedData", ADDRESS, document)
    assert clef.error() == CRASH
    assert sealward.error() == (-32000, "provided data '<nil>' doesn't match type 'bytes'")


def test_eip712_first_invalid_type_in_document_order_is_reported(pair: Pair, ui: ScriptedUI) -> None:
    """clef's answer depends on Go's random map order; sealward's is the first in the document."""
    types = {"EIP712Domain": [{"name": "name", "type": "string"}], "A": [{"name": "x", "type": "Nope1"}],
             "B": [{"name": "y", "type": "Nope2"}], "C": [{"name": "z", "type": "string"}]}  # fmt: skip
    document = {"types": types, "primaryType": "C", "domain": {"name": "x"}, "message": {"z": "a"}}
    for _ in range(2):
        ui.approve = True
        body = {"jsonrpc": "2.0", "id": 7, "method": "account_signTypedData", "params": [ADDRESS, document]}
        clef, sealward = pair.exchange(json.dumps(body).encode() + b"\n")
        assert sealward.error() == (-32000, 'reference type "Nope1" is undefined')
        assert clef.error() in ((-32000, 'reference type "Nope1" is undefined'),
                                (-32000, 'reference type "Nope2" is undefined'))  # fmt: skip


def test_eip7702_authorization_list_is_signed_not_dropped(pair: Pair, ui: ScriptedUI) -> None:
    authorization = {
        "chainId": "0x5",
        "address": OTHER,
        "nonce": "0x0",
        "yParity": "0x0",
        "r": "0x1",
        "s": "0x1",
    }
    tx = {"from": ADDRESS, "to": OTHER, "gas": "0x5208", "value": "0x1", "nonce": "0x0",
          "maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x3b9aca00", "authorizationList": [authorization]}  # fmt: skip
    clef, sealward = both(pair, ui, "account_signTransaction", tx)
    assert result(clef)["raw"].startswith("0x02")  # clef dropped the list and signed another transaction
    raw = result(sealward)["raw"]
    assert raw.startswith("0x04") and result(sealward)["tx"]["authorizationList"]
    assert Account.recover_transaction(raw) == ADDRESS


def test_selector_clef_crashes_on_is_refused_with_its_parse_error(pair: Pair, ui: ScriptedUI) -> None:
    transfer = "0xa9059cbb" + "00" * 12 + OTHER[2:].lower() + f"{10:064x}"
    tx = {"from": ADDRESS, "to": OTHER, "gas": "0x5208", "gasPrice": "0x1", "value": "0x0", "nonce": "0x0",
          "data": transfer}  # fmt: skip
    clef, sealward = both(pair, ui, "account_signTransaction", tx, "nonsense")
    assert clef.error() == CRASH
    assert sealward.error() == (
        -32000,
        "validation failed: Transaction contains data, but provided ABI signature could not be matched: "
        "failed to parse selector: failed to parse selector 'nonsense': expected '(', got end of input",
    )


def test_gnosis_safe_hash_mismatch_is_refused_with_a_chain_id(pair: Pair, ui: ScriptedUI) -> None:
    path = VECTORS / "clef" / "inline" / "gnosisTxWithChainId.json"
    if not path.is_file():
        pytest.skip(f"vectors not present at {path}")
    tx = {**json.loads(path.read_text()), "safeTxHash": "0x" + "00" * 32}
    clef, sealward = both(pair, ui, "account_signGnosisSafeTx", ADDRESS, tx)
    assert clef.error() is None  # clef signs a hash other than the one the relay asked for
    error = sealward.error()
    assert error is not None and error[1].startswith("mismatched safeTxHash; have 0x")
    assert error[1].endswith(" want 0x" + "00" * 32)
