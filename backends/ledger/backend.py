"""LedgerBackend: keys on Ledger devices running the Ethereum app, reached through ledgereth.

The device holds the key and shows the request; this backend chooses the APDU flow per payload:

* TransactionPayload types 0-2: ledgereth ``sign_transaction``; types 3 and 4 (blobs, set-code),
  which ledgereth cannot encode: SIGN_TX through the same dongle (the app says if it knows them);
* TextPayload: ledgereth ``sign_message`` (the app adds the EIP-191 prefix and shows the text);
* TypedDataPayload: the app's full clear-signing protocol when the app and the document allow it,
  otherwise ledgereth ``sign_typed_data_draft`` (the device shows the two hashes);
* DigestPayload (clique) and ValidatorPayload: refused, the app never signs a bare digest.

Every signature is checked against the digest the signer approved before it leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from backends.base import (
    Account,
    AppNotOpen,
    AppTooOld,
    BackendError,
    CredentialNeed,
    DeviceError,
    DeviceLocked,
    DeviceUnavailable,
    DigestPayload,
    Payload,
    Secret,
    Signature,
    SignatureMismatch,
    TextPayload,
    TransactionPayload,
    TypedDataPayload,
    UnsupportedPayload,
    ValidatorPayload,
    WrongApp,
)
from backends.ledger import app as eth_app
from backends.ledger.device import (
    DEVICE_LOCK,
    SW_INVALID_DATA,
    SW_NO_MEMORY,
    SW_UNKNOWN_INS,
    load,
    status_word,
)
from backends.ledger.eip712 import Unencodable, full_mode_apdus
from backends.ledger.session import DERIVATIONS, Devices, Session
from backends.ledger.transactions import ledgereth_transaction, preimage
from backends.secp256k1 import normalize_low_s, verify_for_address

log = logging.getLogger(__name__)

DIGEST_REFUSAL = (
    "a Ledger cannot sign a clique seal: sealing needs raw digest signing, which the Ledger Ethereum "
    "app does not offer. Put the sealing key on an HSM (--pkcs11-module) or in a keystore"
)
VALIDATOR_REFUSAL = (
    "a Ledger cannot sign data/validator (EIP-191 version 0x00) messages: they need raw digest "
    "signing, which the Ledger Ethereum app does not offer. Use a key on an HSM or in a keystore"
)
# Status words after which a clear-signing attempt is retried with the two hashes instead.
_FULL_712_FALLBACK = (SW_UNKNOWN_INS, SW_NO_MEMORY, SW_INVALID_DATA, 0x6B00)


class LedgerBackend:
    name = "ledger"

    def __init__(
        self,
        accounts_per_path: int = 5,
        dongle_factory: Callable[[], Any] | None = None,
        *,
        derivations: Sequence[str] = ("live", "legacy"),
        probe_interval: float = 1.0,
    ) -> None:
        """``dongle_factory`` opens the device (tests: an emulator); by default USB HID, or the
        TCP proxy named by LEDGER_PROXY_ADDRESS/LEDGER_PROXY_PORT. ``derivations`` selects among
        "live" (m/44'/60'/i'/0/0) and "legacy" (m/44'/60'/0'/i)."""
        if accounts_per_path < 1:
            raise ValueError("accounts_per_path must be at least 1")
        unknown = [d for d in derivations if d not in DERIVATIONS]
        if unknown or not derivations:
            raise ValueError(f"derivations must be among {sorted(DERIVATIONS)}, got {list(derivations)}")
        self._devices = Devices(accounts_per_path, derivations, dongle_factory, probe_interval)

    def accounts(self) -> list[Account]:
        self._devices.refresh()
        return self._devices.accounts(self.name)

    def credential_need(self, account: Account, purpose: str) -> CredentialNeed | None:
        return None  # the PIN is entered on the device itself

    def check(self) -> None:
        """A Ledger with the Ethereum app open is connected (probed at most every probe interval)."""
        self._devices.refresh()
        if self._devices.sessions():
            return
        problems = self._devices.problems()
        if problems:
            raise type(problems[0])(str(problems[0]))
        raise DeviceUnavailable("no Ledger is connected")

    def sign(self, account: Account, payload: Payload, credential: Secret | None) -> Signature:
        session, path = self._devices.resolve(account.address, account.url)
        if isinstance(payload, DigestPayload):
            raise UnsupportedPayload(DIGEST_REFUSAL)
        if isinstance(payload, ValidatorPayload):
            raise UnsupportedPayload(VALIDATOR_REFUSAL)
        plan = _plan(payload, path)  # encode before touching the device: refusals cost no prompt
        with DEVICE_LOCK:
            try:
                v_r_s = self._on_device(session, account.address, path, payload, plan)
            except (DeviceUnavailable, DeviceLocked, AppNotOpen, WrongApp):
                # The device went away or changed state: hide its accounts until a probe says otherwise.
                self._devices.mark_failed(session)
                raise
        return _verified(payload.digest, v_r_s[1], v_r_s[2], account.address)

    def _on_device(
        self, session: Session, address: str, path: str, payload: Payload, plan: Any
    ) -> tuple[int, int, int]:
        dongle = session.dongle
        if dongle.dead:
            raise DeviceUnavailable(f"the Ledger {session.device_id} was disconnected")
        info = session.app = eth_app.identify(dongle)
        _check_key(dongle, path, address)
        short = path.removeprefix("m/")
        try:
            if isinstance(payload, TextPayload):
                signed = load("ledgereth.messages").sign_message(
                    payload.message, sender_path=short, dongle=dongle
                )
                return signed.v, signed.r, signed.s
            if isinstance(payload, TypedDataPayload):
                return _sign_typed(dongle, info, path, payload, plan)
            assert isinstance(payload, TransactionPayload)
            return _sign_transaction(dongle, info, path, payload, plan)
        except BackendError:
            raise
        except Exception as exc:  # ledgereth's own checks ("Invalid response from Ledger", ...)
            raise DeviceError(f"the Ledger request failed: {exc}") from None

    def close(self) -> None:
        self._devices.close()


def _plan(payload: Payload, path: str) -> Any:
    """The device-independent part of a request: pre-image or APDU stream; raises refusals early."""
    if isinstance(payload, TransactionPayload):
        if payload.tx_type not in (0, 1, 2, 3, 4):
            raise UnsupportedPayload(f"transaction type {payload.tx_type} is not supported by the Ledger app")
        encoded = preimage(payload)
        return ledgereth_transaction(encoded) if payload.tx_type <= 2 else encoded
    if isinstance(payload, TypedDataPayload):
        if len(payload.domain_hash) != 32 or len(payload.struct_hash) != 32:
            raise UnsupportedPayload("EIP-712 domain and message hashes must be 32 bytes each")
        if payload.document is None:
            return None
        try:
            return list(full_mode_apdus(payload.document, eth_app.encode_path(path)))
        except (Unencodable, KeyError, TypeError) as exc:
            log.info("EIP-712 document not clear-signable on a Ledger (%s): signing its hashes", exc)
            return None
    if isinstance(payload, TextPayload):
        return None
    raise UnsupportedPayload(f"a Ledger cannot sign {type(payload).__name__}")


def _check_key(dongle: Any, path: str, address: str) -> None:
    """The device still holds this account: a swapped device or seed must not prompt the person."""
    accounts = load("ledgereth.accounts")
    found = accounts.get_account_by_path(path.removeprefix("m/"), dongle=dongle)
    if str(found.address).lower() != address.lower():
        raise DeviceUnavailable(
            f"the connected Ledger no longer holds {address} at {path} (another device or seed?)"
        )


def _sign_typed(
    dongle: Any, info: eth_app.AppInfo, path: str, payload: TypedDataPayload, apdus: Any
) -> tuple[int, int, int]:
    if apdus is not None and info.supports(eth_app.TYPED_DATA_FULL):
        try:
            reply = b""
            for command in apdus:
                reply = bytes(dongle.exchange(command))
            return eth_app.parse_vrs(reply)
        except DeviceError as exc:
            if status_word(exc) not in _FULL_712_FALLBACK:
                raise
            log.info("Ledger refused EIP-712 clear signing (%s): signing the hashes instead", exc)
    info.require(eth_app.TYPED_DATA_HASHED, "signing EIP-712 typed data")
    messages = load("ledgereth.messages")
    signed = messages.sign_typed_data_draft(
        payload.domain_hash, payload.struct_hash, sender_path=path.removeprefix("m/"), dongle=dongle
    )
    return signed.v, signed.r, signed.s


def _sign_transaction(
    dongle: Any, info: eth_app.AppInfo, path: str, payload: TransactionPayload, plan: Any
) -> tuple[int, int, int]:
    if payload.tx_type >= 3:
        return eth_app.sign_raw_typed_transaction(dongle, info, path, plan)
    if payload.tx_type in (1, 2):
        info.require(eth_app.ACCESS_LIST_TX, f"a type {payload.tx_type} transaction")
    try:
        signed = load("ledgereth.transactions").sign_transaction(
            plan, sender_path=path.removeprefix("m/"), dongle=dongle
        )
    except UnsupportedPayload:
        raise AppTooOld(
            f"the Ledger Ethereum app {info.version_text} does not know type {payload.tx_type} "
            "transactions: update it in Ledger Live"
        ) from None
    r = getattr(signed, "r", None) or signed.sender_r
    s = getattr(signed, "s", None) or signed.sender_s
    return 0, int(r), int(s)


def _verified(digest: bytes, r: int, s: int, address: str) -> Signature:
    """Low-s, and the recovery id that recovers ``address`` over the approved digest.

    The id is found by trial rather than decoded from v: for legacy transactions the app returns
    only the low byte of chainId*2+35+parity, which ledgereth rebuilds wrongly for some chain ids.
    """
    r, s, _ = normalize_low_s(r, s)
    for parity in (0, 1):
        candidate = Signature(parity, r, s)
        try:
            verify_for_address(digest, candidate, address)
        except SignatureMismatch:
            continue
        return candidate
    raise SignatureMismatch(f"the Ledger's signature does not recover to {address} over the approved digest")
