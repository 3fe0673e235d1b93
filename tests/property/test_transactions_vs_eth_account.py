"""Transactions, differential against eth-account (code we did not write): for any legacy,
EIP-2930 or EIP-1559 request, the digest we sign is eth-account's signing hash of the same
transaction and the raw bytes we return are exactly what eth-account's own signer produces with
the same key (both sign deterministically, RFC 6979)."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_account.typed_transactions import TypedTransaction
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.codecs.txcheck import KEY, SENDER, sign_request

U64 = 2**64 - 1
U256 = 2**256 - 1
CHAIN = 1337

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)  # geth sends EIP-55
quantities = st.integers(0, U256)
access_lists = st.lists(
    st.fixed_dictionaries({"address": addresses, "storageKeys": st.lists(st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()), max_size=3)}),
    max_size=3,
)  # fmt: skip


@st.composite
def requests(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the JSON request geth sends, the same transaction as an eth-account dict)."""
    kind = draw(st.sampled_from(["legacy", "2930", "1559"]))
    to = draw(st.none() | addresses)
    nonce, gas = draw(st.integers(0, U64 - 1)), draw(st.integers(0, U64))
    value = draw(quantities)
    data = draw(st.binary(max_size=200))
    request: dict[str, Any] = {"to": to, "gas": hex(gas), "value": hex(value), "nonce": hex(nonce),
                               "input": "0x" + data.hex(), "chainId": hex(CHAIN)}  # fmt: skip
    theirs: dict[str, Any] = {"to": to or b"", "gas": gas, "value": value, "nonce": nonce, "data": data,
                              "chainId": CHAIN}  # fmt: skip
    if kind in ("legacy", "2930"):
        price = draw(quantities)
        request["gasPrice"], theirs["gasPrice"] = hex(price), price
    else:
        fee, tip = draw(quantities), draw(quantities)
        request.update(maxFeePerGas=hex(fee), maxPriorityFeePerGas=hex(tip))
        theirs.update(maxFeePerGas=fee, maxPriorityFeePerGas=tip, type=2)
    if kind != "legacy":
        access = draw(access_lists)
        request["accessList"] = access
        theirs["accessList"] = access
        theirs.setdefault("type", 1)
    return request, theirs


@settings(max_examples=200, deadline=None)
@given(requests())
def test_digest_and_signed_bytes_match_eth_account(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    request, theirs = pair
    payload, raw, tx_json = sign_request(request, CHAIN)
    if "type" in theirs:
        digest = TypedTransaction.from_dict(theirs).hash()
    else:
        digest = serializable_unsigned_transaction_from_dict(theirs).hash()
    assert payload.digest == digest
    signed = Account.sign_transaction(theirs, KEY)
    assert raw == bytes(signed.raw_transaction)
    assert tx_json["hash"] == "0x" + bytes(signed.hash).hex()
    assert Account.recover_transaction(raw) == SENDER
