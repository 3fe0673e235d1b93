"""The ``clef_*`` API a stdio UI may call (clef-compat §3.3). These calls are trusted: the UI is the
person operating the signer, so they need no approval. They are reachable only over stdio."""

from __future__ import annotations

from typing import Any

from backends.base import Secret
from backends.keystore import KeystoreBackend
from signer.api.external import ExternalAPI, create_keystore_account
from signer.codecs.hexutil import MixedcaseAddress
from signer.errors import InvalidRequestData, SignerError, UnknownAccount
from signer.rpc.dispatch import Dispatcher
from signer.types import Metadata


def _account_json(address: str, url: str) -> dict[str, str]:
    return {"address": address.lower(), "url": url}


def _keystore(api: ExternalAPI) -> KeystoreBackend:
    keystore = api.accounts.backend("keystore")
    if not isinstance(keystore, KeystoreBackend):
        raise SignerError("password based accounts not supported")
    return keystore


def parse_hex_or_decimal(value: Any) -> int:
    """geth's HexOrDecimal64/256: a JSON number, "0x…" hex or a decimal string."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        try:
            return int(value[2:], 16) if value[:2] in ("0x", "0X") else int(value, 10)
        except ValueError:
            pass
    raise InvalidRequestData(f"invalid hex or decimal integer {value!r}".replace("'", '"'))


def bind_ui_server(dispatcher: Dispatcher, api: ExternalAPI) -> None:
    def list_accounts(meta: Metadata) -> list[dict[str, str]] | None:
        found = [_account_json(a.address, a.url) for a in api.accounts.accounts()]
        return found or None  # clef answers null, not [], when there are none

    def list_wallets(meta: Metadata) -> list[dict[str, Any]]:
        return [
            {"url": a.url, "status": "Locked", "accounts": [_account_json(a.address, a.url)]}
            for a in api.accounts.accounts()
        ]

    def derive_account(meta: Metadata, url: Any, path: Any, pin: Any) -> Any:
        raise SignerError("not supported")

    def import_raw_key(meta: Metadata, privkey: Any, password: Any) -> dict[str, str]:
        keystore = _keystore(api)
        text = str(privkey)
        try:
            key = bytes.fromhex(text)
        except ValueError as exc:
            raise SignerError("invalid hex data for private key") from exc
        try:
            api.password_rule(str(password))
        except ValueError as exc:
            raise SignerError(f"password requirements not met: {exc}") from exc
        account = keystore.import_key(key, Secret(str(password)))
        return _account_json(account.address, account.url)

    def open_wallet(meta: Metadata, url: Any, passphrase: Any) -> None:
        if not any(a.url == url for a in api.accounts.accounts()):
            raise SignerError("unknown wallet")

    def chain_id(meta: Metadata) -> str:
        return hex(api.chain_id)

    def set_chain_id(meta: Metadata, value: Any) -> str:
        api.chain_id = parse_hex_or_decimal(value)
        return hex(api.chain_id)

    def export(meta: Metadata, address: Any) -> Any:
        import json

        found = api.accounts.find(MixedcaseAddress.parse(address).checksummed)
        if found is None:
            raise UnknownAccount()
        backend, account = found
        if not isinstance(backend, KeystoreBackend):
            raise SignerError("account is not a keystore-account")
        return json.loads(backend.export(account))

    def import_json(meta: Metadata, key_json: Any, old: Any, new: Any) -> dict[str, str]:
        import json

        keystore = _keystore(api)
        try:
            api.password_rule(str(new))
        except ValueError as exc:
            raise SignerError(f"password requirements not met: {exc}") from exc
        account = keystore.import_json(json.dumps(key_json).encode(), Secret(str(old)), Secret(str(new)))
        return _account_json(account.address, account.url)

    def new(meta: Metadata) -> str:
        return create_keystore_account(_keystore(api), api.ui, api.password_rule).lower()

    dispatcher.add("clef_listAccounts", list_accounts)
    dispatcher.add("clef_listWallets", list_wallets)
    dispatcher.add("clef_deriveAccount", derive_account, required=2, optional=1)
    dispatcher.add("clef_importRawKey", import_raw_key, required=2)
    dispatcher.add("clef_openWallet", open_wallet, required=1, optional=1)
    dispatcher.add("clef_chainId", chain_id)
    dispatcher.add("clef_setChainId", set_chain_id, required=1)
    dispatcher.add("clef_export", export, required=1)
    dispatcher.add("clef_import", import_json, required=3)
    dispatcher.add("clef_new", new)
