"""The request corpus sent to clef and sealward alike: every ``account_*`` method and content type,
clef's own vectors, clique headers of every length, each transaction type and validation warning,
malformed envelopes, parameters and hex. Each case is the raw bytes a caller sends, plus what the
scripted person answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp

from tests.differential.harness import ADDRESS, PASSWORD

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors"
LOWER = ADDRESS.lower()
OTHER = "0x8A8eAFb1cf62BfBeb1741769DAE1a9dd47996192"  # a checksummed address that is not ours
ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    approve: bool = True
    password: str = PASSWORD
    timeout: float = 15  # seconds to wait for the reply (a light-KDF signature takes < 1 s)


def call(name: str, method: str, *params: Any, approve: bool = True, password: str = PASSWORD) -> Case:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return Case(name, json.dumps(body, separators=(",", ":")).encode() + b"\n", approve, password)


def raw(name: str, text: str | bytes) -> Case:
    """A message as bytes; envelopes are answered at once or never, so wait briefly."""
    data = text if isinstance(text, bytes) else text.encode()
    return Case(name, data + b"\n", timeout=3)


def vector(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text())


def vectors_present() -> bool:
    return (VECTORS / "clef").is_dir()


# --- envelopes, methods, parameter counts -------------------------------------------------


def envelope_cases() -> Iterator[Case]:
    yield call("version", "account_version")
    yield call("list", "account_list")
    yield call("rpc_modules", "rpc_modules")
    for method in ("account_foo", "eth_accounts", "clef_listAccounts", "clef_chainId", "", "rpc_foo",
                   "account_", "Account_version", "account_version_", "ui_approveTx", "account_import"):  # fmt: skip
        yield call(f"unknown method {method!r}", method)
    yield call("version with a parameter", "account_version", 1)
    yield call("list with parameters", "account_list", "a", "b")
    version = '"method":"account_version"'
    for label, envelope in [
        ("params absent", f'{{"jsonrpc":"2.0","id":1,{version}}}'),
        ("params null", f'{{"jsonrpc":"2.0","id":1,{version},"params":null}}'),
        ("params object", f'{{"jsonrpc":"2.0","id":1,{version},"params":{{}}}}'),
        ("params string", f'{{"jsonrpc":"2.0","id":1,{version},"params":"x"}}'),
        ("params number", f'{{"jsonrpc":"2.0","id":1,{version},"params":5}}'),
        ("id string", f'{{"jsonrpc":"2.0","id":"abc",{version}}}'),
        ("id null", f'{{"jsonrpc":"2.0","id":null,{version}}}'),
        ("id float", f'{{"jsonrpc":"2.0","id":1.5,{version}}}'),
        ("id huge", f'{{"jsonrpc":"2.0","id":100000000000000000000000000000,{version}}}'),
        ("id negative", f'{{"jsonrpc":"2.0","id":-7,{version}}}'),
        ("id object", f'{{"jsonrpc":"2.0","id":{{"a":1}},{version}}}'),
        ("id array", f'{{"jsonrpc":"2.0","id":[1],{version}}}'),
        ("id bool", f'{{"jsonrpc":"2.0","id":true,{version}}}'),
        ("jsonrpc missing", f'{{"id":1,{version}}}'),
        ("jsonrpc 1.0", f'{{"jsonrpc":"1.0","id":1,{version}}}'),
        ("jsonrpc number", f'{{"jsonrpc":2,"id":1,{version}}}'),
        ("method number", '{"jsonrpc":"2.0","id":1,"method":5}'),
        ("method missing", '{"jsonrpc":"2.0","id":1}'),
        ("method null", '{"jsonrpc":"2.0","id":1,"method":null}'),
        ("duplicate keys", f'{{"jsonrpc":"2.0","id":1,"method":"nope",{version}}}'),
        ("unicode method", '{"jsonrpc":"2.0","id":1,"method":"account_v\\u00e9rsion"}'),
        ("result instead of method", '{"jsonrpc":"2.0","id":1,"result":5}'),
        ("error instead of method", '{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"x"}}'),
        (
            "batch of two",
            f'[{{"jsonrpc":"2.0","id":1,{version}}},{{"jsonrpc":"2.0","id":2,"method":"nope"}}]',
        ),
        ("batch with junk", f'[{{"jsonrpc":"2.0","id":1,{version}}},5,"x",null,[]]'),
        (
            "batch with a notification",
            f'[{{"jsonrpc":"2.0",{version}}},{{"jsonrpc":"2.0","id":2,{version}}}]',
        ),
        ("empty batch", "[]"),
        ("batch of numbers", "[1,2,3]"),
        ("nested batch", f'[[{{"jsonrpc":"2.0","id":1,{version}}}]]'),
        ("empty object", "{}"),
        ("null", "null"),
        ("number", "5"),
        ("string", '"account_version"'),
        ("true", "true"),
        ("garbage", "garbage"),
        ("unclosed object", '{"jsonrpc":"2.0","id":1'),
        ("bad escape", '{"jsonrpc":"2.0","id":1,"method":"\\q"}'),
        ("trailing comma", f'{{"jsonrpc":"2.0","id":1,{version},}}'),
        ("single quotes", "{'jsonrpc':'2.0'}"),
        ("latin-1 letter in method", '{"jsonrpc":"2.0","id":1,"method":"account_\xff"}'),
    ]:
        yield raw(f"envelope: {label}", envelope)
    yield raw("notification (no id)", f'{{"jsonrpc":"2.0",{version}}}')
    yield raw("batch of notifications only", f'[{{"jsonrpc":"2.0",{version}}}]')
    yield raw("invalid utf-8 in method", b'{"jsonrpc":"2.0","id":1,"method":"account_\xff\xfe"}')
    yield raw("invalid utf-8 in a string param", b'{"jsonrpc":"2.0","id":1,"method":"account_signData","params":["text/\xff","'
              + ADDRESS.encode() + b'","0x00"]}')  # fmt: skip
    yield raw("upper-case envelope keys", '{"JSONRPC":"2.0","ID":1,"METHOD":"account_version"}')
    yield raw("method name 3000 characters", '{"jsonrpc":"2.0","id":1,"method":"' + "a" * 3000 + '"}')
    yield raw("whitespace around", f'  \t{{"jsonrpc":"2.0","id":1,{version}}}  ')
    # Parameter counts and types for every method.
    for method, most in (("account_signData", 3), ("account_signTypedData", 2), ("account_ecRecover", 2),
                         ("account_signTransaction", 2), ("account_signGnosisSafeTx", 3)):  # fmt: skip
        for count in range(most + 2):
            yield call(f"{method} with {count} null params", method, *([None] * count))
    for value in (5, "x", True, [], {}, 1.5):
        yield call(f"signData address {value!r}", "account_signData", "text/plain", value, "0x00")
        yield call(f"signTypedData address {value!r}", "account_signTypedData", value, {})
        yield call(f"signTransaction args {value!r}", "account_signTransaction", value)
        yield call(f"ecRecover data {value!r}", "account_ecRecover", value, "0x00")
        yield call(f"gnosis tx {value!r}", "account_signGnosisSafeTx", ADDRESS, value)


# --- account_signData ---------------------------------------------------------------------


def sign_data_cases() -> Iterator[Case]:
    hello = "0x68656c6c6f"
    for content_type in ("text/plain", "TEXT/PLAIN", "text/plain; charset=utf-8", " text/plain ", "text/plain;",
                         "text/validator", "application/clique", "data/plain", "foo", "", "/", "text/",
                         "text/plain; a", "a/b/c", "text/plain;charset", 'text/plain; a="b', "x-custom/type; q=1",
                         "Data/Validator", "DATA/TYPED", "\u00e9/x"):  # fmt: skip
        yield call(
            f"signData content type {content_type!r}", "account_signData", content_type, ADDRESS, hello
        )
    for value in (5, None, True, [], {}):
        yield call(f"signData content type {value!r}", "account_signData", value, ADDRESS, hello)
    for label, data in [("empty 0x", "0x"), ("empty", ""), ("odd", "0x0"), ("no prefix", "68656c"),
                        ("bad digit", "0xzz"), ("0X prefix", "0X6869"), ("upper hex", "0xABCD"),
                        ("invalid utf-8", "0xfffe00c3"), ("control bytes", "0x0001021b5b33316d0a0d"),
                        ("html", "0x" + b"<a href='x'>&amp;</a>".hex()), ("unicode", "0x" + "héllo ✓".encode().hex()),
                        ("u2028", "0x" + "\u2028\u2029".encode().hex()), ("1 KiB", "0x" + "61" * 1024),
                        ("number", 5), ("null", None), ("object", {"a": 1}), ("array", ["0x00"]),
                        ("bool", False), ("float", 1.5)]:  # fmt: skip
        yield call(f"signData text {label}", "account_signData", "text/plain", ADDRESS, data)
    for label, address in [("lowercase", LOWER), ("uppercase", "0x" + ADDRESS[2:].upper()), ("0X", "0X" + ADDRESS[2:]),
                           ("bad checksum", ADDRESS[:-1] + "a"), ("short", ADDRESS[:-2]), ("long", ADDRESS + "00"),
                           ("unknown", OTHER), ("zero", ZERO), ("no prefix", ADDRESS[2:]), ("empty", ""),
                           ("bad hex", "0x" + "zz" * 20)]:  # fmt: skip
        yield call(f"signData address {label}", "account_signData", "text/plain", address, hello)
    yield call("signData denied", "account_signData", "text/plain", ADDRESS, hello, approve=False)
    yield call(
        "signData unknown account denied", "account_signData", "text/plain", OTHER, hello, approve=False
    )
    yield call("signData wrong password", "account_signData", "text/plain", ADDRESS, hello, password="wrong")
    # data/validator (EIP-191 version 0)
    validator = "data/validator"
    for label, data in [
        ("ok", {"address": OTHER, "message": "0xdeadbeef"}),
        ("short address", {"address": "0x1234", "message": "0xaa"}),
        ("long address", {"address": "0x" + "11" * 25, "message": "0xaa"}),
        ("address missing", {"message": "0xaa"}),
        ("address 0x", {"address": "0x", "message": "0xaa"}),
        ("address number", {"address": 5, "message": "0xaa"}),
        ("address no prefix", {"address": "1234", "message": "0xaa"}),
        ("message missing", {"address": OTHER}),
        ("message 0x", {"address": OTHER, "message": "0x"}),
        ("message odd", {"address": OTHER, "message": "0xabc"}),
        ("message null", {"address": OTHER, "message": None}),
        ("extra keys", {"address": OTHER, "message": "0xaa", "x": 1}),
        ("string", "0xdeadbeef"),
        ("array", [OTHER, "0xaa"]),
        ("null", None),
    ]:
        yield call(f"signData validator {label}", "account_signData", validator, ADDRESS, data)


# --- clique headers -------------------------------------------------------------------------


EMPTY_UNCLES = bytes.fromhex("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")


def _header_fields(count: int, number: int = 7, extra: bytes = b"\x00" * 32) -> list[Any]:
    """A clique header as geth's miner proposes it (vanity, no uncles, difficulty 2, no vote)."""
    fields: list[Any] = [b"\x11" * 32, EMPTY_UNCLES, b"\x00" * 20, b"\x22" * 32, b"\x33" * 32, b"\x44" * 32,
                         b"\x00" * 256, 2, number, 8_000_000, 21_000, 1_700_000_000, extra, b"\x00" * 32,
                         b"\x00" * 8]  # fmt: skip
    optional: list[Any] = [7, b"\x55" * 32, 0, 0, b"\x66" * 32, b"\x77" * 32, b"\x88" * 32, 9]
    return fields + optional[: count - 15]


