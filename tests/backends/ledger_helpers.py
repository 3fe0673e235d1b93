"""Shared pieces of the Ledger tests: a backend on the emulator, payload builders, and eth-account
checks. Payload digests are computed by eth-account, never by Sealward's own code."""

from __future__ import annotations

from typing import Any

from eth_account import Account as EthAccount
from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_struct
from eth_account._utils.legacy_transactions import (
    encode_transaction,
    serializable_unsigned_transaction_from_dict,
)
from eth_utils.crypto import keccak

from backends.base import Account, Signature, TextPayload, TransactionPayload, TypedDataPayload
from backends.ledger import LedgerBackend
from tests.backends.ledger_emulator import EmulatorFactory, EthAppEmulator

LIVE_0 = "m/44'/60'/0'/0/0"
TO = "0x" + "11" * 20
FOREIGN = Account("0x" + "ab" * 20, "ledger://emulator/m/44'/60'/9'/0/0", "ledger")


def make_backend(emulator: EthAppEmulator, **options: Any) -> LedgerBackend:
    return LedgerBackend(
        options.pop("accounts_per_path", 2), EmulatorFactory(emulator), probe_interval=0, **options
    )


def account_at(backend: LedgerBackend, path: str) -> Account:
    return next(a for a in backend.accounts() if a.url.endswith("/" + path))


def tx_payload(fields: dict[str, Any]) -> TransactionPayload:
    unsigned = serializable_unsigned_transaction_from_dict(dict(fields))
    return TransactionPayload(int(fields.get("type", 0)), int(fields["chainId"]), fields, unsigned.hash())


def recover_tx(fields: dict[str, Any], sig: Signature) -> str:
    """Build the signed transaction with eth-account and let it recover the sender."""
    unsigned = serializable_unsigned_transaction_from_dict(dict(fields))
    v = sig.y_parity if fields.get("type", 0) else fields["chainId"] * 2 + 35 + sig.y_parity
    return str(EthAccount.recover_transaction(encode_transaction(unsigned, (v, sig.r, sig.s))))


def text_payload(message: bytes) -> TextPayload:
    return TextPayload(
        message, keccak(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)
    )


def typed_payload(document: dict[str, Any], with_document: bool = True) -> TypedDataPayload:
    """Hashes by eth-account, for the document's own primaryType (some vectors carry unused types)."""
    types = document["types"]
    domain_hash = hash_struct("EIP712Domain", types, document["domain"])
    struct_hash = hash_struct(document["primaryType"], types, document["message"])
    digest = keccak(b"\x19\x01" + domain_hash + struct_hash)
    return TypedDataPayload(domain_hash, struct_hash, digest, document if with_document else None)


MAIL: dict[str, Any] = {
    "types": {
        "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
        "Mail": [{"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "Ether Mail", "chainId": 1},
    "message": {"contents": "Hello, Bob!"},
}

LEGACY = {"chainId": 1, "nonce": 0, "to": TO, "value": 1, "gas": 21000, "gasPrice": 10**9, "data": "0x"}
