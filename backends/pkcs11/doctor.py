"""``sealward hsm doctor``: walk the path a signature takes and say, in plain words, where it breaks.

Each check runs only when the ones it depends on passed, and the signing checks go through
Pkcs11Backend itself, so "doctor passes" means "the signer will work", not "a similar code path
works". Nothing is left on the token: when it holds no secp256k1 key yet, curve support is shown
with a session key pair that disappears when the session closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from eth_utils.crypto import keccak
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, TokenFlag

from backends.base import BackendError, DigestPayload, Secret
from backends.pkcs11 import keys
from backends.pkcs11.backend import Pkcs11Backend
from backends.pkcs11.module import Pkcs11Module, load_module
from backends.pkcs11.token import TokenSession, Worker, acquire, release
from backends.secp256k1 import address_of_public_key, signature_from_raw, verify_for_address

MODULE_HINT = (
    "usual paths: SoftHSM2 /usr/lib/softhsm/libsofthsm2.so, YubiHSM 2 /usr/lib/x86_64-linux-gnu/pkcs11/"
    "yubihsm_pkcs11.so, AWS CloudHSM /opt/cloudhsm/lib/libcloudhsm_pkcs11.so"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not run, because an earlier check failed or an input was missing
    detail: str


@dataclass
class DoctorReport:
    module_path: str
    token_label: str | None
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok is not False for check in self.checks)

    def add(self, name: str, ok: bool | None, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok is True

    def render(self) -> str:
        marks = {True: "[ ok ]", False: "[FAIL]", None: "[skip]"}
        lines = [
            f"PKCS#11 module {self.module_path}" + (f", token {self.token_label}" if self.token_label else "")
        ]
        lines += [f"{marks[c.ok]} {c.name}: {c.detail}" for c in self.checks]
        failed = [c.name for c in self.checks if c.ok is False]
        lines.append(
            "All checks passed." if not failed else f"{len(failed)} check(s) failed: {', '.join(failed)}."
        )
        return "\n".join(lines)


def run_doctor(module_path: str, token_label: str | None, pin: Secret | None) -> DoctorReport:
    report = DoctorReport(module_path, token_label)
    try:
        _run(report, module_path, token_label, pin)
    except Exception as exc:  # a doctor reports; it does not crash with a traceback
        report.add("unexpected error", False, f"{type(exc).__name__}: {exc}")
    return report


def _run(report: DoctorReport, module_path: str, token_label: str | None, pin: Secret | None) -> None:
    try:
        module = load_module(module_path)
    except (BackendError, OSError, AttributeError) as exc:
        report.add("load module", False, f"{exc}; {MODULE_HINT}")
        return
    lib = module.lib
    locking = "OS locking (parallel sessions)" if module.locking == "os" else "serialised calls"
    report.add(
        "load module",
        True,
        f"{lib.manufacturer_id} {lib.library_description} {'.'.join(map(str, lib.library_version))}, "
        f"Cryptoki {'.'.join(map(str, lib.cryptoki_version))}, thread safety by {locking}",
    )
    with module.calls():
        token = _pick_token(report, module, token_label)
        if token is None:
            return
        report.token_label = token.label
        if not _check_token_state(report, token) or not _check_mechanisms(report, token):
            return
    if pin is None:
        report.add(
            "log in", None, f"no PIN supplied; store it with `sealward setpw pkcs11:token={token.label}`"
        )
        return
    backend = Pkcs11Backend(module_path, [token.label])
    state = acquire(module, token.label)  # the same shared login state the backend uses
    try:
        try:
            backend.login(token.label, pin)
        except BackendError as exc:
            report.add("log in", False, f"{exc}. Nothing was retried: tokens lock after a few wrong PINs")
            return
        report.add("log in", True, "the token accepted the PIN")
        _check_signing(report, backend, state)
    finally:
        release(state)
        backend.close()


def _pick_token(report: DoctorReport, module: Pkcs11Module, label: str | None) -> Any:
    slots = module.lib.get_slots()
    tokens = [slot.get_token() for slot in slots if slot.flags & pkcs11.SlotFlag.TOKEN_PRESENT]
    usable = [t for t in tokens if t.flags & TokenFlag.TOKEN_INITIALIZED]
    listing = "; ".join(f"slot {t.slot.slot_id}: {t.label!r} ({t.manufacturer_id} {t.model})" for t in usable)
    if not usable:
        report.add(
            "slots and tokens",
            False,
            f"{len(slots)} slot(s), no initialised token. Create one: softhsm/create-token.sh DIR LABEL PIN "
            "SO_PIN (then export SOFTHSM2_CONF), or the HSM vendor's tool; check that the HSM is connected",
        )
        return None
    report.add("slots and tokens", True, listing)
    if label is None:
        if len(usable) == 1:
            return usable[0]
        names = ", ".join(repr(t.label) for t in usable)
        report.add("choose token", False, f"several tokens ({names}); pass --pkcs11-token LABEL")
        return None
    match = [t for t in usable if t.label == label]
    if len(match) != 1:
        why = "is not present" if not match else "is not unique"
        report.add("find token", False, f"token {label!r} {why}; labels are exact and case-sensitive")
        return None
    serial = match[0].serial
    serial = serial.decode("ascii", "replace") if isinstance(serial, bytes) else str(serial)
    report.add(
        "find token", True, f"token {label!r} in slot {match[0].slot.slot_id}, serial {serial.strip()}"
    )
    return match[0]


def _check_token_state(report: DoctorReport, token: Any) -> bool:
    flags = token.flags
    if not flags & TokenFlag.USER_PIN_INITIALIZED:
        return report.add(
            "PIN state", False, "the user PIN is not set; the security officer must set it (init-pin)"
        )
    if flags & TokenFlag.USER_PIN_LOCKED:
        return report.add("PIN state", False, "the user PIN is locked; the security officer must reset it")
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        return report.add(
            "PIN state", False, "one wrong PIN will lock the token; doctor will not risk a login"
        )
    low = " (warning: wrong PINs were entered recently)" if flags & TokenFlag.USER_PIN_COUNT_LOW else ""
    return report.add("PIN state", True, "user PIN set and not locked" + low)


def _check_mechanisms(report: DoctorReport, token: Any) -> bool:
    mechanisms = set(token.slot.get_mechanisms())
    if Mechanism.ECDSA not in mechanisms:
        return report.add(
            "CKM_ECDSA", False, "the token cannot sign raw digests with ECDSA; it cannot hold Ethereum keys"
        )
    info = token.slot.get_mechanism_info(Mechanism.ECDSA)
    sizes = f"key sizes {info.min_key_length}-{info.max_key_length} bits"
    if info.max_key_length is not None and info.max_key_length < 256:
        return report.add("CKM_ECDSA", False, f"{sizes}: secp256k1 needs 256")
    report.add("CKM_ECDSA", True, f"raw ECDSA available, {sizes}")
    gen = Mechanism.EC_KEY_PAIR_GEN in mechanisms
    report.add(
        "CKM_EC_KEY_PAIR_GEN", gen, "available" if gen else "missing: keys can be imported but not generated"
    )
    return True


def _check_signing(report: DoctorReport, backend: Pkcs11Backend, token: TokenSession) -> None:
    accounts = backend.accounts()
    digest = keccak(b"sealward hsm doctor")
    if not accounts:
        report.add(
            "secp256k1 keys", None, f"none yet; create one: sealward newaccount --pkcs11-token {token.label}"
        )
        try:
            token.run(_ephemeral_sign(digest), needs_login=True)
        except (pkcs11.PKCS11Error, BackendError) as exc:
            report.add("secp256k1", False, f"a temporary secp256k1 key could not be made or used: {exc!r}")
            return
        report.add(
            "secp256k1", True, "a temporary secp256k1 key pair signed and verified (nothing was stored)"
        )
        return
    report.add("secp256k1 keys", True, ", ".join(a.address for a in accounts))
    try:
        backend.sign(accounts[0], DigestPayload(digest, b""), None)
    except BackendError as exc:
        report.add("sign and verify", False, f"{accounts[0].address}: {exc}")
        return
    report.add("sign and verify", True, f"{accounts[0].address} signed; low-s, recovers to its address")


def _ephemeral_sign(digest: bytes) -> Callable[[Worker], None]:
    def run(worker: Worker) -> None:
        params = worker.session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: keys.SECP256K1_PARAMS}, local=True
        )
        public, private = params.generate_keypair(
            store=False, capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY
        )
        raw = bytes(private.sign(digest, mechanism=Mechanism.ECDSA))
        point = keys.parse_ec_point(public[Attribute.EC_POINT])
        signature = signature_from_raw(
            digest, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"), point
        )
        verify_for_address(digest, signature, address_of_public_key(point))

    return run