def clique_cases() -> Iterator[Case]:
    clique = "application/x-clique-header"

    def seal(name: str, payload: Any, **kw: Any) -> Case:
        data = "0x" + payload.hex() if isinstance(payload, bytes) else payload
        return call(f"clique {name}", "account_signData", clique, ADDRESS, data, **kw)

    if vectors_present():
        for header in vector("clique/real_headers.json")["headers"]:
            yield seal(f"real {header['name']} ({header['field_count']} fields)", header["clique_rlp"])
    for count in range(15, 24):
        yield seal(f"{count} fields", rlp.encode(_header_fields(count)))
    uncles = _header_fields(15)
    uncles[1] = b"\x1d" * 32
    yield seal("with uncles (breaks clique's rules)", rlp.encode(uncles))
    yield seal("extra empty", rlp.encode(_header_fields(15, extra=b"")))
    yield seal("extra 97 bytes", rlp.encode(_header_fields(15, extra=b"\x01" * 97)))
    yield seal("number 0", rlp.encode(_header_fields(15, number=0)))
    yield seal("number 2^64", rlp.encode(_header_fields(15, number=2**64)))
    yield seal("number 2^300", rlp.encode(_header_fields(15, number=2**300)))
    yield seal("14 fields", rlp.encode(_header_fields(15)[:14]))
    yield seal("no fields", rlp.encode([]))
    yield seal("not a list", rlp.encode(b"header"))
    yield seal("trailing bytes", rlp.encode(_header_fields(15)) + b"\x00")
    yield seal("two headers", rlp.encode(_header_fields(15)) * 2)
    yield seal("truncated", rlp.encode(_header_fields(15))[:-3])
    bad_hash = _header_fields(15)
    bad_hash[0] = b"\x11" * 31
    yield seal("31-byte parent hash", rlp.encode(bad_hash))
    bad_coinbase = _header_fields(15)
    bad_coinbase[2] = b"\x00" * 21
    yield seal("21-byte coinbase", rlp.encode(bad_coinbase))
    bad_bloom = _header_fields(15)
    bad_bloom[6] = b"\x00" * 255
    yield seal("255-byte bloom", rlp.encode(bad_bloom))
    list_field = _header_fields(15)
    list_field[8] = [1]
    yield seal("number is a list", rlp.encode(list_field))
    gas_big = _header_fields(15)
    gas_big[9] = 2**64
    yield seal("gas limit 2^64", rlp.encode(gas_big))
    encoded = bytearray(rlp.encode(_header_fields(15, number=1)))
    yield seal(
        "non-canonical number", bytes(encoded).replace(b"\x01\x83\x7a\x12\x00", b"\x81\x01\x83\x7a\x12\x00")
    )
    yield seal("junk bytes", b"\xde\xad\xbe\xef")
    yield seal("empty 0x", "0x")
    yield seal("empty", "")
    yield seal("no prefix", rlp.encode(_header_fields(15)).hex())
    yield seal("object", {"number": 1})
    yield seal("15 fields denied", rlp.encode(_header_fields(15)), approve=False)


