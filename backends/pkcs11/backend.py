"""Pkcs11Backend: secp256k1 keys that never leave a PKCS#11 token (SoftHSM2, YubiHSM 2, CloudHSM).

The token signs the 32-byte digest with raw CKM_ECDSA; everything Ethereum-specific happens here:
low-s (EIP-2, SoftHSM returns high s ~45 % of the time), the recovery id found by trial against the
cached public key, and a final recovery check against the account's address.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pkcs11
from eth_utils.crypto import keccak
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass

from backends.base import (
    Account,
    AccountExists,
    CredentialNeed,
    CredentialRequired,
    DeviceUnavailable,
    Payload,
    Secret,
    Signature,
    SignatureMismatch,
    UnknownKey,
    UnsupportedPayload,
)
from backends.pkcs11 import keys
from backends.pkcs11.keys import KeyRef
from backends.pkcs11.module import Locking, load_module
from backends.pkcs11.token import TokenSession, Worker, acquire, release
from backends.pkcs11.uri import Pkcs11UriError, account_uri, parse, vault_key
from backends.secp256k1 import address_of_private_key, signature_from_raw, verify_for_address

log = logging.getLogger(__name__)
_KEY_FLAGS = ("sensitive", "extractable", "always_sensitive", "never_extractable", "local")
# Many modules (SoftHSM among them) see a token put back only after C_Initialize again; a
# rescan drops every session of the module, so it is done at most this often.
RESCAN_INTERVAL = 5.0


class Pkcs11Backend:
    name = "pkcs11"

    def __init__(self, module_path: str, token_labels: list[str], *, locking: Locking = "auto") -> None:
        self._module = load_module(module_path, locking)
        self._tokens: dict[str, TokenSession] = {}
        for label in dict.fromkeys(token_labels):
            self._tokens[label] = acquire(self._module, label)
        self._refs: dict[tuple[str, bytes | str], KeyRef] = {}  # (token, id or label) -> key pair
        self._refs_lock = threading.Lock()
        self._next_rescan = 0.0

    @property
    def locking(self) -> str:
        """``"os"`` (the module locks, sessions run in parallel) or ``"serialise"`` (one call at a time)."""
        return self._module.locking

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        found: list[Account] = []
        for token in self._tokens.values():
            try:
                found.extend(self._account(ref) for ref in self._scan_or_rescan(token))
            except Exception as exc:  # one absent token must not hide the others' accounts
                log.warning("PKCS#11 token %s skipped: %s", token.label, exc)
        return found

    def _scan_or_rescan(self, token: TokenSession) -> list[KeyRef]:
        """The token's keys; when it does not answer, the module rescans (rate-limited) and it is
        asked once more. Without this, a token pulled and put back stayed "unknown account" for
        good: the signer looks an account up before it signs, so the rescan that signing does
        was never reached (found by the fault campaign, docs/reliability.md)."""
        try:
            refs = self._scan(token)
            if not refs:
                token.check()  # a token that is gone can look like an empty slot (SoftHSM)
            return refs
        except DeviceUnavailable:
            if not self._rescan():
                raise
            return self._scan(token)

    def _scan(self, token: TokenSession) -> list[KeyRef]:
        refs = token.run(lambda w: _public_keys(w.session, token.label), needs_login=False)
        with self._refs_lock:
            for key in [k for k in self._refs if k[0] == token.label]:
                del self._refs[key]
            for ref in refs:
                self._refs[(token.label, _lookup(ref))] = ref
        return refs

    def known_account(self, address: str) -> Account | None:
        """The account for ``address`` from the last scan, without a token round trip (base.KnownAccounts).

        Scanning costs a C_FindObjects and a C_GetAttributeValue per key on every request; the key
        handles it finds are what signing uses anyway, and a key deleted since is reported by
        ``sign`` (UnknownKey), which also forgets it.
        """
        wanted = address.lower()
        with self._refs_lock:
            ref = next((r for r in self._refs.values() if r.address.lower() == wanted), None)
        return None if ref is None else self._account(ref)

    def _account(self, ref: KeyRef) -> Account:
        return Account(ref.address, account_uri(ref.token, ref.label, ref.key_id), self.name)

    def _resolve(self, account: Account) -> tuple[TokenSession, KeyRef]:
        try:
            uri = parse(account.url)
        except Pkcs11UriError:
            raise UnknownKey(f"{account.address} is not a PKCS#11 account") from None
        token = self._tokens.get(uri.token or "")
        lookup: bytes | str | None = uri.id or uri.object
        if token is None or lookup is None:
            raise UnknownKey(f"{account.address} is not on a configured PKCS#11 token")
        with self._refs_lock:
            ref = self._refs.get((token.label, lookup))
        if ref is None:
            ref = next((r for r in self._scan(token) if _lookup(r) == lookup), None)
        if ref is None or ref.address.lower() != account.address.lower():
            raise UnknownKey(f"PKCS#11 token {token.label} holds no key for {account.address}")
        return token, ref

    def _token(self, label: str) -> TokenSession:
        try:
            return self._tokens[label]
        except KeyError:
            raise UnknownKey(f"PKCS#11 token {label!r} is not configured (--pkcs11-token)") from None

    # --- credentials ------------------------------------------------------------------------

    def credential_need(self, account: Account, purpose: str) -> CredentialNeed | None:
        token, _ = self._resolve(account)
        if token.logged_in:
            return None
        return CredentialNeed(
            key=vault_key(token.label),
            title="Token PIN",
            prompt=f"Please enter the PIN for PKCS#11 token {token.label}",
        )

    def login(self, token_label: str, pin: Secret) -> None:
        self._token(token_label).login(pin)

    def _unlock(self, token: TokenSession, credential: Secret | None) -> None:
        if credential is not None:
            token.login(credential)
        elif not token.logged_in:
            raise CredentialRequired(f"PKCS#11 token {token.label} needs its PIN")

    # --- health -----------------------------------------------------------------------------

    def check(self) -> None:
        """Every configured token answers; an absent one makes the module rescan (rate-limited),
        so a token that is back is found without a restart."""
        for token in list(self._tokens.values()):
            try:
                token.check()
            except DeviceUnavailable:
                if not self._rescan():
                    raise
                token.check()

    def _rescan(self) -> bool:
        """Initialise the module again to find tokens that came back; False when one was just done."""
        with self._refs_lock:
            now = time.monotonic()
            if now < self._next_rescan:
                return False
            self._next_rescan = now + RESCAN_INTERVAL
        log.warning("PKCS#11 token missing, rescanning module=%s", self._module.path)
        self._module.reinitialize()
        return True

    # --- signing ----------------------------------------------------------------------------

    def sign(self, account: Account, payload: Payload, credential: Secret | None) -> Signature:
        try:
            return self._sign(account, payload, credential)
        except (DeviceUnavailable, UnknownKey):
            if not self._token_came_back(account):
                raise
            return self._sign(account, payload, credential)

    def _token_came_back(self, account: Account) -> bool:
        """After a failure: True when the account's token did not answer and a rescan was made."""
        try:
            token = self._tokens.get(parse(account.url).token or "")
        except Pkcs11UriError:
            return False
        if token is None:
            return False
        try:
            token.check()
            return False  # the token answers: the failure was about something else
        except DeviceUnavailable:
            return self._rescan()

    def _sign(self, account: Account, payload: Payload, credential: Secret | None) -> Signature:
        digest = getattr(payload, "digest", None)
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise UnsupportedPayload("a PKCS#11 key signs 32-byte digests only")
        token, ref = self._resolve(account)
        self._unlock(token, credential)
        signature = self._sign_digest(token, ref, digest)
        verify_for_address(digest, signature, account.address)
        return signature

    def _sign_digest(self, token: TokenSession, ref: KeyRef, digest: bytes) -> Signature:
        def sign_raw(worker: Worker) -> bytes:
            private_key = worker.keys.get(_lookup(ref))
            if private_key is None:
                private_key = worker.keys[_lookup(ref)] = _private_key(worker.session, ref)
            return bytes(private_key.sign(digest, mechanism=Mechanism.ECDSA))

        try:
            raw = token.run(sign_raw, needs_login=True)
        except pkcs11.NoSuchKey:
            with self._refs_lock:
                self._refs.pop((token.label, _lookup(ref)), None)  # the next lookup rescans
            raise UnknownKey(f"PKCS#11 token {token.label} has no private key for {ref.address}") from None
        if len(raw) != 64:
            raise SignatureMismatch(f"PKCS#11 token {token.label} returned a {len(raw)}-byte signature")
        return signature_from_raw(
            digest, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"), ref.public_key
        )

    # --- creating keys ----------------------------------------------------------------------

    def new_account(self, token_label: str, pin: Secret | None, label: str | None = None) -> Account:
        """Generate a key pair on the token; the private half is sensitive and never extractable."""
        token = self._token(token_label)
        self._unlock(token, pin)
        key_id = keys.new_key_id()
        name = label or keys.default_label(key_id)

        def generate(worker: Worker) -> KeyRef:
            params = worker.session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: keys.SECP256K1_PARAMS}, local=True
            )
            public, _ = params.generate_keypair(
                store=True,
                capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
                public_template=keys.public_template(key_id, name),
                private_template=keys.private_template(key_id, name),
            )
            return keys.key_ref_of(token.label, key_id, name, public[Attribute.EC_POINT])

        return self._adopt(token, token.run(generate, needs_login=True))

    def import_key(
        self, token_label: str, private_key: bytes, pin: Secret | None, label: str | None = None
    ) -> Account:
        """Store an existing key on the token. It is sensitive from now on, but never "always sensitive"."""
        token = self._token(token_label)
        self._unlock(token, pin)
        key_id = keys.new_key_id()
        name = label or keys.default_label(key_id)
        private_t, public_t = keys.import_templates(private_key, key_id, name)  # validates the key
        address = address_of_private_key(private_key)
        if any(ref.address == address for ref in self._scan(token)):
            raise AccountExists(f"{address} is already on PKCS#11 token {token.label}")

        def create(worker: Worker) -> KeyRef:
            private = worker.session.create_object(private_t)
            try:
                public = worker.session.create_object(public_t)
            except pkcs11.PKCS11Error:
                private.destroy()  # no half-imported key left behind
                raise
            return keys.key_ref_of(token.label, key_id, name, public[Attribute.EC_POINT])

        return self._adopt(token, token.run(create, needs_login=True))

    def _adopt(self, token: TokenSession, ref: KeyRef) -> Account:
        """Cache a new key pair, after proving the token signs with it for the right address."""
        with self._refs_lock:
            self._refs[(token.label, _lookup(ref))] = ref
        probe = keccak(b"sealward key self-test")
        verify_for_address(probe, self._sign_digest(token, ref, probe), ref.address)
        return self._account(ref)

    def key_attributes(self, account: Account) -> dict[str, bool]:
        """The private key's protection flags; an imported key is not always_sensitive/local."""
        token, ref = self._resolve(account)
        self._unlock(token, None)
        names = [getattr(Attribute, flag.upper()) for flag in _KEY_FLAGS]
        values = token.run(lambda w: _private_key(w.session, ref).get_attributes(names), needs_login=True)
        return {flag: bool(values[name]) for flag, name in zip(_KEY_FLAGS, names, strict=True)}

    def close(self) -> None:
        tokens, self._tokens = self._tokens, {}
        for token in tokens.values():
            release(token)


