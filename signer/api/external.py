"""The external API (``account_*``): what a node may ask. Every request is approved before the
account is even looked up, so the API cannot be used to enumerate accounts (clef-compat §2)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from backends.base import Secret
from backends.keystore import KeystoreBackend
from signer.accounts import AccountManager
from signer.api.auditlog import AuditLog
from signer.api.credentials import CredentialSource, NoCredentials, credential_for
from signer.approval.ui import UI
from signer.clique.guard import SealReceipt
from signer.codecs.hexutil import MixedcaseAddress
from signer.codecs.signdata import SignDataPlan, plan_sign_data, text_hash
from signer.errors import (
    InvalidRequestData,
    NotSupported,
    RequestDenied,
    SignerError,
    UnknownAccount,
    error_message,
)
from signer.types import EXTERNAL_API_VERSION, ListRequest, Metadata, NewAccountRequest, UserInputRequest
from signer.vault.passwords import check_password_format

log = logging.getLogger("sealward.api")


class SealGuardProtocol(Protocol):
    def check_and_record(
        self, chain_id: int, signer: str, height: int, seal_hash: bytes, parent_hash: bytes, header_time: int
    ) -> SealReceipt | None: ...

    def retract(self, receipt: SealReceipt) -> None: ...


# Threads that make guard records while the backend signs. A record waits for its commit's
# fsync and a signature for the HSM; both block outside the GIL, so they overlap. Requests beyond
# this many queue here; the transports bound how many requests there are.
GUARD_THREADS = 8


PasswordRule = Callable[[str], None]  # raises ValueError with clef's message for a weak password


class ExternalAPI:
    """clef's SignerAPI. Methods take decoded parameters; the RPC binding decodes the wire form."""

    def __init__(
        self,
        accounts: AccountManager,
        ui: UI,
        chain_id: int,
        *,
        credentials: CredentialSource | None = None,
        advanced: bool = False,
        seal_guard: SealGuardProtocol | None = None,
        password_rule: PasswordRule = check_password_format,
        extensions: Any = None,
    ) -> None:
        self.accounts = accounts
        self.ui = ui
        self.chain_id = chain_id
        self.credentials: CredentialSource = credentials or NoCredentials()
        self.advanced = advanced
        self.seal_guard = seal_guard
        self._guard_threads = ThreadPoolExecutor(GUARD_THREADS, thread_name_prefix="seal-guard")
        self.password_rule = password_rule
        self.extensions = extensions  # transactions and typed data, attached by the app when available
        self.audit: AuditLog | None = None  # set by the app; records edits a UI made to a transaction

    def close(self) -> None:
        """Finish the guard records under way; the signer is stopping."""
        self._guard_threads.shutdown(wait=True)

    # --- account_version / account_list / account_new ---------------------------------------

    def version(self, meta: Metadata) -> str:
        return EXTERNAL_API_VERSION

    def list(self, meta: Metadata) -> list[str]:
        listed = [{"address": a.address.lower(), "url": a.url} for a in self.accounts.accounts()]
        approved = self.ui.approve_listing(ListRequest(listed, meta))
        if approved is None:
            raise RequestDenied()
        return [str(entry.get("address", "")).lower() for entry in approved]

    def new(self, meta: Metadata) -> str:
        keystore = self.accounts.backend("keystore")
        if not isinstance(keystore, KeystoreBackend):
            raise SignerError("password based accounts not supported")
        if not self.ui.approve_new_account(NewAccountRequest(meta)):
            raise RequestDenied()
        return create_keystore_account(keystore, self.ui, self.password_rule).lower()

    # --- account_signData --------------------------------------------------------------------

    def sign_data(self, meta: Metadata, content_type: str, address: MixedcaseAddress, data: Any) -> str:
        plan = plan_sign_data(content_type, address, data, meta)
        return self.sign_plan(plan)

    def sign_plan(self, plan: SignDataPlan) -> str:
        """Approve, sign and (for clique seals) record: the tail shared by signData and typed data."""
        try:
            return "0x" + self._approve_and_sign(plan).hex()
        except Exception as exc:
            # clef shows every failure after the request was built to the UI as well (§2.6).
            self.ui.show_error(error_message(exc))
            raise

    def _approve_and_sign(self, plan: SignDataPlan) -> bytes:
        if not self.ui.approve_sign_data(plan.request):
            raise RequestDenied()
        found = self.accounts.find(plan.request.address.checksummed)
        if found is None:
            raise UnknownAccount()
        backend, account = found
        credential = credential_for(backend, account, "data", self.credentials, self.ui)
        if plan.clique_number is None or self.seal_guard is None:
            return self.accounts.sign(backend, account, plan.payload, credential).to_bytes(plan.v_offset)
        # The guard's record is made while the backend signs, and the signature leaves only once
        # the record is durable: a crash in between loses a seal nobody received, as before. A
        # refusal discards the signature; a signing failure takes the record back, so a seal that
        # was never made holds no height (a standby instance may take it).
        guard = self.seal_guard
        assert plan.clique_parent is not None and plan.clique_time is not None
        recording = self._guard_threads.submit(
            guard.check_and_record,
            self.chain_id,
            account.address,
            plan.clique_number,
            plan.payload.digest,
            plan.clique_parent,
            plan.clique_time,
        )
        try:
            signature = self.accounts.sign(backend, account, plan.payload, credential)
        except BaseException:
            _take_back(guard, recording)
            raise
        recording.result()  # raises the guard's refusal or unavailability
        return signature.to_bytes(plan.v_offset)

    # --- typed data, transactions, gnosis: provided by the extensions module ----------------

    def sign_typed_data(self, meta: Metadata, address: MixedcaseAddress, typed_data: Any) -> str:
        if self.extensions is None:
            raise NotSupported("account_signTypedData is not supported yet")
        return str(self.extensions.sign_typed_data(self, meta, address, typed_data))

    def sign_transaction(self, meta: Metadata, args: Any, method_selector: str | None) -> Any:
        if self.extensions is None:
            raise NotSupported("account_signTransaction is not supported yet")
        return self.extensions.sign_transaction(self, meta, args, method_selector)

    def sign_gnosis_safe_tx(
        self, meta: Metadata, address: MixedcaseAddress, gnosis_tx: Any, method_selector: str | None
    ) -> Any:
        if self.extensions is None:
            raise NotSupported("account_signGnosisSafeTx is not supported yet")
        return self.extensions.sign_gnosis_safe_tx(self, meta, address, gnosis_tx, method_selector)

    # --- account_ecRecover --------------------------------------------------------------------

    def ec_recover(self, meta: Metadata, data: bytes, sig: bytes) -> str:
        return ec_recover(data, sig)