# --- typed data ------------------------------------------------------------------------------


def _typed_vector_documents() -> Iterator[tuple[str, Any]]:
    core = VECTORS / "clef" / "upstream" / "signer" / "core"
    for path in sorted((core / "testdata").glob("*.json")):
        yield f"core/{path.name}", json.loads(path.read_text())
    for path in sorted((core / "testdata" / "fuzzing").iterdir()):
        yield f"fuzzing/{path.name[:8]}", json.loads(path.read_text())
    for case in vector("clef/upstream/signer/core/apitypes/testdata/typed-data.json"):
        document = {key: case[key] for key in ("types", "primaryType", "domain")}
        document["message"] = case["data"]
        yield f"typed-data {case['name']}", document
    for name in ("typedData_standard", "jsonTypedData", "complexTypedData", "complexTypedDataLCRefType",
                 "gnosisTypedData", "gnosisTypedDataWithChainId", "recursiveBytes", "domainChainId"):  # fmt: skip
        content = vector(f"clef/inline/{name}.json")
        for label, document in _documents_in(content):
            yield f"inline {name}{label}", document
    for record in vector("eip712/published.json").get("vectors", []):
        if isinstance(record, dict) and isinstance(record.get("typed_data"), dict):
            yield f"published {record.get('name', '?')}", record["typed_data"]


