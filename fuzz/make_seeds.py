"""Write the starting inputs of each fuzz target into fuzz/seeds/<target>/ (committed).

Small, valid examples written here by hand, so the fuzzer starts inside the interesting part of
each format instead of spending its time learning JSON: ``python -m fuzz.make_seeds``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from signer.clique.sealing import make_header, request_payload

HERE = Path(__file__).resolve().parent
A = "0x9160DC9105f7De5dC5E7f3d97ef11DA47269BdA6"
B = "0x" + "ab" * 20


def _typed() -> dict[str, object]:
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}],
            "Person": [{"name": "name", "type": "string"}, {"name": "wallets", "type": "address[]"}],
            "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person[]"},
                     {"name": "contents", "type": "string"}, {"name": "amount", "type": "uint8"},
                     {"name": "hash", "type": "bytes32"}, {"name": "ok", "type": "bool"}],
        },
        "primaryType": "Mail",
        "domain": {"name": "Ether Mail", "chainId": "0x1", "verifyingContract": B},
        "message": {"from": {"name": "Cow", "wallets": [A]}, "to": [{"name": "Bob", "wallets": []}],
                    "contents": "Hello", "amount": 7, "hash": "0x" + "11" * 32, "ok": True},
    }  # fmt: skip


def _txs() -> list[dict[str, object]]:
    base = {"from": A, "to": B, "gas": "0x5208", "value": "0x1", "nonce": "0x0", "chainId": "0x1"}
    return [
        {**base, "gasPrice": "0x3b9aca00"},
        {**base, "maxFeePerGas": "0x10", "maxPriorityFeePerGas": "0x1", "input": "0xa9059cbb" + "00" * 64},
        {**base, "gasPrice": "0x1", "accessList": [{"address": B, "storageKeys": ["0x" + "00" * 32]}]},
        {**base, "to": None, "maxFeePerGas": "0x10", "maxPriorityFeePerGas": "0x1", "data": "0x6000"},
        {**base, "maxFeePerGas": "0x10", "maxPriorityFeePerGas": "0x1", "maxFeePerBlobGas": "0x1",
         "blobVersionedHashes": ["0x01" + "00" * 31]},
        {**base, "maxFeePerGas": "0x10", "maxPriorityFeePerGas": "0x1",
         "authorizationList": [{"chainId": "0x1", "address": B, "nonce": "0x0", "yParity": "0x0",
                                "r": "0x1", "s": "0x1"}]},
    ]  # fmt: skip


def _safe() -> dict[str, object]:
    return {"safe": B, "to": A, "value": "0", "data": "0x", "operation": 0, "safeTxGas": "0", "baseGas": "0",
            "gasPrice": "0", "gasToken": "0x" + "00" * 20, "refundReceiver": "0x" + "00" * 20, "nonce": 1,
            "safeTxHash": "0x" + "00" * 32, "sender": A, "chainId": "0x1"}  # fmt: skip


def _request(rid: int, method: str, *params: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)}).encode()


def seeds() -> dict[str, list[bytes]]:
    header = bytes.fromhex(request_payload(make_header(7, b"\x01" * 32))[2:])
    london = bytes.fromhex(request_payload(make_header(8, b"\x02" * 32, london=True))[2:])
    typed = json.dumps(_typed()).encode()
    txs = [json.dumps(t).encode() for t in _txs()]
    return {
        "framing": [_request(1, "account_version") + b"\n" + _request(2, "account_signData", "text/plain", A, "0x01"),
                    b"[" + _request(3, "account_version") + b"," + _request(4, "nope") + b"]", b'"x"{}[]42 '],
        "http_body": [_request(1, "account_signTransaction", _txs()[0]), b"[]", b"[1,{}]"],
        "http_chunked": [b"\x40" + b"5\r\nhello\r\n0\r\n\r\n", b"\x04" + b"a;x=1\r\n0123456789\r\n0\r\nT: 1\r\n\r\n",
                         b"\xff" + b"2\r\n{}XX"],
        "hex_and_address": [b"0x", b"0x01", b"0xdeadBEEF", A.encode(), b"0x" + b"0" * 64],
        "media_type": [b"text/plain", b"application/x-clique-header", b"text/plain; charset=utf-8",
                       b'multipart/mixed; boundary="a b"', b"data/typed;a=1;b*=utf-8''%41"],
        "clique_header": [header, london],
        "sign_data": [b"\x00hello", b"\x01" + b"\x01" * 20 + b"msg", b"\x02" + header, b"\x03" + typed],
        "transaction": txs,
        "blobs": [json.dumps({**_txs()[4], "blobs": ["0x" + "00" * 16], "commitments": [], "proofs": []}).encode()],
        "eip712_text": [typed],
        "eip712_json": [typed],
        "abi_calldata": [b"\x14transfer(address,uint256)" + bytes.fromhex("a9059cbb") + b"\x00" * 64,
                         b"\x18f(uint8[2],(bytes,string))" + b"\x00" * 100],
        "gnosis_safe": [json.dumps(_safe()).encode()],
        "ledger_raw_transaction": [b"\x02\xc0", bytes.fromhex("e80185012a05f200825208940000000000000000000000000000000000000000808001")],
        "http_headers": [b"localhost:8550", b"[::1]:80", b"gzip;q=0.5, br", b"x-a, content-type", b"5242880"],
    }  # fmt: skip


def main() -> None:
    for target, inputs in seeds().items():
        folder = HERE / "seeds" / target
        folder.mkdir(parents=True, exist_ok=True)
        for data in inputs:
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


if __name__ == "__main__":
    main()