def _take_back(guard: SealGuardProtocol, recording: Future[SealReceipt | None]) -> None:
    """Wait for a record whose signature failed and retract it; the signing error is what the
    caller hears, so a refusal or a failure here is only logged."""
    try:
        receipt = recording.result()
        if receipt is not None:
            guard.retract(receipt)
    except Exception as exc:
        log.warning("Seal record not taken back after a failed signature err=%s", error_message(exc))


def ec_recover(data: bytes, sig: bytes) -> str:
    """The address whose personal_sign signature over ``data`` is ``sig`` (clef-compat §2.7)."""
    from backends.secp256k1 import address_of_public_key, recover_public_key

    if len(sig) != 65:
        raise InvalidRequestData("signature must be 65 bytes long")
    if sig[64] not in (27, 28):
        raise InvalidRequestData("invalid Ethereum signature (V is not 27 or 28)")
    _, digest = text_hash(data)
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
    try:
        public_key = recover_public_key(digest, sig[64] - 27, r, s)
    except Exception as exc:
        raise InvalidRequestData("recovery failed") from exc
    return address_of_public_key(public_key).lower()


def create_keystore_account(keystore: KeystoreBackend, ui: UI, password_rule: PasswordRule) -> str:
    """clef's three attempts at a password for a new key (§2.3 steps 3–5). Returns the address."""
    for attempt in range(3):
        prompt = f"Please enter a password for the new account to be created (attempt {attempt} of 3)"
        try:
            password = ui.on_input_required(UserInputRequest("New account password", prompt, True))
        except Exception as exc:
            log.warning("Failed to get password err=%s", type(exc).__name__)
            continue
        try:
            password_rule(password)
        except ValueError as exc:
            ui.show_error(
                f"Account creation attempt #{attempt + 1} failed due to password requirements: {exc}"
            )
            continue
        account = keystore.new_account(Secret(password))
        log.info("Your new key was generated address=%s", account.address)
        log.warning("Please backup your key file! path=%s", account.url)
        log.warning("Please remember your password!")
        return account.address
    raise SignerError("account creation failed")