def _documents_in(content: Any, label: str = "") -> Iterator[tuple[str, Any]]:
    """The typed-data documents inside an inline vector file, wherever they sit."""
    if isinstance(content, dict):
        if {"types", "primaryType"} <= set(content):
            yield label, content
            return
        for key, value in content.items():
            yield from _documents_in(value, f"{label}/{key}")
    elif isinstance(content, list):
        for index, value in enumerate(content):
            yield from _documents_in(value, f"{label}[{index}]")


def typed_data_cases() -> Iterator[Case]:
    if vectors_present():
        for name, document in _typed_vector_documents():
            yield call(f"typed {name}", "account_signTypedData", ADDRESS, document)
            if name == "core/eip712.json":
                hexed = "0x" + json.dumps(document).encode().hex()
                yield call(f"signData data/typed {name}", "account_signData", "data/typed", ADDRESS, hexed)
                yield call(
                    f"signData data/typed object {name}", "account_signData", "data/typed", ADDRESS, document
                )
                yield call(f"typed denied {name}", "account_signTypedData", ADDRESS, document, approve=False)
                yield call(f"typed unknown account {name}", "account_signTypedData", OTHER, document)
    for label, data in [("not json", "0x" + b"{not json".hex()), ("json array", "0x" + b"[1]".hex()),
                        ("json number", "0x" + b"5".hex()), ("empty", "0x"), ("bad utf-8", "0xff")]:  # fmt: skip
        yield call(f"signData data/typed {label}", "account_signData", "data/typed", ADDRESS, data)
    for label, document in [("empty object", {}), ("null", None), ("array", []), ("string", "x"),
                            ("types null", {"types": None, "primaryType": "X", "domain": {}, "message": {}}),
                            ("null array element", {"types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                                                               "T": [{"name": "a", "type": "bytes[]"}]},
                                                     "primaryType": "T", "domain": {"name": "x"},
                                                     "message": {"a": ["0x01", None]}}),
                            ("upper-case keys", {"TYPES": {"EIP712Domain": [{"name": "name", "type": "string"}]},
                                                 "PRIMARYTYPE": "EIP712Domain", "DOMAIN": {"name": "x"}, "MESSAGE": {}})]:  # fmt: skip
        yield call(f"typed {label}", "account_signTypedData", ADDRESS, document)