def _lookup(ref: KeyRef) -> bytes | str:
    """How the private half is found: by CKA_ID, or by label for keys made without an id."""
    return ref.key_id if ref.key_id is not None else (ref.label or "")


def _private_key(session: Any, ref: KeyRef) -> Any:
    if ref.key_id is not None:
        return session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, id=ref.key_id)
    return session.get_key(object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=ref.label)


def _public_keys(session: Any, token_label: str) -> list[KeyRef]:
    """secp256k1 public keys on the token (visible without login: they are public objects)."""
    wanted = [Attribute.EC_PARAMS, Attribute.EC_POINT, Attribute.ID, Attribute.LABEL]
    objects = list(
        session.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.KEY_TYPE: KeyType.EC})
    )
    refs: dict[str, KeyRef] = {}
    for obj in objects:
        attrs = obj.get_attributes(wanted)
        if not keys.is_secp256k1(attrs.get(Attribute.EC_PARAMS)):
            continue
        if not attrs.get(Attribute.ID) and not attrs.get(Attribute.LABEL):
            continue  # nothing to find the private half by
        try:
            ref = keys.key_ref_of(
                token_label, attrs[Attribute.ID], attrs[Attribute.LABEL], attrs[Attribute.EC_POINT]
            )
        except keys.BadEcPoint as exc:
            log.warning("PKCS#11 token %s: skipping a public key: %s", token_label, exc)
            continue
        refs.setdefault(ref.address, ref)
    return list(refs.values())