# --- transactions ---------------------------------------------------------------------------


def _tx(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"from": ADDRESS, "to": OTHER, "gas": "0x5208", "value": "0x1", "nonce": "0x0"}
    base.update(fields)
    return {key: value for key, value in base.items() if value is not ...}


BLOB_HASH = "0x01" + "ab" * 31
AUTHORIZATION = {"chainId": "0x5", "address": OTHER, "nonce": "0x0", "yParity": "0x0", "r": "0x1", "s": "0x1"}


def transaction_cases() -> Iterator[Case]:
    transfer = "0xa9059cbb" + "00" * 12 + OTHER[2:].lower() + f"{10:064x}"
    legacy = {"gasPrice": "0x3b9aca00"}
    eip1559 = {"maxFeePerGas": "0x77359400", "maxPriorityFeePerGas": "0x3b9aca00"}
    access = [{"address": OTHER, "storageKeys": ["0x" + "00" * 31 + "01"]}]
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("legacy", legacy),
        ("legacy chainId", {**legacy, "chainId": "0x5"}),
        ("2930", {**legacy, "accessList": access}),
        ("2930 empty list", {**legacy, "accessList": []}),
        ("1559", eip1559),
        ("1559 chainId", {**eip1559, "chainId": "0x5"}),
        ("1559 access list", {**eip1559, "accessList": access}),
        ("1559 no priority fee", {"maxFeePerGas": "0x77359400"}),
        ("blob hashes only", {**eip1559, "maxFeePerBlobGas": "0x1", "blobVersionedHashes": [BLOB_HASH]}),
        ("7702 authorization list (ignored by clef)", {**eip1559, "authorizationList": [AUTHORIZATION]}),
    ]
    blob = "0x" + "00" * 131072  # one empty blob: both compute its KZG commitment, proof and hash
    blob_tx = {**eip1559, "maxFeePerBlobGas": "0x1", "blobs": [blob]}
    yield call("tx blob with sidecar computed", "account_signTransaction", _tx(**blob_tx))
    yield call("tx blob, commitments without proofs", "account_signTransaction",
               _tx(**blob_tx, commitments=["0xc0" + "00" * 47]))  # fmt: skip
    for label, fields in kinds:
        yield call(f"tx {label}", "account_signTransaction", _tx(**fields))
        yield call(f"tx {label} with data", "account_signTransaction", _tx(**fields, data=transfer))
        yield call(f"tx {label} with input", "account_signTransaction", _tx(**fields, input=transfer))
    # Each validation message, in default (reject) mode.
    for label, fields in [
        ("contract creation with value, no code", {**legacy, "to": None}),
        ("contract creation, empty code", {**legacy, "to": None, "value": "0x0"}),
        ("contract creation, small payload", {**legacy, "to": None, "data": "0x6000"}),
        ("contract creation, real code", {**legacy, "to": None, "data": "0x" + "60" * 64}),
        ("to absent", {**legacy, "to": ..., "data": "0x" + "60" * 64}),
        ("lowercase to", {**legacy, "to": OTHER.lower()}),
        ("zero to", {**legacy, "to": ZERO}),
        ("no fee fields", {}),
        ("gasPrice and maxFeePerGas", {**legacy, **eip1559}),
        ("gasPrice and maxPriorityFeePerGas", {**legacy, "maxPriorityFeePerGas": "0x1"}),
        ("maxPriorityFeePerGas only", {"maxPriorityFeePerGas": "0x1"}),
        ("data shorter than 4 bytes", {**legacy, "data": "0xa905"}),
        ("data not 32-aligned", {**legacy, "data": transfer + "00"}),
        ("unknown selector", {**legacy, "data": "0xdeadbee1" + "00" * 32}),
        ("known selector, bad args", {**legacy, "data": "0xa9059cbb" + "ff" * 64}),
        ("store(uint256)", {**legacy, "data": "0x6057361d" + f"{42:064x}"}),
        ("increment()", {**legacy, "data": "0xd09de08a"}),
        ("data and input differ", {**legacy, "data": "0x00", "input": "0x01"}),
        ("data and input equal", {**legacy, "data": transfer, "input": transfer}),
        ("chainId mismatch", {**legacy, "chainId": "0x1"}),
        ("chainId mismatch 1559", {**eip1559, "chainId": "0x1"}),
        ("chainId zero", {**eip1559, "chainId": "0x0"}),
        ("blob without to", {**eip1559, "to": None, "blobVersionedHashes": ["0x01" + "ab" * 31]}),
    ]:
        yield call(f"tx {label}", "account_signTransaction", _tx(**fields))
    for selector in ("transfer(address,uint256)", "transfer(address,uint)", "send(uint256)", "nonsense",
                     "func(uint256,uint256,[]uint256)", "f(", "", "transfer(address, uint256)"):  # fmt: skip
        yield call(
            f"tx selector {selector!r}", "account_signTransaction", _tx(**legacy, data=transfer), selector
        )
    yield call("tx selector null", "account_signTransaction", _tx(**legacy, data=transfer), None)
    yield call("tx selector number", "account_signTransaction", _tx(**legacy, data=transfer), 5)
    yield call("tx selector on creation", "account_signTransaction", _tx(**legacy, to=None, data="0x" + "60" * 64),
               "transfer(address,uint256)")  # fmt: skip
    # Hex and field decoding.
    for label, fields in [
        ("gas no prefix", {**legacy, "gas": "5208"}),
        ("gas 0x", {**legacy, "gas": "0x"}),
        ("gas leading zero", {**legacy, "gas": "0x05208"}),
        ("gas empty", {**legacy, "gas": ""}),
        ("gas number", {**legacy, "gas": 21000}),
        ("gas > 64 bits", {**legacy, "gas": "0x1" + "0" * 16}),
        ("value > 256 bits", {**legacy, "value": "0x1" + "0" * 64}),
        ("value bad digit", {**legacy, "value": "0xg"}),
        ("value negative", {**legacy, "value": "-0x1"}),
        ("nonce null", {**legacy, "nonce": None}),
        ("gasPrice empty", {"gasPrice": ""}),
        ("data odd", {**legacy, "data": "0xabc"}),
        ("data no prefix", {**legacy, "data": "abcd"}),
        ("data number", {**legacy, "data": 5}),
        ("to 0x", {**legacy, "to": "0x"}),
        ("to short", {**legacy, "to": OTHER[:-2]}),
        ("to number", {**legacy, "to": 5}),
        ("from missing", {**legacy, "from": ...}),
        ("from unknown", {**legacy, "from": OTHER}),
        ("from lowercase", {**legacy, "from": LOWER}),
        ("access list bad key", {**legacy, "accessList": [{"address": OTHER, "storageKeys": ["0x01"]}]}),
        ("access list not a list", {**legacy, "accessList": {}}),
        ("blob hash short", {**eip1559, "blobVersionedHashes": ["0x01"]}),
        ("chainId string decimal", {**legacy, "chainId": "5"}),
        ("unknown keys", {**legacy, "type": "0x2", "v": "0x1", "r": "0x2", "s": "0x3", "hash": "0x00"}),
    ]:
        yield call(f"tx {label}", "account_signTransaction", _tx(**fields))
    yield call("tx denied", "account_signTransaction", _tx(**legacy), approve=False)
    yield call("tx wrong password", "account_signTransaction", _tx(**legacy), password="wrong")
    yield call(
        "tx unknown from denied", "account_signTransaction", _tx(**legacy, **{"from": OTHER}), approve=False
    )


# --- Gnosis Safe, ecRecover ---------------------------------------------------------------


def gnosis_cases() -> Iterator[Case]:
    if not vectors_present():
        return
    for name in ("gnosisTx", "gnosisTxWithChainId", "gnosisSafe_missing_chainid"):
        tx = vector(f"clef/inline/{name}.json")
        tx = tx.get("tx", tx) if isinstance(tx, dict) else tx
        yield call(f"gnosis {name}", "account_signGnosisSafeTx", ADDRESS, tx)
        yield call(
            f"gnosis {name} with selector",
            "account_signGnosisSafeTx",
            ADDRESS,
            tx,
            "transfer(address,uint256)",
        )
        if isinstance(tx, dict):
            yield call(
                f"gnosis {name} bad hash",
                "account_signGnosisSafeTx",
                ADDRESS,
                {**tx, "safeTxHash": "0x" + "00" * 32},
            )
            yield call(
                f"gnosis {name} quoted nonce", "account_signGnosisSafeTx", ADDRESS, {**tx, "nonce": "5"}
            )
            yield call(
                f"gnosis {name} numeric value", "account_signGnosisSafeTx", ADDRESS, {**tx, "value": 5}
            )
            yield call(f"gnosis {name} denied", "account_signGnosisSafeTx", ADDRESS, tx, approve=False)


def ecrecover_cases() -> Iterator[Case]:
    sig = "0x9853d95eafdf1560784c14700fbbdbad966b252cc51ea2c17fe81b6a65265c1420d7e43ddb7e420e322702a2a773a8528e9a9c53f5f71fbbed38ada0056801961c"
    for label, data, signature in [
        ("ok", "0x68656c6c6f", sig),
        ("other data", "0x00", sig),
        ("v 0", "0x68656c6c6f", sig[:-2] + "00"),
        ("v 29", "0x68656c6c6f", sig[:-2] + "1d"),
        ("64 bytes", "0x68656c6c6f", sig[:-2]),
        ("66 bytes", "0x68656c6c6f", sig + "00"),
        ("r zero", "0x68656c6c6f", "0x" + "00" * 32 + sig[66:]),
        ("r = n", "0x68656c6c6f", "0x" + "ff" * 32 + sig[66:]),
        ("empty data", "0x", sig),
        ("bad hex", "0xzz", sig),
        ("sig no prefix", "0x00", sig[2:]),
        ("sig number", "0x00", 5),
    ]:
        yield call(f"ecRecover {label}", "account_ecRecover", data, signature)


def listing_cases() -> Iterator[Case]:
    yield call("list denied", "account_list", approve=False)


def new_account_cases() -> Iterator[Case]:
    """Run last: each approved one adds a random key to the keystores."""
    yield call("new account denied", "account_new", approve=False)
    yield call("new account, password too short three times", "account_new", password="short")
    yield call("new account, password not 7-bit ASCII", "account_new", password="pässwörd-long-enough")
    yield call("new account", "account_new", password="a good long password")


def all_cases() -> list[Case]:
    cases: list[Case] = []
    for family in (envelope_cases, sign_data_cases, clique_cases, typed_data_cases, transaction_cases,
                   gnosis_cases, ecrecover_cases, listing_cases):  # fmt: skip
        cases.extend(family())
    return cases
